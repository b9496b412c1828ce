"""Errors a stage raises to tell the job runner what to do next."""


class StageError(Exception):
    """Permanent failure with a message a user can read (bad link, no product image...)."""


class TransientError(Exception):
    """A retry may succeed (network hiccup, worker resource busy)."""
