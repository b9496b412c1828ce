"""Tick, claim, catch-up, plan, budget, seen-set and failed reads, on real PostgreSQL with the
queues patched (the real-worker path is in test_end_to_end)."""
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from campaigns.models import Campaign, CampaignRun, CampaignRunItem, CampaignSeenProduct
from campaigns.runs import RunReadRetry, campaign_run_execute, campaign_tick
from campaigns.schedule import occurrence_next
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import credit_balance

pytestmark = pytest.mark.django_db


def _runs(workspace):
    with tenant_context(workspace):
        return list(CampaignRun.objects.order_by("scheduled_for"))


def _set_due(campaign, when):
    with tenant_context(campaign.workspace_id):
        Campaign.objects.filter(pk=campaign.pk).update(next_due_at=when)


def test_create_stores_the_next_due_instant_in_the_campaign_zone(two_workspaces, make_campaign):
    campaign = make_campaign(two_workspaces["a"])
    local = campaign.next_due_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0) and campaign.next_due_at > datetime.now(UTC)


def test_a_due_campaign_gets_exactly_one_run_and_its_next_due_moves_on(two_workspaces, make_campaign, queued,
                                                                       django_capture_on_commit_callbacks):
    a = two_workspaces["a"]
    campaign = make_campaign(a, schedule="0 * * * *", timezone="UTC")
    due = datetime(2026, 5, 4, 9, tzinfo=UTC)
    _set_due(campaign, due)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_tick(now=due + timedelta(seconds=20))
        campaign_tick(now=due + timedelta(seconds=40))  # a second beat's tick: nothing new
    runs = _runs(a["workspace"])
    assert [(r.scheduled_for, r.trigger, r.missed_occurrences) for r in runs] == [(due, "schedule", 0)]
    queued["execute"].assert_called_once_with(args=(a["workspace"].pk, runs[0].pk))
    with tenant_context(a["workspace"]):
        assert Campaign.objects.get(pk=campaign.pk).next_due_at == due + timedelta(hours=1)
    assert _runs(two_workspaces["b"]["workspace"]) == []


def test_after_downtime_only_the_latest_missed_occurrence_runs(two_workspaces, make_campaign, queued):
    a = two_workspaces["a"]
    campaign = make_campaign(a, schedule="*/5 * * * *", timezone="UTC")
    _set_due(campaign, datetime(2026, 5, 4, 9, 0, tzinfo=UTC))
    campaign_tick(now=datetime(2026, 5, 4, 9, 47, tzinfo=UTC))  # down for 47 minutes
    runs = _runs(a["workspace"])
    assert [(r.scheduled_for.minute, r.missed_occurrences) for r in runs] == [(45, 9)]
    with tenant_context(a["workspace"]):
        assert Campaign.objects.get(pk=campaign.pk).next_due_at == datetime(2026, 5, 4, 9, 50, tzinfo=UTC)


def test_paused_campaigns_are_not_claimed_and_resume_does_not_catch_up(two_workspaces, make_campaign, queued):
    from campaigns.services import campaign_pause

    a = two_workspaces["a"]
    campaign = make_campaign(a, schedule="0 * * * *", timezone="UTC")
    campaign = campaign_pause(workspace=a["workspace"], campaign=campaign, paused=True)
    assert campaign.next_due_at is None
    campaign_tick(now=datetime.now(UTC) + timedelta(days=3))
    assert _runs(a["workspace"]) == []
    campaign = campaign_pause(workspace=a["workspace"], campaign=campaign, paused=False)
    assert datetime.now(UTC) < campaign.next_due_at <= datetime.now(UTC) + timedelta(hours=1)


@pytest.mark.parametrize("zone_name, days", [
    ("Europe/Berlin", ["2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26"]),
    ("America/New_York", ["2026-03-07", "2026-03-08", "2026-03-09", "2026-10-31", "2026-11-01", "2026-11-02"]),
    ("Australia/Sydney", ["2026-04-04", "2026-04-05", "2026-04-06", "2026-10-03", "2026-10-04", "2026-10-05"]),
])
def test_ticks_across_both_dst_changes_make_one_run_per_local_day(two_workspaces, make_campaign, queued, zone_name,
                                                                   days):
    """Ticks every 15 minutes through the night (00:00-06:00 local, where DST changes happen) of
    the three days around each change: exactly one run per local day."""
    a = two_workspaces["a"]
    zone = ZoneInfo(zone_name)
    campaign = make_campaign(a, schedule="30 2 * * *", timezone=zone_name)
    expected = []
    for first in (0, 3):
        start = datetime.fromisoformat(days[first]).replace(tzinfo=zone)
        _set_due(campaign, occurrence_next(campaign.as_schedule(), after=start))
        for day in range(3):
            midnight = datetime.fromisoformat(days[first + day]).replace(tzinfo=zone).astimezone(UTC)
            for quarter in range(25):
                campaign_tick(now=midnight + timedelta(minutes=15 * quarter))
        expected += days[first:first + 3]
    local = [r.scheduled_for.astimezone(zone) for r in _runs(a["workspace"])]
    assert [t.date().isoformat() for t in local] == expected
    assert sorted({t.strftime("%H:%M") for t in local}) in (["02:30", "03:00"],)


def test_two_concurrent_ticks_create_one_run(two_workspaces, make_campaign, queued, transactional_db, postgres_only):
    a = two_workspaces["a"]
    campaign = make_campaign(a, schedule="0 * * * *", timezone="UTC")
    due = datetime(2026, 5, 4, 9, tzinfo=UTC)
    _set_due(campaign, due)
    barrier, errors = threading.Barrier(4), []

    def tick():
        try:
            barrier.wait()
            campaign_tick(now=due + timedelta(seconds=5))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.scheduled_for for r in _runs(a["workspace"])] == [due]


def _execute(run):
    with tenant_context(run.workspace_id):
        campaign_run_execute(run_id=run.pk, task_id="t1")
        run.refresh_from_db()
    return run


def test_new_mode_makes_videos_for_new_products_only(two_workspaces, make_campaign, store, queued):
    a = two_workspaces["a"]
    for title in ("Aurora Bottle", "Borealis Mug", "Cirrus Flask"):
        store.add(title)
    campaign = make_campaign(a, source_url=store.url, aspects=["9:16", "1:1"], languages=["en", "zh"])
    from campaigns.services import campaign_run_now

    run = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    assert (run.status, run.products_found, run.products_new, run.products_skipped) == ("running", 3, 3, 0)
    with tenant_context(a["workspace"]):
        items = list(CampaignRunItem.objects.filter(run=run))
        assert len(items) == 12 and {(i.aspect, i.language) for i in items} == {
            ("9:16", "en"), ("9:16", "zh"), ("1:1", "en"), ("1:1", "zh")}
        # At most CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN (4) jobs in flight; the rest wait their turn.
        assert VideoJob.objects.count() == 4 and sum(i.status == "created" for i in items) == 4
        assert CampaignSeenProduct.objects.filter(campaign=campaign).count() == 3
    second = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    assert (second.status, second.products_found, second.products_new, second.products_skipped) == (
        "completed", 3, 0, 3)
    assert second.skip_reasons == {"already made in an earlier run": 3}
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not CampaignRunItem.objects.exists() and not VideoJob.objects.exists()


def test_a_retried_run_task_creates_no_second_job(two_workspaces, make_campaign, store, queued):
    a = two_workspaces["a"]
    store.add("Aurora Bottle")
    campaign = make_campaign(a, source_url=store.url, mode="all")
    from campaigns.services import campaign_run_now

    run, _ = campaign_run_now(workspace=a["workspace"], campaign=campaign)
    _execute(run)
    _execute(run)  # redelivered message
    with tenant_context(a["workspace"]):
        run.status = CampaignRun.Status.READING  # a crashed reader, re-queued by the tick
        CampaignRun.objects.filter(pk=run.pk).update(status="reading", task_id="")
    _execute(run)
    with tenant_context(a["workspace"]):
        assert VideoJob.objects.count() == 1 and CampaignRunItem.objects.count() == 1


def test_budget_creates_what_fits_in_order_and_skips_the_rest_with_the_reason(two_workspaces, make_campaign,
                                                                              store, queued, settings):
    settings.CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN = 100
    a = two_workspaces["a"]
    for title in ("P1", "P2", "P3"):
        store.add(title)
    campaign = make_campaign(a, source_url=store.url, aspects=["9:16", "1:1"], credits_per_run=3, mode="all")
    from campaigns.services import campaign_run_now

    run = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    with tenant_context(a["workspace"]):
        items = [(i.product_title, i.aspect, i.status) for i in CampaignRunItem.objects.filter(run=run)]
    assert items == [("P1", "9:16", "created"), ("P1", "1:1", "created"), ("P2", "9:16", "created"),
                     ("P2", "1:1", "skipped"), ("P3", "9:16", "skipped"), ("P3", "1:1", "skipped")]
    assert run.skip_reasons == {"over the per-run budget (3 credits)": 3}
    assert credit_balance(workspace=a["workspace"]) == 10 - 3


def test_workspace_out_of_credits_skips_the_rest_and_keeps_them_new(two_workspaces, make_campaign, store, queued,
                                                                   settings):
    settings.CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN = 100
    a = two_workspaces["a"]
    for n in range(12):
        store.add(f"Item {n}")
    campaign = make_campaign(a, source_url=store.url)
    from campaigns.services import campaign_run_now

    run = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    assert run.skip_reasons == {"the workspace ran out of credits": 2}
    with tenant_context(a["workspace"]):
        assert VideoJob.objects.count() == 10
        assert CampaignSeenProduct.objects.filter(campaign=campaign).count() == 10


def test_price_drop_mode_makes_videos_only_when_the_price_fell(two_workspaces, make_campaign, store, queued):
    a = two_workspaces["a"]
    cheap, steady = store.add("Cheap soon", price="50.00"), store.add("Steady", price="20.00")
    campaign = make_campaign(a, source_url=store.url, mode="price_drop", templates=["price_drop"])
    from campaigns.services import campaign_run_now

    first = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    assert first.status == "completed" and first.skip_reasons == {"no earlier price to compare": 2}
    cheap.price = "39.00"
    second = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    with tenant_context(a["workspace"]):
        assert [i.product_title for i in CampaignRunItem.objects.filter(run=second)] == ["Cheap soon"]
    assert second.skip_reasons == {"price did not drop": 1} and steady.price == "20.00"


@pytest.mark.parametrize("kind, path", [("sitemap", "/sitemap.xml"), ("feed", "/feed.csv"),
                                        ("category", "/collections/all")])
def test_other_sources_list_the_same_products(two_workspaces, make_campaign, store, queued, kind, path):
    a = two_workspaces["a"]
    store.add("Aurora Bottle")
    store.add("Borealis Mug")
    campaign = make_campaign(a, source_kind=kind, source_url=store.url + path)
    from campaigns.services import campaign_run_now

    run = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    with tenant_context(a["workspace"]):
        urls = [i.product_url for i in CampaignRunItem.objects.filter(run=run)]
    assert urls == [f"{store.url}/products/aurora-bottle", f"{store.url}/products/borealis-mug"]


def test_a_store_that_is_down_fails_the_run_after_retries_and_makes_nothing(two_workspaces, make_campaign, store,
                                                                            queued):
    a = two_workspaces["a"]
    store.add("Aurora Bottle")
    store.fail_with = 503
    campaign = make_campaign(a, source_url=store.url)
    from campaigns.services import campaign_run_now

    run, _ = campaign_run_now(workspace=a["workspace"], campaign=campaign)
    for _attempt in range(2):
        with pytest.raises(RunReadRetry):
            _execute(run)
        with tenant_context(a["workspace"]):
            run.refresh_from_db()
        assert run.status == "pending" and "HTTP 503" in run.failure_reason
    run = _execute(run)
    assert run.status == "failed" and run.finished_at is not None
    assert run.failure_reason.startswith("The product source could not be read (after 3 tries)")
    with tenant_context(a["workspace"]):
        assert not CampaignRunItem.objects.exists() and not VideoJob.objects.exists()
        assert not CampaignSeenProduct.objects.exists()


def test_a_bad_feed_fails_at_once_with_a_readable_reason(two_workspaces, make_campaign, store, queued):
    a = two_workspaces["a"]
    campaign = make_campaign(a, source_kind="sitemap", source_url=store.url + "/feed.csv")
    from campaigns.services import campaign_run_now

    run = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    assert run.status == "failed" and "is not a valid XML sitemap" in run.failure_reason


def test_finished_jobs_release_the_next_items_and_complete_the_run(two_workspaces, make_campaign, store, queued,
                                                                   django_capture_on_commit_callbacks, settings):
    """Fairness drip: 4 in flight; each finished job (job_finished signal) releases the next;
    when all are finished the run completes and campaign_run_completed is sent once."""
    from campaigns.services import campaign_run_now
    from campaigns.signals import campaign_run_completed
    from generation.jobs.services import video_job_fail

    settings.CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN = 2
    a = two_workspaces["a"]
    for n in range(3):
        store.add(f"Item {n}")
    campaign = make_campaign(a, source_url=store.url)
    run = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    sent = []
    campaign_run_completed.connect(lambda sender, run, summary, **kw: sent.append(summary), weak=False,
                                   dispatch_uid="drip-test")
    try:
        with tenant_context(a["workspace"]):
            for _ in range(3):
                job = VideoJob.objects.filter(status="queued").order_by("pk").first()
                with django_capture_on_commit_callbacks(execute=True):
                    video_job_fail(job=job, reason="The shop says this page does not exist (HTTP 404).")
            run.refresh_from_db()
            assert VideoJob.objects.count() == 3
    finally:
        campaign_run_completed.disconnect(dispatch_uid="drip-test")
    assert (run.status, run.jobs_created, run.jobs_failed, run.credits_used) == ("completed", 3, 3, 0)
    assert len(sent) == 1 and sent[0]["jobs"] == {"created": 3, "succeeded": 0, "failed": 3}
    assert credit_balance(workspace=a["workspace"]) == 10  # failed jobs refunded
    # The run's completion is also an outbound webhook event (Standard Webhooks), once, in A only.
    from api.models import WebhookEvent

    with tenant_context(a["workspace"]):
        events = list(WebhookEvent.objects.filter(type="campaign.run.completed"))
    assert len(events) == 1 and events[0].data["id"] == run.pk and events[0].data["jobs"]["failed"] == 3
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not WebhookEvent.objects.exists()


def test_monthly_budget_counts_the_other_runs_of_the_month(two_workspaces, make_campaign, store, queued, settings):
    settings.CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN = 100
    a = two_workspaces["a"]
    for n in range(3):
        store.add(f"Item {n}")
    campaign = make_campaign(a, source_url=store.url, mode="all", credits_per_month=4)
    from campaigns.services import campaign_run_now

    first = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    second = _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    assert (first.skip_reasons, second.skip_reasons) == ({}, {"over the monthly budget (4 credits)": 2})
    with tenant_context(a["workspace"]):
        assert VideoJob.objects.count() == 4


def test_row_level_security_hides_runs_from_the_other_workspace(two_workspaces, make_campaign, queued,
                                                                postgres_only):
    from campaigns.services import campaign_run_now

    campaign = make_campaign(two_workspaces["a"])
    campaign_run_now(workspace=two_workspaces["a"]["workspace"], campaign=campaign)
    tables = ("campaigns_campaign", "campaigns_campaignrun")
    with tenant_context(two_workspaces["b"]["workspace"]), connection.cursor() as cursor:
        for table in tables:  # raw SQL, no ORM scoping: only RLS stands in the way
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == 0
    with tenant_context(two_workspaces["a"]["workspace"]), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_campaignrun")
        assert cursor.fetchone()[0] == 1


def test_a_run_whose_reader_died_is_requeued_by_the_tick(two_workspaces, make_campaign, queued, settings,
                                                         django_capture_on_commit_callbacks):
    from campaigns.services import campaign_run_now

    settings.CAMPAIGNS_RUN_LEASE_S = 60
    a = two_workspaces["a"]
    run, _ = campaign_run_now(workspace=a["workspace"], campaign=make_campaign(a))
    queued["execute"].reset_mock()
    now = datetime.now(UTC)
    with tenant_context(a["workspace"]):
        CampaignRun.objects.filter(pk=run.pk).update(status="reading", task_id="dead-worker",
                                                     heartbeat_at=now - timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_tick(now=now).get("requeued", 0) == 0  # still within its lease
        assert campaign_tick(now=now + timedelta(seconds=45)) == {"claimed": 0, "requeued": 1}
    queued["execute"].assert_called_once_with(args=(a["workspace"].pk, run.pk))
    with tenant_context(a["workspace"]):
        run.refresh_from_db()
    assert (run.status, run.task_id) == ("pending", "")


def test_the_campaigns_voice_and_music_reach_its_jobs(two_workspaces, make_campaign, store, queued):
    from campaigns.services import CampaignError, campaign_run_now

    a = two_workspaces["a"]
    store.add("Aurora Bottle")
    campaign = make_campaign(a, source_url=store.url, voice="en_US-joe-medium", music="calm")
    _execute(campaign_run_now(workspace=a["workspace"], campaign=campaign)[0])
    with tenant_context(a["workspace"]):
        assert list(VideoJob.objects.values_list("voice", "music")) == [("en_US-joe-medium", "calm")]
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not VideoJob.objects.exists()
    with pytest.raises(CampaignError) as refused:
        make_campaign(a, source_url=store.url, music="jazz")
    assert refused.value.field == "music"
