"""Events and their deliveries. ``webhook_event_emit`` records the event and one delivery
per subscribed, active endpoint, and queues the first attempts after commit."""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tenancy.context import tenant_context
from tenancy.models import Workspace

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "video.succeeded",
    "video.failed",
    "video.canceled",
    "product.ingested",
    "lora.ready",
    "campaign.run.completed",
    "webhook.test",
)


class UnknownEventType(ValueError):
    """Not one of EVENT_TYPES (a programming error in the caller)."""


def event_payload(event: WebhookEvent) -> dict:
    """The JSON body receivers get (Standard Webhooks' recommended shape)."""
    return {"id": event.public_id, "type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data}


def webhook_event_emit(*, workspace: Workspace, event_type: str, data: dict,
                       endpoints: list[WebhookEndpoint] | None = None) -> WebhookEvent:
    """Record ``event_type`` for ``workspace`` and deliver it to every active endpoint that
    subscribes to it (or only to ``endpoints``). Safe inside a transaction: attempts are
    queued on commit, so a rolled-back change sends nothing."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(f"unknown webhook event type {event_type!r}")
    with tenant_context(workspace), transaction.atomic():
        event = WebhookEvent.objects.create(workspace=workspace, type=event_type, data=data)
        targets = endpoints if endpoints is not None else [
            e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event_type)]
        deliveries = WebhookDelivery.objects.bulk_create([
            WebhookDelivery(workspace=workspace, event=event, endpoint=e, next_attempt_at=timezone.now())
            for e in targets])
        for delivery in deliveries:
            delivery_enqueue(delivery=delivery, attempt=1)
    logger.info("webhook.event type=%s event=%s workspace=%s deliveries=%s",
                event_type, event.public_id, workspace.pk, len(deliveries))
    return event


def delivery_enqueue(*, delivery: WebhookDelivery, attempt: int, countdown: float = 0) -> None:
    """Queue attempt number ``attempt`` after the current transaction commits."""
    from django.conf import settings

    from api.tasks import webhook_attempt_task

    args, queue = (delivery.workspace_id, delivery.pk, attempt), settings.WEBHOOK_QUEUE
    transaction.on_commit(lambda: webhook_attempt_task.apply_async(args=args, countdown=countdown, queue=queue))
