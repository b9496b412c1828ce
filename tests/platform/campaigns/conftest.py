"""Campaign fixtures: the loopback store, a campaign maker, and patched queues for service tests
(task tests run a real worker instead)."""
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlsplit

import pytest

from campaigns.drills.shop import Store, store_serve
from campaigns.services import campaign_create


@pytest.fixture
def store(settings):
    with store_serve(Store()) as served:
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [urlsplit(served.url).netloc]
        settings.CATALOG_FETCH_MIN_INTERVAL_S = 0
        yield served


@pytest.fixture
def queued():
    """No broker in service tests: record what would be queued."""
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async") as stage, \
            mock.patch("campaigns.tasks.campaign_run_execute_task.apply_async") as execute:
        yield {"stage": stage, "execute": execute}


@pytest.fixture
def make_campaign():
    def make(data, **fields):
        defaults = {"brand": data["brand"], "name": "Weekly new products", "source_kind": "shopify",
                    "mode": "new", "templates": ["product_showcase"], "aspects": ["9:16"], "languages": ["en"],
                    "schedule": "0 9 * * 1", "timezone": "Europe/Berlin",
                    "source_url": "https://shop.example/collections/all",
                    "starts_at": datetime(2026, 1, 1, tzinfo=UTC)}
        campaign, _ = campaign_create(workspace=data["workspace"], actor=data.get("user"), **{**defaults, **fields})
        return campaign
    return make


