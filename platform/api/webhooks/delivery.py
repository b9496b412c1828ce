"""Delivery attempts: one Celery task per attempt, SSRF-guarded POST to the checked address,
10 s budget, no redirects, retries with exponential backoff + jitter over ~27 h, endpoints
disabled after a run of failures (audit row + email to the workspace's owners/admins)."""
from __future__ import annotations

import json
import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from catalog.ingest.errors import UnsafeURLError
from catalog.ingest.outbound import OutboundError
from catalog.ingest.outbound import guarded_post as shared_guarded_post
from tenancy.models import Membership
from tenancy.services import audit_log_write

from .events import delivery_enqueue, event_payload
from .signing import signed_headers

logger = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 64 * 1024
COUNTDOWN_MAX_S = 300  # longer waits are picked up by the due-deliveries sweeper (beat)
SWEEP_GRACE_S = 30


class DeliveryError(Exception):
    """The attempt failed before an HTTP status was received (refused address, timeout...)."""


def guarded_post(url: str, *, body: bytes, headers: dict, timeout: float) -> tuple[int, bytes]:
    """POST through the shared SSRF-guarded sender (catalog.ingest.outbound): the checked IP is
    the one connected to, redirects are never followed, one wall-clock deadline for the whole
    exchange. Failures before a status become DeliveryError."""
    try:
        response = shared_guarded_post(url, body=body, headers=headers, timeout_s=timeout,
                                       max_response_bytes=MAX_RESPONSE_BYTES,
                                       allowed_hosts=settings.WEBHOOK_SSRF_ALLOWED_HOSTS)
    except UnsafeURLError as exc:
        raise DeliveryError(str(exc)) from exc
    except OutboundError as exc:
        raise DeliveryError(exc.message) from exc
    return response.status, response.body_prefix


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> float | None:
    """Seconds to wait after failed attempt ``attempt`` (1-based), ±20 % jitter; None: give up."""
    delays = settings.WEBHOOK_RETRY_DELAYS_S
    if attempt > len(delays):
        return None
    return delays[attempt - 1] * (rng or random).uniform(0.8, 1.2)


def _claim(delivery_id: int, attempt: int) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update().select_related("endpoint", "event")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING or delivery.attempts != attempt - 1:
            return None  # a duplicate message or an already-finished delivery
        if not delivery.endpoint.is_active:
            delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, "endpoint disabled"
            delivery.save(update_fields=["status", "last_error"])
            return None
        delivery.status, delivery.attempts = WebhookDelivery.Status.SENDING, attempt
        delivery.save(update_fields=["status", "attempts"])
    return delivery


def webhook_attempt_run(*, delivery_id: int, attempt: int) -> str:
    """Run attempt ``attempt`` of one delivery (inside its tenant context). Idempotent: a
    duplicate message for the same attempt does nothing. Returns the resulting status."""
    delivery = _claim(delivery_id, attempt)
    if delivery is None:
        return "skipped"
    body = json.dumps(event_payload(delivery.event), separators=(",", ":"), ensure_ascii=False)
    headers = signed_headers(endpoint=delivery.endpoint, msg_id=delivery.event.public_id, body=body)
    started = time.monotonic()
    code, error = None, ""
    try:
        code, _ = guarded_post(delivery.endpoint.url, body=body.encode(), headers=headers,
                               timeout=settings.WEBHOOK_TIMEOUT_S)
        if not 200 <= code < 300:
            error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    except DeliveryError as exc:
        error = str(exc)[:300]
    latency_ms = int((time.monotonic() - started) * 1000)
    _record(delivery=delivery, attempt=attempt, code=code, error=error, latency_ms=latency_ms)
    return delivery.status


def _record(*, delivery: WebhookDelivery, attempt: int, code: int | None, error: str, latency_ms: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(workspace_id=delivery.workspace_id, delivery=delivery, number=attempt,
                                      status_code=code, latency_ms=latency_ms, error=error)
        delivery.last_status_code, delivery.last_latency_ms, delivery.last_error = code, latency_ms, error
        endpoint = delivery.endpoint
        if not error:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, now, None
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        else:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
            endpoint.refresh_from_db(fields=["consecutive_failures", "is_active"])
            delay = retry_delay(attempt)
            if delay is None:
                delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            else:
                delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, now + timedelta(seconds=delay)
                if delay <= COUNTDOWN_MAX_S:
                    delivery_enqueue(delivery=delivery, attempt=attempt + 1, countdown=delay)
            if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
                webhook_endpoint_disable(endpoint=endpoint, reason=f"{endpoint.consecutive_failures} failed "
                                                                   f"attempts in a row (last: {error})")
        delivery.save(update_fields=["status", "next_attempt_at", "delivered_at", "last_status_code",
                                     "last_latency_ms", "last_error"])
    logger.info("webhook.attempt delivery=%s attempt=%s code=%s latency_ms=%s status=%s error=%s",
                delivery.pk, attempt, code, latency_ms, delivery.status, error)


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Switch an endpoint off, fail its pending deliveries, and tell the workspace's owners."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_at=now, disabled_reason=reason[:300])
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:300]
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled", next_attempt_at=None)
    audit_log_write(workspace=endpoint.workspace, action="webhook_endpoint.disabled", target=str(endpoint.pk),
                    data={"url": endpoint.url, "reason": reason[:300]})
    emails = [m.user.email for m in Membership.objects.filter(
        workspace_id=endpoint.workspace_id, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).select_related("user") if m.user.email]
    if emails:
        transaction.on_commit(lambda: send_mail(
            "Webhook endpoint disabled", f"Deliveries to {endpoint.url} kept failing, so the endpoint was "
            f"disabled: {reason}\nFix the receiver, then re-enable it (PATCH /api/v1/webhooks/{endpoint.pk}).",
            None, emails, fail_silently=True))
    logger.warning("webhook.endpoint_disabled endpoint=%s workspace=%s reason=%s",
                   endpoint.pk, endpoint.workspace_id, reason)


def webhook_deliveries_due(*, now=None) -> int:
    """For the current workspace: queue attempts that are due (long waits, lost messages) and
    recover attempts whose worker died mid-send. Returns how many were queued."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.WEBHOOK_TIMEOUT_S + 60)
    WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING, next_attempt_at__lt=stuck_before).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now)
    queued = 0
    with transaction.atomic():
        due = (WebhookDelivery.objects.select_for_update(skip_locked=True)
               .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now - timedelta(seconds=SWEEP_GRACE_S)))
        for delivery in due[:500]:
            # Pushed forward so the next sweep does not queue it again while the message waits.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + timedelta(seconds=60))
            delivery_enqueue(delivery=delivery, attempt=delivery.attempts + 1)
            queued += 1
    return queued


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Manual redelivery: a new delivery of the same event (same `webhook-id`) to the same endpoint."""
    with transaction.atomic():
        again = WebhookDelivery.objects.create(workspace_id=delivery.workspace_id, event=delivery.event,
                                               endpoint=delivery.endpoint, next_attempt_at=timezone.now())
        delivery_enqueue(delivery=again, attempt=1)
    return again
