"""Endpoint management shared by the API (/api/v1/webhooks) and the dashboard's Webhooks
page: one place for URL validation (the SSRF guard), create (secret shown once), rotation
with overlap, update, delete and `send test`."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import WebhookDelivery, WebhookEndpoint
from catalog.ingest.ssrf import check_url
from tenancy.context import tenant_context
from tenancy.models import Workspace
from tenancy.services import audit_log_write

from .events import webhook_event_emit
from .signing import new_nonce, secret_for


class EndpointDisabled(Exception):
    """The endpoint is disabled; re-enable it before sending to it."""


def webhook_url_check(url: str) -> str:
    """Raise ``UnsafeURLError`` for a URL the delivery guard would refuse (checked again at
    every connect: DNS may change)."""
    check_url(url, allowed_hosts=settings.WEBHOOK_SSRF_ALLOWED_HOSTS)
    return url


def webhook_endpoint_create(*, workspace: Workspace, url: str, events: list[str], description: str = "",
                            actor=None, api_key=None) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it with its signing secret (shown once, never stored)."""
    with tenant_context(workspace), transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(workspace=workspace, url=url, events=list(events),
                                                  description=description, secret_nonce=new_nonce())
        audit_log_write(workspace=workspace, action="webhook_endpoint.created", actor=actor, api_key=api_key,
                        target=str(endpoint.pk), data={"url": endpoint.url})
    return endpoint, secret_for(endpoint.secret_nonce)


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, changes: dict, actor=None, api_key=None) -> WebhookEndpoint:
    """Apply ``changes`` (url, events, description, is_active); re-enabling clears the failure state."""
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("is_active"):
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.consecutive_failures = None, "", 0
    elif changes.get("is_active") is False and endpoint.disabled_at is None:
        endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), "Disabled by a user"
    with tenant_context(endpoint.workspace_id), transaction.atomic():
        endpoint.save()
        audit_log_write(workspace=endpoint.workspace, action="webhook_endpoint.updated", actor=actor,
                        api_key=api_key, target=str(endpoint.pk), data={k: str(v) for k, v in changes.items()})
    return endpoint


def webhook_endpoint_rotate(*, endpoint: WebhookEndpoint, actor=None, api_key=None) -> tuple[WebhookEndpoint, str]:
    """New secret (returned, shown once); the old one keeps signing for WEBHOOK_ROTATION_OVERLAP_S."""
    with tenant_context(endpoint.workspace_id), transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, workspace_id=endpoint.workspace_id)
        endpoint.previous_secret_nonce = endpoint.secret_nonce
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(seconds=settings.WEBHOOK_ROTATION_OVERLAP_S)
        endpoint.secret_nonce = new_nonce()
        endpoint.save(update_fields=["previous_secret_nonce", "previous_secret_expires_at", "secret_nonce"])
        audit_log_write(workspace=endpoint.workspace, action="webhook_endpoint.rotated", actor=actor,
                        api_key=api_key, target=str(endpoint.pk))
    return endpoint, secret_for(endpoint.secret_nonce)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor=None, api_key=None) -> None:
    pk = endpoint.pk
    with tenant_context(endpoint.workspace_id), transaction.atomic():
        endpoint.delete()
        audit_log_write(workspace=endpoint.workspace, action="webhook_endpoint.deleted", actor=actor,
                        api_key=api_key, target=str(pk))


def webhook_endpoint_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a `webhook.test` event to this endpoint only; returns its delivery."""
    if not endpoint.is_active:
        raise EndpointDisabled("This endpoint is disabled; re-enable it first.")
    event = webhook_event_emit(workspace=endpoint.workspace, event_type="webhook.test",
                               data={"endpoint": endpoint.pk, "message": "Hello from AdFactory"},
                               endpoints=[endpoint])
    with tenant_context(endpoint.workspace_id):
        return event.deliveries.get()
