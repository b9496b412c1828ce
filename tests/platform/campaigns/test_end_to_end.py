"""A campaign on the loopback Shopify-style store, end to end with a real Celery worker on Redis
and PostgreSQL: the tick (a Celery task) claims the due campaign, the run reads products.json,
creates jobs for the new products only, the jobs render real videos and the run completes with
``campaign_run_completed``; a second tick makes nothing; a product added to the store is picked
up by the next tick. Then the campaign pages are opened in headless Chromium against a live
server (the docs screenshots come from here: SCREENSHOTS_DIR=docs/screenshots)."""
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone


from campaigns.models import Campaign, CampaignRun
from campaigns.signals import campaign_run_completed
from campaigns.tasks import campaign_tick_task
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tests.browser import browse_signed_in, signed_in_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


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


def test_ticks_make_videos_for_new_products_only(pipeline_worker, two_workspaces, make_campaign, store, live_server,
                                                 tmp_path):
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
        shots = browse_signed_in(live_server.url, signed_in_session(a["user"]), _campaign_pages(campaign.pk, first.pk),
                                 out=Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path), viewport={"width": 1100, "height": 900})
        assert shots["thumbnails"] == 2 and shots["preview"].startswith("At 02:30 (America/New_York)")
        assert "Borealis Mug" in shots["run_text"] and "completed" in shots["list_text"]
    finally:
        campaign_run_completed.disconnect(dispatch_uid="e2e-test")


def _campaign_pages(campaign_id: int, run_id: int):
    """List / form (with the live preview) / detail / run, a screenshot of each."""
    def pages(page, base: str, out: Path, result: dict) -> None:
        page.goto(f"{base}/campaigns/")
        result["list_text"] = page.inner_text("main")
        page.screenshot(path=str(out / "campaigns_list.png"), full_page=True)
        page.goto(f"{base}/campaigns/new/")
        page.fill("input[name=name]", "Nightly new arrivals")
        page.fill("input[name=timezone]", "America/New_York")
        page.fill("input[name=schedule]", "30 2 * * *")
        page.wait_for_function("document.getElementById('preview-text').textContent.startsWith('At 02:30')")
        result["preview"] = page.inner_text("#preview-text")
        page.screenshot(path=str(out / "campaign_form.png"), full_page=True)
        page.goto(f"{base}/campaigns/{campaign_id}/")
        page.screenshot(path=str(out / "campaign_detail.png"), full_page=True)
        page.goto(f"{base}/campaigns/{campaign_id}/runs/{run_id}/")
        page.wait_for_load_state("networkidle")
        result["run_text"] = page.inner_text("main")
        result["thumbnails"] = page.evaluate(
            "[...document.querySelectorAll('.tile img')].filter(i => i.complete && i.naturalWidth > 0).length")
        page.screenshot(path=str(out / "campaign_run.png"), full_page=True)
    return pages
