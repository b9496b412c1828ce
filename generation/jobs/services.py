"""Writes for video jobs: create (reserving a credit), cancel, and stage bookkeeping."""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from tenancy.context import tenant_context
from tenancy.models import Brand, Workspace
from tenancy.services import audit_log_write, credit_commit, credit_refund, credit_reserve

from .errors import QueueUnavailable
from .models import STAGE_QUEUES, STAGES, STAGE_WEIGHTS, VideoJob
from .signals import job_finished, stage_finished

logger = logging.getLogger(__name__)
ASPECTS = ("9:16", "1:1", "16:9")
# No language chosen: the ingest stage picks it from the product (a Chinese page gets a Chinese
# script and voice), else the brand's language. An explicit choice always wins.
LANGUAGE_AUTO = "auto"
# What a publish raises when the broker is down or unreachable (Celery wraps the transport's
# connection errors in kombu's OperationalError; the rest are the raw socket failures).
BROKER_ERRORS = (BrokerOperationalError, ConnectionError, TimeoutError, OSError)
QUEUE_DOWN_REASON = "The video queue was unavailable when this job was created; nothing was charged. Please try again."


def _credit_ref(job: VideoJob) -> str:
    return f"video_job:{job.pk}"


def _publish(*, workspace_id: int, job_id: int, stage: str, countdown: float | None = None) -> bool:
    """Send one stage message; False (logged) when the broker cannot take it."""
    from .tasks import video_job_stage_task

    options = {"queue": STAGE_QUEUES[stage]}
    if countdown:
        options["countdown"] = countdown
    try:
        video_job_stage_task.apply_async(args=(workspace_id, job_id, stage), **options)
    except BROKER_ERRORS as exc:
        logger.error("video_job.enqueue_failed job=%s stage=%s error=%s", job_id, stage, type(exc).__name__)
        return False
    return True


def video_job_enqueue_stage(*, job: VideoJob, stage: str, countdown: float | None = None,
                            on_failure: Callable[[], None] | None = None) -> None:
    """Queue ``stage`` after the current transaction commits (never before the row exists).

    When the broker is down the job row stays QUEUED and is itself the outbox: the sweeper
    sends it again once its ``heartbeat_at`` is older than ``queued_stale_s`` — unless
    ``on_failure`` handles it (job creation refuses the job instead, see video_job_create)."""
    workspace_id, job_id = job.workspace_id, job.pk

    def publish() -> None:
        if not _publish(workspace_id=workspace_id, job_id=job_id, stage=stage, countdown=countdown) and on_failure:
            on_failure()

    transaction.on_commit(publish)


def video_job_create(*, workspace: Workspace, brand: Brand, product_url: str, template: str | None = None,
                     aspect: str = "9:16", language: str | None = None, duration_s: int = 15,
                     created_by=None, api_key=None, options: dict | None = None) -> VideoJob:
    """Create a job, hold its credit and queue the first stage after commit. ``options`` are
    further VideoJob fields set in the same INSERT (request_id, variant, voice, music, ...).

    Raises QueueUnavailable when the broker refuses the first stage: the job is then failed
    and its credit released in the same call, so nothing is charged (the API answers 503).
    Inside an outer transaction the refusal happens at the outer commit and cannot raise."""
    refused: list[bool] = []

    def refuse() -> None:
        refused.append(True)
        with tenant_context(workspace):
            video_job_fail(job=job, reason=QUEUE_DOWN_REASON)

    with tenant_context(workspace), transaction.atomic():
        job = VideoJob.objects.create(
            workspace=workspace, brand=brand, product_url=product_url,
            template=template or brand.default_template, aspect=aspect,
            language=language or LANGUAGE_AUTO, duration_s=duration_s,
            created_by=created_by if getattr(created_by, "pk", None) else None,
            stage=STAGES[0], heartbeat_at=timezone.now(), **(options or {}))
        credit_reserve(workspace=workspace, amount=settings.CREDITS_PER_VIDEO, reference=_credit_ref(job))
        audit_log_write(workspace=workspace, action="video_job.created", actor=created_by, api_key=api_key,
                        target=str(job.pk), data={"url": product_url, "template": job.template, "aspect": aspect})
        video_job_enqueue_stage(job=job, stage=STAGES[0], on_failure=refuse)
    if refused:
        raise QueueUnavailable(job_id=job.pk)
    logger.info("video_job.created job=%s workspace=%s", job.pk, workspace.pk)
    return job


def video_job_cancel(*, job: VideoJob, actor=None) -> VideoJob:
    with tenant_context(job.workspace_id), transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.status = VideoJob.Status.CANCELED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        credit_refund(workspace=job.workspace, reference=_credit_ref(job))
        audit_log_write(workspace=job.workspace, action="video_job.canceled", actor=actor, target=str(job.pk))
        transaction.on_commit(lambda: job_finished.send(sender=VideoJob, job=job))  # → video.canceled webhook
    return job


def video_job_fail(*, job: VideoJob, reason: str) -> None:
    """Mark failed with a readable reason and give the credit back (once)."""
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return
        job.status = VideoJob.Status.FAILED
        job.failure_reason = reason[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "failure_reason", "finished_at"])
        credit_refund(workspace=job.workspace, reference=_credit_ref(job))
        transaction.on_commit(lambda: job_finished.send(sender=VideoJob, job=job))
    logger.warning("video_job.failed job=%s stage=%s reason=%s", job.pk, job.stage, reason)


def video_job_stage_done(*, job_id: int, stage: str, seconds: float, outputs: dict,
                         cpu_seconds: float | None = None) -> VideoJob:
    """Record a finished stage and queue the next one, or finish the job and keep its credit."""
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job_id)
        job.timings = {**job.timings, stage: round(seconds, 3)}
        if cpu_seconds is not None:
            job.cpu_timings = {**job.cpu_timings, stage: round(cpu_seconds, 3)}
        job.outputs = {**job.outputs, **outputs}
        done = STAGES[: STAGES.index(stage) + 1]
        job.progress = round(100 * sum(STAGE_WEIGHTS[s] for s in done) / sum(STAGE_WEIGHTS.values()))
        finished = stage == STAGES[-1]
        if finished:
            job.status = VideoJob.Status.SUCCEEDED
            job.finished_at = timezone.now()
            credit_commit(workspace=job.workspace, reference=_credit_ref(job))
        else:
            job.stage = STAGES[STAGES.index(stage) + 1]
            job.status = VideoJob.Status.QUEUED
            job.heartbeat_at = timezone.now()
        job.worker = ""
        job.stage_task_id = ""
        job.save()
        # Signal before queueing the next stage: with an in-process (eager) worker the next
        # stage runs inside its on_commit callback, and progress must print in order.
        transaction.on_commit(lambda: stage_finished.send(sender=VideoJob, job=job, stage=stage, seconds=seconds))
        if finished:
            transaction.on_commit(lambda: job_finished.send(sender=VideoJob, job=job))
        else:
            video_job_enqueue_stage(job=job, stage=job.stage)
    logger.info("video_job.stage_done job=%s stage=%s seconds=%.2f", job_id, stage, seconds)
    return job
