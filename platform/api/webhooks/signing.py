"""Signing secrets and Standard Webhooks headers.

A secret is ``whsec_`` + base64(HMAC-SHA256(WEBHOOK_SECRET_KEY, "webhook-secret:" + nonce)):
derived, never stored, so the database alone cannot forge a delivery. During a rotation the
previous secret stays valid until ``previous_secret_expires_at``; both signatures are sent
(space-separated in ``webhook-signature``), so receivers can switch at their own pace."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from api.models import WebhookEndpoint


def new_nonce() -> str:
    return secrets.token_hex(16)


def secret_for(nonce: str) -> str:
    raw = hmac.new(settings.WEBHOOK_SECRET_KEY.encode(), f"webhook-secret:{nonce}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(raw[:24]).decode()


def endpoint_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, plus the previous during overlap."""
    now = now or timezone.now()
    out = [secret_for(endpoint.secret_nonce)]
    if (endpoint.previous_secret_nonce and endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > now):
        out.append(secret_for(endpoint.previous_secret_nonce))
    return out


def signed_headers(*, endpoint: WebhookEndpoint, msg_id: str, body: str, now: datetime | None = None) -> dict:
    """`webhook-id`, `webhook-timestamp`, `webhook-signature` for ``body`` (the exact bytes sent)."""
    now = now or timezone.now()
    signatures = [Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body) for secret in endpoint_secrets(endpoint, now=now)]
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json",
            "user-agent": "AdFactory-Webhooks/1"}
