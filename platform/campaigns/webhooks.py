"""Inbound store webhooks: Shopify ``products/create`` for campaigns whose source is "pushed by
the store". The request is size-capped, HMAC-SHA256-verified (``X-Shopify-Hmac-Sha256``, base64,
over the raw body, with the campaign's signing secret) and de-duplicated by
``X-Shopify-Webhook-Id``; it answers at once and the run happens in a worker."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tenancy.context import tenant_context

from .conf import setting
from .models import Campaign
from .services import store_endpoint_find, store_products_pushed
from .sources import SourceProduct, _decimal

logger = logging.getLogger(__name__)
TOPICS = ("products/create",)


def shopify_hmac_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check of Shopify's base64 HMAC-SHA256 of the raw body."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, (signature or "").strip())


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _product(payload: dict, *, origin: str) -> SourceProduct | None:
    handle = payload.get("handle")
    if not isinstance(handle, str) or not handle or "/" in handle:
        return None
    prices = [_decimal(v.get("price")) for v in payload.get("variants") or [] if isinstance(v, dict)]
    prices = [p for p in prices if p is not None]
    return SourceProduct(key=f"shopify:{payload.get('id') or handle}", url=f"{origin}/products/{handle}",
                         title=str(payload.get("title") or "")[:300], price=min(prices) if prices else None)


@csrf_exempt
@require_POST
def shopify_products_create(request, token: str):
    """POST /api/v1/campaign-hooks/shopify/<token>."""
    limit = setting("CAMPAIGNS_WEBHOOK_MAX_BYTES")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > limit:
        return _error(413, "too_large", f"Webhook bodies are limited to {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, "too_large", f"Webhook bodies are limited to {limit} bytes.")
    endpoint = store_endpoint_find(token=token)
    if endpoint is None:
        return _error(404, "not_found", "Unknown webhook address.")
    if not shopify_hmac_valid(secret=endpoint.secret, body=body, signature=request.headers.get("X-Shopify-Hmac-Sha256")):
        logger.warning("campaign.webhook_bad_signature endpoint=%s", endpoint.pk)
        return _error(401, "bad_signature", "The X-Shopify-Hmac-Sha256 signature does not match.")
    delivery_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not delivery_id:
        return _error(400, "no_delivery_id", "X-Shopify-Webhook-Id is required.")
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in TOPICS:
        return JsonResponse({"ignored": True, "reason": f"topic {topic!r} is not handled"})
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", "The body is not JSON.")
    with tenant_context(endpoint.workspace_id):  # the campaign row is under RLS
        source = Campaign.objects.filter(pk=endpoint.campaign_id).values_list("source_url", flat=True).first() or ""
    shop = request.headers.get("X-Shopify-Shop-Domain", "")
    origin = (f"{urlsplit(source).scheme}://{urlsplit(source).netloc}" if source
              else f"https://{shop}" if shop and "/" not in shop else "")
    product = _product(payload, origin=origin) if isinstance(payload, dict) and origin else None
    if product is None:
        return _error(400, "invalid_product", "The body is not a Shopify product with a handle (or the shop is unknown).")
    run, created = store_products_pushed(endpoint=endpoint, delivery_id=delivery_id, products=[product.as_dict()])
    return JsonResponse({"duplicate": not created, "run": run.pk if run else None},
                        status=202 if created else 200)
