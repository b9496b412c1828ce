"""Inbound Shopify products/create: HMAC-verified per campaign, de-duplicated by delivery id,
size-capped; a verified push makes videos for that product in that campaign only."""
import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client

from campaigns.models import CampaignRun, CampaignRunItem, StoreWebhookDelivery
from campaigns.runs import campaign_run_execute
from tenancy.context import tenant_context

pytestmark = pytest.mark.django_db
SECRET = "shpss_test_secret"


@pytest.fixture
def hook(two_workspaces, queued):
    from campaigns.services import campaign_create

    a = two_workspaces["a"]
    campaign, token = campaign_create(
        workspace=a["workspace"], brand=a["brand"], name="New arrivals", source_kind="webhook",
        source_url="https://shop.example/", templates=["product_showcase"], aspects=["9:16"], languages=["en"],
        webhook_secret=SECRET)
    return {"campaign": campaign, "url": f"/api/v1/campaign-hooks/shopify/{token}", "workspace": a["workspace"]}


def _post(url, payload, *, delivery="d-1", secret=SECRET, topic="products/create", body=None):
    body = body if body is not None else json.dumps(payload).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return Client().post(url, data=body, content_type="application/json", HTTP_X_SHOPIFY_HMAC_SHA256=signature,
                         HTTP_X_SHOPIFY_WEBHOOK_ID=delivery, HTTP_X_SHOPIFY_TOPIC=topic,
                         HTTP_X_SHOPIFY_SHOP_DOMAIN="shop.myshopify.com")


PRODUCT = {"id": 7001, "handle": "aurora-bottle", "title": "Aurora Bottle", "variants": [{"price": "29.99"}]}


def test_a_signed_push_starts_a_run_for_that_product(hook):
    response = _post(hook["url"], PRODUCT)
    assert response.status_code == 202, response.content
    with tenant_context(hook["workspace"]):
        run = CampaignRun.objects.get(pk=response.json()["run"])
        assert run.trigger == "webhook" and run.pushed_products[0]["url"] == "https://shop.example/products/aurora-bottle"
        campaign_run_execute(run_id=run.pk)
        item = CampaignRunItem.objects.get(run=run)
        assert (item.product_key, item.product_title, item.status) == ("shopify:7001", "Aurora Bottle", "created")


def test_a_repeated_delivery_is_a_no_op(hook):
    first = _post(hook["url"], PRODUCT, delivery="same")
    again = _post(hook["url"], PRODUCT, delivery="same")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == {"duplicate": True, "run": first.json()["run"]}
    with tenant_context(hook["workspace"]):
        assert CampaignRun.objects.count() == 1 and StoreWebhookDelivery.objects.count() == 1


def test_the_same_product_pushed_twice_makes_one_video_in_new_mode(hook):
    with tenant_context(hook["workspace"]):
        for delivery in ("d-1", "d-2"):
            campaign_run_execute(run_id=_post(hook["url"], PRODUCT, delivery=delivery).json()["run"])
        assert CampaignRunItem.objects.count() == 1
        assert CampaignRun.objects.filter(skip_reasons={"already made in an earlier run": 1}).count() == 1


@pytest.mark.parametrize("change, status", [
    ({"secret": "wrong"}, 401),
    ({"delivery": ""}, 400),
    ({"body": b"not json"}, 400),
    ({"body": b"x" * (300 * 1024)}, 413),
])
def test_bad_requests_are_refused_and_record_nothing(hook, change, status):
    assert _post(hook["url"], PRODUCT, **change).status_code == status
    with tenant_context(hook["workspace"]):
        assert not CampaignRun.objects.exists() and not StoreWebhookDelivery.objects.exists()


def test_unknown_token_other_topic_and_get(hook):
    assert _post("/api/v1/campaign-hooks/shopify/nope", PRODUCT).status_code == 404
    assert _post(hook["url"], PRODUCT, topic="orders/create").json()["ignored"] is True
    assert Client().get(hook["url"]).status_code == 405


def test_the_push_lands_in_its_own_workspace_only(hook, two_workspaces):
    _post(hook["url"], PRODUCT)
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not CampaignRun.objects.exists() and not StoreWebhookDelivery.objects.exists()


def test_a_new_signing_secret_replaces_the_old_one(hook, two_workspaces):
    from campaigns.services import campaign_update

    campaign_update(workspace=hook["workspace"], campaign=hook["campaign"], webhook_secret="rotated")
    assert _post(hook["url"], PRODUCT, delivery="old").status_code == 401
    assert _post(hook["url"], PRODUCT, delivery="new", secret="rotated").status_code == 202
