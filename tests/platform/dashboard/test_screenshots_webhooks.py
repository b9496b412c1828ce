"""Webhooks and Campaigns pages with real data in Debian Chromium: endpoints registered and
events delivered by a real Celery worker to a real loopback receiver (one retry after a 503),
campaigns made through the campaigns service. Screenshots (`webhooks.png`, `webhook-log.png`,
`campaigns.png`) go to $DASHBOARD_SCREENSHOTS_DIR or $SCREENSHOTS_DIR (docs/screenshots/ when
making the docs), else to a temporary folder. The browser runs in its own thread and never
touches the ORM; it carries a session made by Client.force_login."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from api.models import WebhookDelivery
from api.webhooks import webhook_event_emit
from api.webhooks.services import webhook_endpoint_create, webhook_endpoint_test, webhook_endpoint_update
from campaigns.services import campaign_create, campaign_pause
from tenancy.context import tenant_context
from tests.browser import CHROMIUM, browse_signed_in, signed_in_session
from tests.conftest import require_service
from tests.platform.api.receiver import receiver_serve


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def _wait_delivered(workspace, count: int, timeout: float = 60) -> list[WebhookDelivery]:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(workspace):
            rows = list(WebhookDelivery.objects.select_related("event").order_by("pk"))
        if len(rows) >= count and all(r.status != WebhookDelivery.Status.PENDING for r in rows):
            return rows
        assert time.monotonic() < deadline, [(r.pk, r.status, r.attempts) for r in rows]
        time.sleep(0.2)


def test_webhooks_and_campaigns_pages_with_real_data(live_server, settings, django_db_blocker, two_workspaces,
                                                     tmp_path):
    from django.db import connection

    from config.celery import app

    require_service(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis (make test starts one)")
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (make test starts one)")
    require_service(Path(CHROMIUM).exists(), "needs Debian chromium at /usr/bin/chromium")
    out = Path(os.environ.get("DASHBOARD_SCREENSHOTS_DIR") or os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    a = two_workspaces["a"]
    settings.WEBHOOK_RETRY_DELAYS_S = [0.5, 0.5, 0.5]
    with receiver_serve(statuses=[200, 503, 200, 200]) as receiver, django_db_blocker.unblock():
        settings.WEBHOOK_SSRF_ALLOWED_HOSTS = [urlsplit(receiver.url).netloc]
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=30):
            orders, _ = webhook_endpoint_create(workspace=a["workspace"], url=f"{receiver.url}/orders",
                                                events=["video.succeeded", "video.failed"],
                                                description="Order system: attach videos to listings")
            crm, _ = webhook_endpoint_create(workspace=a["workspace"], url=f"{receiver.url}/crm",
                                             events=["campaign.run.completed"], description="CRM sync")
            webhook_endpoint_test(endpoint=orders)
            webhook_event_emit(workspace=a["workspace"], event_type="video.succeeded",
                               data={"video": {"id": 41, "status": "succeeded", "aspect": "9:16"}})
            webhook_event_emit(workspace=a["workspace"], event_type="video.failed",
                               data={"video": {"id": 42, "status": "failed", "failure_code": "product_page"}})
            deliveries = _wait_delivered(a["workspace"], 3)
    webhook_endpoint_update(endpoint=crm, changes={"is_active": False})
    assert [d.status for d in deliveries] == ["succeeded"] * 3 and sorted(d.attempts for d in deliveries) == [1, 1, 2]
    assert len(receiver.requests) == 4 and all(r.path == "/hooks/orders" for r in receiver.requests)

    for name, kind, schedule in [("Weekly new products", "shopify", "0 9 * * 1"),
                                 ("Nightly price drops", "sitemap", "30 2 * * *"),
                                 ("Spring collection", "list", "0 8 * * 1-5")]:
        campaign, _ = campaign_create(
            workspace=a["workspace"], actor=a["user"], brand=a["brand"], name=name, source_kind=kind,
            mode="price_drop" if "price" in name else "new", templates=["product_showcase"], aspects=["9:16", "1:1"],
            languages=["en"], schedule=schedule, timezone="Europe/Berlin",
            source_url="" if kind == "list" else "https://shop.example/collections/all",
            source_urls=["https://shop.example/products/borealis-mug"] if kind == "list" else [],
            starts_at=datetime(2026, 1, 1, tzinfo=UTC))
    campaign_pause(workspace=a["workspace"], campaign=campaign, paused=True, actor=a["user"])

    seen = browse_signed_in(live_server.url, signed_in_session(a["user"]), _webhook_pages(orders.pk), out=out)
    assert f"{receiver.url}/orders" in seen["list"] and "disabled" in seen["list"] and "succeeded" in seen["list"]
    assert seen["log"].count("Redeliver") == 3 and "video.failed" in seen["log"] and "webhook.test" in seen["log"]
    assert "Nightly price drops" in seen["campaigns"] and "Spring collection" in seen["campaigns"]
    for name in ("webhooks.png", "webhook-log.png", "campaigns.png"):
        assert (out / name).stat().st_size > 10_000, name


def _webhook_pages(endpoint_id: int):
    def pages(page, base: str, out: Path, result: dict) -> None:
        page.goto(f"{base}/developers/webhooks/")
        result["list"] = page.inner_text("main")
        page.screenshot(path=str(out / "webhooks.png"), full_page=True)
        page.goto(f"{base}/developers/webhooks/{endpoint_id}/")
        result["log"] = page.inner_text("main")
        page.screenshot(path=str(out / "webhook-log.png"), full_page=True)
        page.goto(f"{base}/campaigns/")
        result["campaigns"] = page.inner_text("main")
        page.screenshot(path=str(out / "campaigns.png"), full_page=True)
    return pages
