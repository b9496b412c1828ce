"""API-owned rows: idempotency claims, product ingestions, outbound webhooks. All tenant-owned
(workspace FK + row-level security)."""
from __future__ import annotations

import secrets

from django.db import models

from tenancy.managers import TenantModel


def _public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def event_public_id() -> str:
    return _public_id("evt")


class IdempotencyKey(TenantModel):
    """One answered ``Idempotency-Key`` per workspace, written in the same transaction as the
    request's own writes; while that transaction runs an advisory lock holds the key (see
    api.idempotency). ``in_flight`` rows are claims of the earlier two-transaction scheme.
    Kept ``API_IDEMPOTENCY_TTL_S`` (24 h)."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and canonical body")
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_key_unique_per_workspace")]


class ProductIngestion(TenantModel):
    """An asynchronous `POST /products` (or re-ingest): its status, and the product it made."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    url = models.URLField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    failure_code = models.CharField(max_length=40, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class WebhookEndpoint(TenantModel):
    """Where a workspace wants events. The signing secret is never stored: it is derived from
    ``WEBHOOK_SECRET_KEY`` and a random per-endpoint nonce (api.webhooks.signing), so a
    database leak alone cannot forge deliveries. Rotation keeps the previous nonce valid until
    ``previous_secret_expires_at`` (both signatures are sent)."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="event types; empty = all")
    secret_nonce = models.CharField(max_length=64)
    previous_secret_nonce = models.CharField(max_length=64, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookEvent(TenantModel):
    """Something that happened, with a stable id (``webhook-id``: receivers de-duplicate on it)."""

    public_id = models.CharField(max_length=40, unique=True, default=event_public_id)
    type = models.CharField(max_length=60, db_index=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)


class WebhookDelivery(TenantModel):
    """One event to one endpoint: at least once, retried on a schedule, logged per attempt."""

    class Status(models.TextChoices):
        PENDING = "pending"      # waiting for its next attempt (next_attempt_at)
        SENDING = "sending"      # an attempt is running
        SUCCEEDED = "succeeded"
        FAILED = "failed"        # out of attempts, or the endpoint was disabled

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class WebhookAttempt(TenantModel):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
