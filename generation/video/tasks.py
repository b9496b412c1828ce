"""Thin Celery tasks of video editing: ids in, tenant context entered, the service works."""
from __future__ import annotations

from celery import shared_task

from tenancy.context import tenant_context


# The name keeps its historic "dashboard." prefix: messages already queued under it must still run.
@shared_task(name="dashboard.video_job_rerender", acks_late=True, reject_on_worker_lost=True)
def video_job_rerender_task(workspace_id: int, job_id: int, revision: int) -> None:
    """Render an edited timeline revision; idempotent (a redelivery of a done revision is a no-op)."""
    from .services import video_job_rerender_run

    with tenant_context(workspace_id):
        video_job_rerender_run(job_id=job_id, revision=revision)
