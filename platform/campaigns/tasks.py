"""Thin Celery tasks for campaigns: ids in, the tenant entered, the run services do the work."""
from __future__ import annotations

import logging

from celery import shared_task

from tenancy.context import tenant_context

from .runs import RunReadRetry, campaign_run_execute, campaign_tick

logger = logging.getLogger(__name__)


@shared_task(name="campaigns.tick", acks_late=True, ignore_result=True)
def campaign_tick_task() -> dict:
    """Periodic (beat): claim due campaigns and look after unfinished runs. Safe to run from
    several beats at once (row locks + the unique run key)."""
    totals = campaign_tick()
    if totals.get("claimed") or totals.get("requeued"):
        logger.info("campaign.tick %s", totals)
    return totals


@shared_task(name="campaigns.run_execute", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=5, ignore_result=True)
def campaign_run_execute_task(self, workspace_id: int, run_id: int) -> None:
    """Read, plan and start one run. Idempotent: a redelivery or duplicate only advances it."""
    with tenant_context(workspace_id):
        try:
            campaign_run_execute(run_id=run_id, task_id=self.request.id or "")
        except RunReadRetry as exc:
            raise self.retry(exc=exc, countdown=exc.countdown)
