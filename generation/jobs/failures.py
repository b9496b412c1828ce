"""Readable job failure reasons for errors a stage did not translate into StageError itself.

A stage's own library errors (the script writer, a voice engine, the renderer) carry messages
a person can act on; they used to surface as "Internal error". Known error types map to a
sentence naming the step; anything else is logged with its traceback and stays generic.
Types are matched by dotted name along the MRO, so no stage library is imported here."""
from __future__ import annotations

import errno
import logging
import re

logger = logging.getLogger(__name__)

# dotted exception type -> reason prefix ({detail} = the error's first line, cleaned)
KNOWN_ERRORS: dict[str, str] = {
    "generation.scripts.models.ScriptError": "The ad script could not be written: {detail}",
    "generation.voice.backends.TTSError": "The voice-over could not be generated: {detail}",
    "generation.voice.espeak.EspeakUnavailable": "The voice engine is not available on this worker: {detail}",
    "generation.images.cutout.ProductImageError": "The product image cannot be used: {detail}",
    "generation.video.timeline.TemplateError": "The video template is invalid: {detail}",
    "generation.video.ffmpeg.FFmpegError": "The video encoder failed: {detail}",
    "catalog.ingest.errors.IngestError": "The product page could not be read: {detail}",
    "pydantic_core._pydantic_core.ValidationError": "A step produced data in an unexpected shape ({detail}).",
}
_ABSOLUTE_PATH = re.compile(r"(?<![\w:])/(?:[\w.\-]+/)+([\w.\-]+)")
_MAX_DETAIL = 300


def _detail(exc: BaseException) -> str:
    """The first line of the message, without server paths or control characters, bounded."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = _ABSOLUTE_PATH.sub(r"\1", text)
    text = "".join(ch for ch in text if ch.isprintable())
    return (text[:_MAX_DETAIL] + "…") if len(text) > _MAX_DETAIL else (text or type(exc).__name__)


def stage_failure_reason(*, stage: str, exc: BaseException, job_id: int | None = None) -> str:
    """The job's failure reason for ``exc`` raised by ``stage``; logs it (with the traceback
    when the error is unknown, i.e. a bug)."""
    for cls in type(exc).__mro__:
        template = KNOWN_ERRORS.get(f"{cls.__module__}.{cls.__qualname__}")
        if template:
            logger.warning("video_job.stage_error job=%s stage=%s type=%s", job_id, stage, type(exc).__name__)
            return template.format(detail=_detail(exc))
    if isinstance(exc, MemoryError):
        reason = f"The {stage} step ran out of memory on the worker; try a shorter video."
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        reason = f"The {stage} step ran out of disk space on the worker; the team has been notified."
    elif isinstance(exc, RecursionError):
        reason = f"The {stage} step could not process this input (it is nested too deeply)."
    else:
        reason = f"Internal error during the {stage} step; the team has been notified."
    logger.error("video_job.stage_crashed job=%s stage=%s", job_id, stage, exc_info=exc)
    return reason
