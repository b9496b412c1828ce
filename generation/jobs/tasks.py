"""Thin Celery tasks for video jobs: ids in, tenant context entered, the runner does the work."""
from __future__ import annotations

import logging

from celery import shared_task

from tenancy.context import tenant_context
from tenancy.models import Workspace

from .errors import TransientError
from .runner import video_job_run_stage, video_job_sweep_workspace

logger = logging.getLogger(__name__)
MAX_RETRIES = 2  # transient retries; the runner also caps total starts per stage


@shared_task(name="generation.video_job_stage", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=MAX_RETRIES)
def video_job_stage_task(self, workspace_id: int, job_id: int, stage: str) -> None:
    """One stage of one job. Idempotent: a redelivery resumes, a duplicate is a no-op."""
    with tenant_context(workspace_id):
        try:
            video_job_run_stage(job_id=job_id, stage=stage, task_id=self.request.id or "",
                                final_try=self.request.retries >= MAX_RETRIES)
        except TransientError as exc:
            raise self.retry(exc=exc, countdown=min(60, 2 ** (self.request.retries + 1)))


@shared_task(name="generation.video_job_sweep", acks_late=True)
def video_job_sweep_task() -> dict:
    """Periodic (beat): re-queue jobs stuck past their deadline, workspace by workspace."""
    totals = {"requeued": 0, "failed": 0}
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        with tenant_context(workspace_id):
            for key, value in video_job_sweep_workspace().items():
                totals[key] += value
    if any(totals.values()):
        logger.warning("video_job.sweep %s", totals)
    return totals
