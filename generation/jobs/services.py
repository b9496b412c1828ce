"""Writes for video jobs: create (reserving a credit), cancel, and stage bookkeeping."""
from __future__ import annotations

import logging
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from tenancy.context import tenant_context
from tenancy.managers import tenant_insert
from tenancy.models import Brand, Workspace
from tenancy.services import audit_log_write, credit_commit, credit_refund, credit_reserve

from .dispatch import job_dispatch_priority
from .errors import QueueUnavailable
from .models import PARALLEL_STAGES, STAGE_QUEUES, STAGES, STAGE_WEIGHTS, VideoJob
from .signals import job_finished, stage_finished

logger = logging.getLogger(__name__)
ASPECTS = ("9:16", "1:1", "16:9")
# No language chosen: the ingest stage picks it from the product (a Chinese page gets a Chinese
# script and voice), else the brand's language. An explicit choice always wins.
LANGUAGE_AUTO = "auto"
# What a publish raises when the broker is down or unreachable (Celery wraps the transport's
# connection errors in kombu's OperationalError; the rest are the raw socket failures).
BROKER_ERRORS = (BrokerOperationalError, ConnectionError, TimeoutError, OSError)
STAGE_TASK = "generation.video_job_stage"
QUEUE_DOWN_REASON = "The video queue was unavailable when this job was created; nothing was charged. Please try again."


def _credit_ref(job: VideoJob) -> str:
    return f"video_job:{job.pk}"


def _publish(*, workspace_id: int, job_id: int, stage: str, countdown: float | None = None,
             priority: int = 0) -> bool:
    """Send one stage message at its fair-dispatch level; False (logged) when the broker
    cannot take it."""
    options = {"queue": STAGE_QUEUES[stage], "priority": priority}
    if countdown:
        options["countdown"] = countdown
    try:
        # By name from Celery's registry (the StageTask instance tasks.py registers), so this
        # module never imports tasks -> runner -> services back.
        current_app.tasks[STAGE_TASK].apply_async(args=(workspace_id, job_id, stage), **options)
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
    # The level is read now, inside the caller's transaction and tenant (RLS), not in the
    # on-commit callback, which may run after the tenant context is gone.
    priority = job_dispatch_priority(job=job)

    def publish() -> None:
        if not _publish(workspace_id=workspace_id, job_id=job_id, stage=stage, countdown=countdown,
                        priority=priority) and on_failure:
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

    # No savepoint inside a caller's transaction (two round trips per job): a failure here
    # (InsufficientCredits, a database error) must undo the whole caller's transaction or the
    # caller's own savepoint anyway (the API batch, campaign runs and dashboard wrap it so).
    with tenant_context(workspace), transaction.atomic(savepoint=False):
        job = tenant_insert(VideoJob(  # VideoJob.objects.create with the INSERT compiled once
            workspace=workspace, brand=brand, product_url=product_url,
            template=template or brand.default_template, aspect=aspect,
            language=language or LANGUAGE_AUTO, duration_s=duration_s,
            created_by=created_by if getattr(created_by, "pk", None) else None,
            stage=STAGES[0], heartbeat_at=timezone.now(), **(options or {})))
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


def video_job_fail(*, job: VideoJob, reason: str, stage: str | None = None) -> None:
    """Mark failed with a readable reason and give the credit back (once). ``stage`` names the
    failing step when it is one of two running side by side (the failure code says which)."""
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return
        job.status = VideoJob.Status.FAILED
        job.failure_reason = reason[:2000]
        job.finished_at = timezone.now()
        job.stage = stage or job.stage
        job.save(update_fields=["status", "failure_reason", "finished_at", "stage"])
        credit_refund(workspace=job.workspace, reference=_credit_ref(job))
        transaction.on_commit(lambda: job_finished.send(sender=VideoJob, job=job))
    logger.warning("video_job.failed job=%s stage=%s reason=%s", job.pk, job.stage, reason)


def _progress(timings: dict) -> int:
    return round(100 * sum(STAGE_WEIGHTS[s] for s in timings if s in STAGE_WEIGHTS) / sum(STAGE_WEIGHTS.values()))


def branch_state(*, state: str, worker: str = "", task_id: str = "", now=None, started_at=None) -> dict:
    """One side-by-side stage's holder record in ``VideoJob.branches`` (times as ISO text;
    ``heartbeat_at`` is the last beat when running, the queueing time when queued)."""
    now = now or timezone.now()
    return {"state": state, "worker": worker, "task_id": task_id, "heartbeat_at": now.isoformat(),
            "started_at": started_at.isoformat() if started_at else None}


def branches_status(branches: dict) -> str:
    """The job-level status while stages run side by side: RUNNING if any of them runs."""
    running = any(b.get("state") == "running" for b in branches.values())
    return VideoJob.Status.RUNNING if running else VideoJob.Status.QUEUED


def video_job_branches_start(*, job: VideoJob) -> list[str]:
    """(Row locked by the caller, who saves the row and queues the returned stages, each as its
    own message.) Mark every side-by-side stage not done yet as queued; the render waits until
    all are done (``video_job_stage_done`` counts them)."""
    now = timezone.now()
    job.branches = {s: branch_state(state="done", now=now) if s in job.timings else branch_state(state="queued", now=now)
                    for s in PARALLEL_STAGES}
    pending = [s for s in PARALLEL_STAGES if job.branches[s]["state"] != "done"]
    job.stage, job.status, job.heartbeat_at = pending[0], VideoJob.Status.QUEUED, now
    job.worker = job.stage_task_id = ""
    return pending


def _branch_done(job: VideoJob, stage: str, worker: str | None) -> bool | None:
    """(Row locked.) Mark a side-by-side stage done. None: this run no longer holds it (taken
    over after a stale heartbeat, or the job ended) — record nothing. True: it was the last
    one (the render is next). False: another is still queued or running."""
    branch = job.branches.get(stage) or {}
    if job.is_finished or branch.get("state") != "running" or (worker is not None and branch.get("worker") != worker):
        return None
    job.branches = {**job.branches, stage: {**branch, "state": "done", "worker": "",
                                            "finished_at": timezone.now().isoformat()}}
    pending = [s for s in PARALLEL_STAGES if job.branches.get(s, {}).get("state") != "done"]
    if not pending:
        return True
    job.stage, job.status = pending[0], branches_status({s: job.branches[s] for s in pending})
    return False


def video_job_stage_done(*, job_id: int, stage: str, seconds: float, outputs: dict,
                         cpu_seconds: float | None = None, worker: str | None = None) -> VideoJob:
    """Record a finished stage and queue the next one(s), or finish the job and keep its credit.
    After the script, voice and shots are queued together; the render is queued exactly once,
    by whichever of them finishes last (counted under the job's row lock)."""
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job_id)
        joined = _branch_done(job, stage, worker) if stage in PARALLEL_STAGES and job.branches else True
        if joined is None:
            logger.warning("video_job.branch_superseded job=%s stage=%s worker=%s", job_id, stage, worker)
            return job
        job.timings = {**job.timings, stage: round(seconds, 3)}
        if cpu_seconds is not None:
            job.cpu_timings = {**job.cpu_timings, stage: round(cpu_seconds, 3)}
        job.outputs = {**job.outputs, **outputs}
        job.progress = _progress(job.timings)
        finished = stage == STAGES[-1]
        next_stages: list[str] = []
        if finished:
            job.status = VideoJob.Status.SUCCEEDED
            job.finished_at = timezone.now()
            credit_commit(workspace=job.workspace, reference=_credit_ref(job))
        elif stage == "script":
            next_stages = video_job_branches_start(job=job)
        elif joined:
            job.stage = "render" if stage in PARALLEL_STAGES else STAGES[STAGES.index(stage) + 1]
            job.status = VideoJob.Status.QUEUED
            job.heartbeat_at = timezone.now()
            next_stages = [job.stage]
        if stage not in PARALLEL_STAGES or joined:
            job.worker = ""
            job.stage_task_id = ""
        job.save()
        # Signal before queueing the next stage: with an in-process (eager) worker the next
        # stage runs inside its on_commit callback, and progress must print in order.
        transaction.on_commit(lambda: stage_finished.send(sender=VideoJob, job=job, stage=stage, seconds=seconds))
        if finished:
            transaction.on_commit(lambda: job_finished.send(sender=VideoJob, job=job))
        for next_stage in next_stages:
            video_job_enqueue_stage(job=job, stage=next_stage)
    logger.info("video_job.stage_done job=%s stage=%s seconds=%.2f", job_id, stage, seconds)
    return job
