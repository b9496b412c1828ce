"""A campaign on the loopback Shopify-style store, end to end with a real Celery worker on Redis
and PostgreSQL: the tick (a Celery task) claims the due campaign, the run reads products.json,
creates jobs for the new products only, the jobs render real videos and the run completes with
``campaign_run_completed``; a second tick makes nothing; a product added to the store is picked
up by the next tick."""
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun
from campaigns.signals import campaign_run_completed
from campaigns.tasks import campaign_tick_task
from config.celery import app
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tests.generation.jobs.conftest import broker_required  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


@pytest.fixture
def worker(broker_required, transactional_db, django_db_blocker):  # noqa: F811
    with django_db_blocker.unblock():
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default", "render", "gpu"],
                          shutdown_timeout=30):
            yield


def _tick_and_wait(campaign, *, expected_runs: int, timeout: float = 300) -> CampaignRun:
    with tenant_context(campaign.workspace_id):
        Campaign.objects.filter(pk=campaign.pk).update(next_due_at=timezone.now() - timedelta(seconds=1))
    campaign_tick_task.delay()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(campaign.workspace_id):
            runs = list(CampaignRun.objects.filter(campaign=campaign).order_by("created_at"))
        if len(runs) == expected_runs and runs[-1].is_finished:
            return runs[-1]
        time.sleep(0.1)
    raise AssertionError(f"runs: {[(r.pk, r.status) for r in runs]}")


def test_ticks_make_videos_for_new_products_only(worker, two_workspaces, make_campaign, store):
    a = two_workspaces["a"]
    store.add("Aurora Bottle")
    store.add("Borealis Mug", price="19.50")
    completed = []
    campaign_run_completed.connect(lambda sender, run, summary, **kw: completed.append(summary), weak=False,
                                   dispatch_uid="e2e-test")
    try:
        campaign = make_campaign(a, source_url=store.url + "/collections/all", duration_s=6)
        first = _tick_and_wait(campaign, expected_runs=1)
        assert (first.status, first.products_found, first.products_new, first.jobs_created) == ("completed", 2, 2, 2)
        assert (first.jobs_succeeded, first.jobs_failed, first.credits_used) == (2, 0, 2), first.skip_reasons
        with tenant_context(a["workspace"]):
            titles = sorted(j.product.title for j in VideoJob.objects.filter(campaign_item__run=first))
            assert all("video" in j.outputs for j in VideoJob.objects.all())
        assert titles == ["Aurora Bottle", "Borealis Mug"]

        second = _tick_and_wait(campaign, expected_runs=2)
        assert (second.status, second.products_found, second.products_new, second.jobs_created) == ("completed", 2, 0, 0)

        store.add("Cirrus Flask")
        third = _tick_and_wait(campaign, expected_runs=3)
        assert (third.products_found, third.products_new, third.jobs_created, third.jobs_succeeded) == (3, 1, 1, 1)
        with tenant_context(a["workspace"]):
            assert VideoJob.objects.count() == 3
            assert VideoJob.objects.get(campaign_item__run=third).product.title == "Cirrus Flask"
        with tenant_context(two_workspaces["b"]["workspace"]):
            assert not CampaignRun.objects.exists() and not VideoJob.objects.exists()
        assert [s["id"] for s in completed] == [first.pk, second.pk, third.pk]
        assert completed[0]["jobs"] == {"created": 2, "succeeded": 2, "failed": 0} and len(completed[0]["videos"]) == 2
    finally:
        campaign_run_completed.disconnect(dispatch_uid="e2e-test")
