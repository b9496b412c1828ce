"""Every dashboard route that takes an id, called by workspace A's owner with workspace B's
ids (GET and POST): 404 (or 405 for the wrong method), and B's rows are unchanged."""
import re
from decimal import Decimal

import pytest
from django.urls import URLPattern

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.services import webhook_endpoint_create, webhook_endpoint_test
from catalog.models import Product, ProductImage
from dashboard.urls import urlpatterns
from generation.images.models import LoraVersion
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import ApiKey, Brand, Invitation, Membership

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def b_rows(two_workspaces):
    from django.utils import timezone

    b = two_workspaces["b"]
    ws = b["workspace"]
    with tenant_context(ws):
        product = Product.objects.create(workspace=ws, source_url="https://b.example/p", title="B product",
                                         price=Decimal("5"))
        image = ProductImage.objects.create(workspace=ws, product=product, source_url="https://b.example/i.png")
        job = VideoJob.objects.create(workspace=ws, brand=b["brand"], product=product, product_url=product.source_url,
                                      template="product_showcase", status="failed", failure_reason="x")
        lora = LoraVersion.objects.create(workspace=ws, brand=b["brand"], version=1, images_dir="x", status="ready")
    key = ApiKey.objects.create(workspace=ws, name="b", prefix="adf_b0b0b0b0", key_hash="1" * 64, scopes=[])
    invitation = Invitation.objects.create(workspace=ws, email="z@b.example", role="admin", token_hash="2" * 64,
                                           expires_at=timezone.now() + timezone.timedelta(days=1))
    endpoint, _ = webhook_endpoint_create(workspace=ws, url="https://203.0.113.9/hook", events=[])
    delivery = webhook_endpoint_test(endpoint=endpoint)
    return {"job": job, "product": product, "image": image, "brand": b["brand"], "lora": lora, "key": key,
            "invitation": invitation, "membership": Membership.objects.get(workspace=ws), "endpoint": endpoint,
            "delivery": delivery}


def _args(route: str, rows) -> dict | None:
    ids = {"jobs/": rows["job"].pk, "create/product/": rows["product"].pk, "products/": rows["product"].pk,
           "brand/": rows["brand"].pk, "members/": rows["membership"].pk, "invitations/": rows["invitation"].pk,
           "developers/webhooks/": rows["endpoint"].pk}
    pk = next((v for prefix, v in ids.items() if route.startswith(prefix)), None)
    params = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
    if not params:
        return None
    values = {"pk": pk, "image_pk": rows["image"].pk, "version": rows["lora"].version, "n": 0, "name": "video",
              "prefix": rows["key"].prefix, "delivery_id": rows["delivery"].pk}
    return {p: values[p] for p in params if p in values} if params <= set(values) else None


def test_workspace_a_gets_404_for_every_b_id(client, two_workspaces, b_rows):
    from django.urls import reverse

    login(client, two_workspaces["a"]["user"])
    checked = []
    for pattern in urlpatterns:
        if not isinstance(pattern, URLPattern):
            continue
        route = str(pattern.pattern)
        if route.startswith("campaigns/"):  # two-workspace tests in tests/platform/campaigns/test_dashboard.py
            continue
        kwargs = _args(route, b_rows)
        if kwargs is None:
            continue
        url = reverse(f"dashboard:{pattern.name}", kwargs=kwargs)
        for method in ("get", "post"):
            status = getattr(client, method)(url, {"name": "Hacked", "role": "viewer", "line-0": "x"}).status_code
            assert status in (404, 405), f"{method.upper()} {url} -> {status}"
        checked.append(route)
    assert len(checked) >= 15, checked
    ws = two_workspaces["b"]["workspace"]
    with tenant_context(ws):
        assert Brand.objects.get(pk=b_rows["brand"].pk).name == "Brand B"
        assert VideoJob.objects.count() == 1 and LoraVersion.objects.get().is_active is False
    b_rows["key"].refresh_from_db()
    b_rows["invitation"].refresh_from_db()
    assert b_rows["key"].revoked_at is None and b_rows["invitation"].revoked_at is None
    assert Membership.objects.get(pk=b_rows["membership"].pk).role == "owner"
    with tenant_context(ws):
        endpoint = WebhookEndpoint.objects.get(pk=b_rows["endpoint"].pk)
        assert endpoint.is_active and not endpoint.previous_secret_nonce and WebhookDelivery.objects.count() == 1
