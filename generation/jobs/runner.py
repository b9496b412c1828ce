"""Runs one stage of a job exactly as far as it is safe to: claims it, runs the stage service,
records the result. Redelivered messages (same Celery id) resume; duplicates are dropped."""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .errors import StageError, TransientError
from .failures import stage_failure_reason
from .models import VideoJob
from .services import video_job_enqueue_stage, video_job_fail, video_job_stage_done

logger = logging.getLogger(__name__)


def _claim(*, job_id: int, stage: str, task_id: str) -> VideoJob | None:
    """Mark the stage running in this process; None when this delivery must not run it."""
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished or job.stage != stage:
            return None  # deleted, finished, or an old stage's late duplicate
        fresh = job.heartbeat_at and job.heartbeat_at > timezone.now() - timedelta(
            seconds=settings.GENERATION.stage_deadline_s)
        if job.status == VideoJob.Status.RUNNING and fresh and job.stage_task_id and job.stage_task_id != task_id:
            return None  # another live delivery of this stage owns it (sweeper re-queue race)
        attempts = {**job.attempts, stage: job.attempts.get(stage, 0) + 1}
        job.attempts = attempts
        job.status = VideoJob.Status.RUNNING
        job.worker = f"{socket.gethostname()}:{os.getpid()}"[:120]
        job.stage_task_id = task_id or ""
        job.heartbeat_at = timezone.now()
        job.started_at = job.started_at or timezone.now()
        job.save()
    if attempts[stage] > settings.GENERATION.stage_max_attempts:
        video_job_fail(job=job, reason=f"The {stage} step kept failing ({attempts[stage] - 1} tries).")
        return None
    return job


def video_job_run_stage(*, job_id: int, stage: str, task_id: str = "", final_try: bool = True) -> None:
    """Run ``stage`` of the job (inside its tenant context). Raises TransientError to ask
    for a retry unless ``final_try``; every other failure ends the job with a readable reason."""
    from .pipeline import STAGE_SERVICES

    job = _claim(job_id=job_id, stage=stage, task_id=task_id)
    if job is None:
        return
    logger.info("video_job.stage_start job=%s stage=%s attempt=%s", job.pk, stage, job.attempts[stage])
    started = time.monotonic()
    try:
        outputs = STAGE_SERVICES[stage](job)
    except StageError as exc:
        video_job_fail(job=job, reason=str(exc))
        return
    except TransientError as exc:
        if final_try:
            video_job_fail(job=job, reason=f"The {stage} step failed after retries: {exc}")
            return
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must end the job visibly, not leave it running
        video_job_fail(job=job, reason=stage_failure_reason(stage=stage, exc=exc, job_id=job.pk))
        return
    video_job_stage_done(job_id=job.pk, stage=stage, seconds=time.monotonic() - started, outputs=outputs or {})


def video_job_sweep_workspace(*, now=None) -> dict:
    """Re-queue (or fail) this workspace's jobs whose stage has not reported within the deadline."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.GENERATION.stage_deadline_s)
    counts = {"requeued": 0, "failed": 0}
    stale = VideoJob.objects.filter(status__in=VideoJob.ACTIVE, heartbeat_at__lt=deadline)
    for job in stale:
        if job.attempts.get(job.stage, 0) >= settings.GENERATION.stage_max_attempts:
            video_job_fail(job=job, reason=f"The {job.stage} step timed out repeatedly.")
            counts["failed"] += 1
            continue
        with transaction.atomic():
            VideoJob.objects.filter(pk=job.pk).update(
                heartbeat_at=now, status=VideoJob.Status.QUEUED, stage_task_id="")
            video_job_enqueue_stage(job=job, stage=job.stage)
        counts["requeued"] += 1
    return counts
