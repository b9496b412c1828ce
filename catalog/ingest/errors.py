"""Errors raised by ingestion, with messages meant for the person who pasted the link."""
from __future__ import annotations


class IngestError(Exception):
    """Ingest failed for a reason a person can read.

    ``transient`` tells the caller (a job, a Celery retry policy) whether retrying later may
    help (timeouts, 5xx, rate limits) or not (blocked address, no product on the page).
    """

    def __init__(self, message: str, *, transient: bool = False, code: str = "ingest_failed"):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.code = code

    def __str__(self) -> str:
        return self.message


class UnsafeURLError(IngestError):
    """The URL points somewhere the platform must not fetch (SSRF guard)."""

    def __init__(self, message: str):
        super().__init__(message, transient=False, code="unsafe_url")
