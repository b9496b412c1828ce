"""Signal receivers: a finished video job advances the campaign run that made it."""
from __future__ import annotations

import logging

from tenancy.context import tenant_context

logger = logging.getLogger(__name__)


def on_job_finished(sender, job, **kwargs) -> None:
    """Release the run's next queued items and complete the run when all are done. Never
    raises: a campaign problem must not break the job that finished (the tick retries)."""
    from .models import CampaignRunItem
    from .runs import campaign_run_advance

    try:
        with tenant_context(job.workspace_id):
            run_id = CampaignRunItem.objects.filter(job_id=job.pk).values_list("run_id", flat=True).first()
            if run_id is not None:
                campaign_run_advance(run_id=run_id)
    except Exception:  # noqa: BLE001 - see docstring
        logger.exception("campaign.advance_failed job=%s", job.pk)
