"""Thin Celery tasks of the API: webhook attempts and sweepers, product ingestion."""
from __future__ import annotations

import logging

from celery import shared_task

from tenancy.context import tenant_context
from tenancy.models import Workspace

logger = logging.getLogger(__name__)


@shared_task(name="api.webhook_attempt", acks_late=True, reject_on_worker_lost=True, queue="default")
def webhook_attempt_task(workspace_id: int, delivery_id: int, attempt: int) -> str:
    """One delivery attempt. Duplicate messages for the same attempt are no-ops."""
    from .webhooks.delivery import webhook_attempt_run

    with tenant_context(workspace_id):
        return webhook_attempt_run(delivery_id=delivery_id, attempt=attempt)


@shared_task(name="api.webhook_deliveries_due", queue="default")
def webhook_deliveries_due_task() -> int:
    """Periodic (beat): queue due retries and recover stuck attempts, workspace by workspace."""
    from .webhooks.delivery import webhook_deliveries_due

    total = 0
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        with tenant_context(workspace_id):
            total += webhook_deliveries_due()
    return total


@shared_task(name="api.idempotency_keys_purge", queue="default")
def idempotency_keys_purge_task() -> int:
    """Periodic (beat): drop idempotency keys past their 24 h retention."""
    from .idempotency import idempotency_keys_purge

    total = 0
    for workspace in Workspace.objects.all():
        with tenant_context(workspace):
            total += idempotency_keys_purge(workspace=workspace)
    return total


@shared_task(name="api.product_ingestion", acks_late=True, reject_on_worker_lost=True, queue="default")
def product_ingestion_task(workspace_id: int, ingestion_id: int) -> str:
    """Ingest one product link for `POST /products`; emits `product.ingested` on success."""
    from .products import product_ingestion_run

    with tenant_context(workspace_id):
        return product_ingestion_run(ingestion_id=ingestion_id)
