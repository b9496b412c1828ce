"""Warm voice per worker process: a pool child that will run voice stages loads the offline
Piper voice when it starts instead of inside a brand's first job (~1–3 s of the first video's
latency, issue 14: "keep a warm pipeline per worker").

It loads in a background thread: Celery kills a pool child whose ``worker_process_init`` takes
longer than ``worker_proc_alive_timeout`` (4 s), and a job that arrives first simply waits on the
same one-time load (``load_piper_voice`` is cached and locked)."""
from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from generation.jobs.models import STAGE_QUEUES

from .backends import load_piper_voice

logger = logging.getLogger(__name__)


def voice_warm_wanted(*, consumed_queues: set[str] | None) -> bool:
    """Whether this process should preload the Piper voice: warming is on
    (``GENERATION_WARM_VOICE``), the offline engine may be Piper (``auto`` or ``piper``), and the
    worker consumes the voice stage's queue (unknown → yes)."""
    gen = settings.GENERATION
    if not gen.warm_voice or gen.tts_backend not in {"auto", "piper"}:
        return False
    return consumed_queues is None or STAGE_QUEUES["voice"] in consumed_queues


def voice_warm() -> bool:
    """Load the configured Piper voice now (once per process). False, logged, when it cannot be
    loaded: the voice stage then reports the real error itself (or falls back, in ``auto``)."""
    started = time.monotonic()
    try:
        load_piper_voice(settings.GENERATION.piper_voice)
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the stage reports failures
        logger.warning("voice.warm_failed error=%s", exc)
        return False
    logger.info("voice.warm_loaded seconds=%.2f", time.monotonic() - started)
    return True


def voice_warm_in_background(*, consumed_queues: set[str] | None) -> threading.Thread | None:
    if not voice_warm_wanted(consumed_queues=consumed_queues):
        return None
    thread = threading.Thread(target=voice_warm, name="voice-warm", daemon=True)
    thread.start()
    return thread
