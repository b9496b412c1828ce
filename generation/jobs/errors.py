"""Errors a stage raises to tell the job runner what to do next."""


class StageError(Exception):
    """Permanent failure with a message a user can read (bad link, no product image...)."""


class TransientError(Exception):
    """A retry may succeed (network hiccup, worker resource busy)."""


class QueueUnavailable(Exception):
    """The job queue (broker) could not take a new job. The job was failed and its credit
    released, so nothing is charged; the caller may retry after ``retry_after`` seconds."""

    def __init__(self, message: str = "The video queue is unavailable right now; nothing was charged. "
                                      "Please try again shortly.", *, retry_after: int = 30, job_id: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.job_id = job_id
