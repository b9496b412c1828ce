"""Thin Celery tasks for video jobs: ids in, tenant context entered, the runner does the work."""
from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings

from tenancy.context import tenant_context
from tenancy.models import Workspace

from .errors import TransientError
from .runner import video_job_run_stage, video_job_stage_timed_out, video_job_sweep_workspace
from .services import STAGE_TASK

logger = logging.getLogger(__name__)
MAX_RETRIES = 2  # transient retries; the runner also caps total starts per stage
# Celery's own soft limit is a backstop a little after the runner's (which gives the reason).
SOFT_LIMIT_SLACK_S = 5


class StageTask(Task):
    """Every send of a stage message (services, retries, the sweeper) carries that stage's time
    limits; a hard-limit kill of a pool child ends the job with a readable reason."""

    def apply_async(self, args=None, kwargs=None, **options):
        if args and len(args) == 3 and "time_limit" not in options:
            soft, hard = settings.GENERATION.stage_limits(args[2])
            options.setdefault("soft_time_limit", soft + SOFT_LIMIT_SLACK_S)
            options["time_limit"] = max(hard, soft + SOFT_LIMIT_SLACK_S + 1)
        return super().apply_async(args=args, kwargs=kwargs, **options)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Called in the worker's main process when the child was killed at the hard limit.
        if isinstance(exc, TimeLimitExceeded) and args and len(args) == 3:
            workspace_id, job_id, stage = args
            logger.error("video_job.hard_time_limit job=%s stage=%s", job_id, stage)
            with tenant_context(workspace_id):
                video_job_stage_timed_out(job_id=job_id, stage=stage)


@shared_task(name=STAGE_TASK, bind=True, base=StageTask, acks_late=True,
             reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def video_job_stage_task(self, workspace_id: int, job_id: int, stage: str) -> str:
    """One stage of one job. Idempotent: a redelivery resumes, a duplicate is a no-op."""
    with tenant_context(workspace_id):
        try:
            return video_job_run_stage(job_id=job_id, stage=stage, task_id=self.request.id or "",
                                       final_try=self.request.retries >= MAX_RETRIES)
        except TransientError as exc:
            raise self.retry(exc=exc, countdown=min(60, 2 ** (self.request.retries + 1)))


@shared_task(name="generation.video_job_sweep", acks_late=True)
def video_job_sweep_task() -> dict:
    """Periodic (beat): re-queue jobs whose worker is gone, workspace by workspace."""
    totals = {"requeued": 0, "failed": 0}
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        with tenant_context(workspace_id):
            for key, value in video_job_sweep_workspace().items():
                totals[key] += value
    if any(totals.values()):
        logger.warning("video_job.sweep %s", totals)
    return totals
