"""Outbound webhooks against a real Celery worker (Redis + PostgreSQL) and a real receiver on
loopback that verifies signatures with the standardwebhooks library: signing, rotation,
retries with backoff, redirect refusal, SSRF at connect time, timeouts, auto-disable,
redelivery, `send test`, isolation and scopes."""
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.models import WebhookDelivery, WebhookEndpoint
from api.tasks import webhook_deliveries_due_task
from api.webhooks import webhook_event_emit
from api.webhooks.delivery import retry_delay
from api.webhooks.events import UnknownEventType
from config.celery import app
from tenancy.context import tenant_context
from tenancy.models import AuditLog
from tests.conftest import require_service

from .receiver import receiver_serve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def worker(transactional_db, django_db_blocker):
    require_service(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis (make test starts one)")
    with django_db_blocker.unblock():
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=30):
            yield


@pytest.fixture
def receiver(settings):
    with receiver_serve() as state:
        settings.WEBHOOK_SSRF_ALLOWED_HOSTS = [urlsplit(state.url).netloc]
        yield state


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_RETRY_DELAYS_S = [0.1, 0.1, 0.1, 0.1]


def register(api, url, **extra):
    response = api["a"]["admin"].post("/api/v1/webhooks", {"url": url, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def delivery_of(workspace, **filters) -> WebhookDelivery:
    with tenant_context(workspace):
        return WebhookDelivery.objects.filter(**filters).order_by("-pk").first()


def wait_delivery(workspace, status, timeout=30.0, **filters) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = delivery_of(workspace, **filters)
        if delivery is not None and delivery.status == status:
            return delivery
        time.sleep(0.05)
    raise AssertionError(f"delivery never reached {status}: {delivery and delivery.status}")


def test_retry_schedule_backs_off_with_jitter_over_more_than_a_day():
    import random

    rng = random.Random(1)
    delays = [retry_delay(n, rng=rng) for n in range(1, 20)]
    planned = [d for d in delays if d is not None]
    assert len(planned) == len(settings.WEBHOOK_RETRY_DELAYS_S) and delays[len(planned)] is None
    assert sum(settings.WEBHOOK_RETRY_DELAYS_S) >= 24 * 3600
    assert all(b >= a for a, b in zip(settings.WEBHOOK_RETRY_DELAYS_S, settings.WEBHOOK_RETRY_DELAYS_S[1:]))
    for base, got in zip(settings.WEBHOOK_RETRY_DELAYS_S, planned):
        assert 0.8 * base <= got <= 1.2 * base
    assert len({round(d / b, 3) for d, b in zip(planned, settings.WEBHOOK_RETRY_DELAYS_S)}) > 1  # jittered


def test_unknown_event_types_are_refused(two_workspaces):
    with pytest.raises(UnknownEventType):
        webhook_event_emit(workspace=two_workspaces["a"]["workspace"], event_type="video.exploded", data={})


def test_canceled_video_is_delivered_signed_and_verifiable(worker, receiver, api, queued):
    endpoint = register(api, receiver.url, events=["video.canceled"])
    video = api["a"]["write"].post("/api/v1/videos", {"product_url": "https://shop.example/p"},
                                   format="json").json()["videos"][0]
    assert api["a"]["write"].post(f"/api/v1/videos/{video['id']}/cancel").status_code == 200
    got = receiver.wait_for(1)[0]
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "video.canceled" and payload["data"]["id"] == video["id"]
    assert payload["id"] == got.headers["webhook-id"] and payload["id"].startswith("evt_")
    assert payload["data"]["request_id"] == video["request_id"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(got.body, got.headers)
    tampered = got.body.replace(b"canceled", b"succeeded")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(tampered, got.headers)
    delivery = wait_delivery(api["a"]["workspace"], "succeeded")
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.last_latency_ms is not None


def test_failures_are_retried_with_the_same_event_id_until_delivered(worker, receiver, api, fast_retries):
    receiver.statuses = [500, 503, 200]
    endpoint = register(api, receiver.url)
    event = webhook_event_emit(workspace=api["a"]["workspace"], event_type="product.ingested", data={"product": 1})
    got = receiver.wait_for(3)
    assert {r.headers["webhook-id"] for r in got} == {event.public_id}
    for r in got:
        Webhook(endpoint["secret"]).verify(r.body, r.headers)
    delivery = wait_delivery(api["a"]["workspace"], "succeeded")
    listed = api["a"]["admin"].get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["data"][0]
    assert listed["attempts"] == 3 and delivery.attempts == 3
    assert [a["status_code"] for a in sorted(listed["attempt_log"], key=lambda a: a["number"])] == [500, 503, 200]
    with tenant_context(api["a"]["workspace"]):
        assert WebhookEndpoint.objects.get(pk=endpoint["id"]).consecutive_failures == 0


def test_redirects_are_not_followed(worker, api, settings):
    with receiver_serve() as target, receiver_serve(statuses=[302]) as redirector:
        redirector.redirect_to = target.url
        settings.WEBHOOK_SSRF_ALLOWED_HOSTS = [urlsplit(redirector.url).netloc, urlsplit(target.url).netloc]
        settings.WEBHOOK_RETRY_DELAYS_S = []
        register(api, redirector.url)
        webhook_event_emit(workspace=api["a"]["workspace"], event_type="lora.ready", data={"brand": 1})
        delivery = wait_delivery(api["a"]["workspace"], "failed")
        assert delivery.last_status_code == 302 and "redirects are not followed" in delivery.last_error
        assert target.requests == []


def test_ssrf_guard_applies_at_registration_and_at_connect_time(worker, receiver, api, settings):
    settings.WEBHOOK_RETRY_DELAYS_S = []
    endpoint = register(api, receiver.url)
    settings.WEBHOOK_SSRF_ALLOWED_HOSTS = []
    refused = api["a"]["admin"].post("/api/v1/webhooks", {"url": receiver.url}, format="json")
    assert refused.status_code == 400 and refused.json()["param"] == "url"
    for url in ("http://169.254.169.254/latest", "http://10.0.0.1/x", "file:///etc/passwd"):
        assert api["a"]["admin"].post("/api/v1/webhooks", {"url": url}, format="json").status_code == 400
    webhook_event_emit(workspace=api["a"]["workspace"], event_type="lora.ready", data={})
    delivery = wait_delivery(api["a"]["workspace"], "failed", endpoint_id=endpoint["id"])
    assert "loopback" in delivery.last_error and receiver.requests == []


def test_a_slow_receiver_times_out(worker, receiver, api, settings):
    settings.WEBHOOK_TIMEOUT_S, settings.WEBHOOK_RETRY_DELAYS_S = 0.5, []
    receiver.delay_s = 3
    register(api, receiver.url)
    started = time.monotonic()
    webhook_event_emit(workspace=api["a"]["workspace"], event_type="lora.ready", data={})
    delivery = wait_delivery(api["a"]["workspace"], "failed")
    assert "did not answer within 0.5 s" in delivery.last_error and time.monotonic() - started < 3


def test_a_failing_endpoint_is_disabled_with_a_notice(worker, receiver, api, settings, fast_retries):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.statuses = [500]
    owner = api["a"]["user"]
    owner.email = "owner@a.example"
    owner.save()
    endpoint = register(api, receiver.url)
    for _ in range(2):
        webhook_event_emit(workspace=api["a"]["workspace"], event_type="lora.ready", data={})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tenant_context(api["a"]["workspace"]):
            state = WebhookEndpoint.objects.get(pk=endpoint["id"])
            pending = WebhookDelivery.objects.filter(status__in=["pending", "sending"]).count()
        if not state.is_active and not pending:
            break
        time.sleep(0.05)
    assert not state.is_active and "failed attempts in a row" in state.disabled_reason
    with tenant_context(api["a"]["workspace"]):
        assert AuditLog.objects.filter(action="webhook_endpoint.disabled", target=str(endpoint["id"])).exists()
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert any("disabled" in m.subject and "owner@a.example" in m.to for m in mail.outbox)
    test = api["a"]["admin"].post(f"/api/v1/webhooks/{endpoint['id']}/test")
    assert test.status_code == 409
    enabled = api["a"]["admin"].patch(f"/api/v1/webhooks/{endpoint['id']}", {"is_active": True}, format="json")
    assert enabled.json()["is_active"] and enabled.json()["consecutive_failures"] == 0


def test_rotation_signs_with_both_secrets_during_the_overlap(worker, receiver, api, settings):
    old = register(api, receiver.url)
    new = api["a"]["admin"].post(f"/api/v1/webhooks/{old['id']}/rotate").json()
    assert new["secret"] != old["secret"] and new["previous_secret_expires_at"]
    assert api["a"]["admin"].post(f"/api/v1/webhooks/{old['id']}/test").status_code == 202
    got = receiver.wait_for(1)[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (old["secret"], new["secret"]):
        assert Webhook(secret).verify(got.body, got.headers)["type"] == "webhook.test"
    with tenant_context(api["a"]["workspace"]):
        WebhookEndpoint.objects.filter(pk=old["id"]).update(previous_secret_expires_at=timezone.now() - timedelta(1))
    api["a"]["admin"].post(f"/api/v1/webhooks/{old['id']}/test")
    later = receiver.wait_for(2)[1]
    Webhook(new["secret"]).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old["secret"]).verify(later.body, later.headers)


def test_manual_redelivery_and_the_due_sweeper(worker, receiver, api):
    endpoint = register(api, receiver.url)
    api["a"]["admin"].post(f"/api/v1/webhooks/{endpoint['id']}/test")
    first = receiver.wait_for(1)[0]
    delivery = wait_delivery(api["a"]["workspace"], "succeeded")
    again = api["a"]["admin"].post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery.pk}/redeliver")
    assert again.status_code == 202 and again.json()["event_id"] == first.headers["webhook-id"]
    assert receiver.wait_for(2)[1].headers["webhook-id"] == first.headers["webhook-id"]
    with tenant_context(api["a"]["workspace"]):  # a delivery whose message was lost
        lost = WebhookDelivery.objects.create(workspace=api["a"]["workspace"], event=delivery.event,
                                              endpoint=delivery.endpoint,
                                              next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert webhook_deliveries_due_task() == 1
    receiver.wait_for(3)
    assert wait_delivery(api["a"]["workspace"], "succeeded", pk=lost.pk).attempts == 1


def test_webhook_routes_are_isolated_and_need_admin(worker, receiver, api):
    endpoint = register(api, receiver.url)
    other = api["b"]["admin"]
    for response in (other.get(f"/api/v1/webhooks/{endpoint['id']}"),
                     other.patch(f"/api/v1/webhooks/{endpoint['id']}", {"url": receiver.url}, format="json"),
                     other.post(f"/api/v1/webhooks/{endpoint['id']}/rotate"),
                     other.post(f"/api/v1/webhooks/{endpoint['id']}/test"),
                     other.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries"),
                     other.delete(f"/api/v1/webhooks/{endpoint['id']}")):
        assert response.status_code == 404, response.content
    assert other.get("/api/v1/webhooks").json()["data"] == []
    assert api["a"]["write"].get("/api/v1/webhooks").status_code == 403
    assert api["a"]["write"].post("/api/v1/webhooks", {"url": receiver.url}, format="json").status_code == 403
    listed = api["a"]["admin"].get("/api/v1/webhooks").json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert "secret_nonce" not in json.dumps(listed)


def test_product_ingestion_runs_on_the_worker_and_emits_product_ingested(worker, receiver, api, settings):
    from catalog.sample_shop import sample_shop_serve

    endpoint = register(api, receiver.url, events=["product.ingested"])
    with sample_shop_serve() as shop:
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [urlsplit(shop).netloc]
        ingestion = api["a"]["write"].post("/api/v1/products", {"url": shop}, format="json").json()
        got = receiver.wait_for(1, timeout=60)[0]
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "product.ingested" and payload["data"]["ingestion"] == ingestion["id"]
    status = api["a"]["read"].get(f"/api/v1/product-ingestions/{ingestion['id']}").json()
    assert status["status"] == "succeeded" and status["product"] == payload["data"]["product"]
    product = api["a"]["read"].get(f"/api/v1/products/{status['product']}").json()
    assert product["title"].startswith("Aurora")
    assert api["b"]["read"].get(f"/api/v1/products/{status['product']}").status_code == 404


def test_a_failed_ingestion_has_a_code_and_reason(worker, api, settings):
    settings.CATALOG_SSRF_ALLOWED_HOSTS = []
    ingestion = api["a"]["write"].post("/api/v1/products", {"url": "http://127.0.0.1:9/p"}, format="json").json()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = api["a"]["read"].get(f"/api/v1/product-ingestions/{ingestion['id']}").json()
        if status["status"] == "failed":
            break
        time.sleep(0.05)
    assert status["status"] == "failed" and status["failure_code"] == "unsafe_url" and status["failure_reason"]


def test_lora_ready_signal_becomes_a_webhook(worker, receiver, api):
    from generation.images.models import LoraVersion
    from generation.images.services import lora_ready

    endpoint = register(api, receiver.url, events=["lora.ready"])
    with tenant_context(api["a"]["workspace"]):
        version = LoraVersion.objects.create(workspace=api["a"]["workspace"], brand=api["a"]["brand"], version=1,
                                             status="ready", is_active=True, images_dir="x")
    lora_ready.send(sender=LoraVersion, lora_version=version)
    got = receiver.wait_for(1)[0]
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "lora.ready" and payload["data"]["lora"] == version.pk
