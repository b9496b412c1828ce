"""The scheduler and the run lifecycle.

tick (beat, every CAMPAIGNS_TICK_S) -> claim due campaigns with SELECT ... FOR UPDATE SKIP LOCKED,
create the run row (unique (campaign, scheduled_for): a second beat, a retried tick or a
restarted worker cannot create a second run) and advance ``next_due_at`` in the same
transaction -> execute (read the whole source, plan the items, mark the seen-set) -> release
(create jobs, at most CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN in flight) -> complete (all jobs
finished: counts, ``campaign_run_completed``, the ``campaign.run.completed`` webhook).

Catch-up policy: after downtime the tick runs the *latest* missed occurrence once and records
how many older ones it folded in (``missed_occurrences``); it never replays them.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from itertools import product as cartesian

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from tenancy.context import tenant_context
from tenancy.models import Workspace
from tenancy.services import InsufficientCredits

from .conf import setting
from .models import Campaign, CampaignRun, CampaignRunItem, CampaignSeenProduct
from .schedule import ScheduleError, occurrence_latest, occurrence_next, occurrences_between
from .signals import campaign_run_completed
from .sources import SourceError, SourceProduct, source_read

logger = logging.getLogger(__name__)
CLAIM_BATCH = 50


class RunReadRetry(Exception):
    """The source read failed transiently; the task retries it after ``countdown`` seconds."""

    def __init__(self, message: str, countdown: int):
        super().__init__(message)
        self.countdown = countdown


# --- tick -------------------------------------------------------------------------------------

def campaign_tick(*, now: datetime | None = None) -> dict:
    """Claim due campaigns and look after unfinished runs, workspace by workspace (RLS)."""
    now = now or timezone.now()
    totals = Counter()
    for workspace_id in Workspace.objects.order_by("pk").values_list("pk", flat=True):
        try:
            with tenant_context(workspace_id):
                totals["claimed"] += len(campaign_due_claim(now=now))
                totals.update(campaign_run_recover(now=now))
        except Exception:  # noqa: BLE001 - one workspace's bad row must not stop every other campaign
            logger.exception("campaign.tick_failed workspace=%s", workspace_id)
            totals["errors"] += 1
    return dict(totals)


def campaign_due_claim(*, now: datetime) -> list[CampaignRun]:
    """Create the run of every due campaign of the current workspace (exactly once per
    occurrence) and store each campaign's next due instant. Rows another tick holds are skipped."""
    created = []
    with transaction.atomic():
        due = (Campaign.objects.select_for_update(skip_locked=True)
               .filter(paused=False, next_due_at__isnull=False, next_due_at__lte=now)
               .order_by("next_due_at")[:CLAIM_BATCH])
        for campaign in due:
            run = _claim_one(campaign, now=now)
            if run is not None:
                created.append(run)
    return created


def _claim_one(campaign: Campaign, *, now: datetime) -> CampaignRun | None:
    schedule, due = campaign.as_schedule(), campaign.next_due_at
    try:
        latest = max(occurrence_latest(schedule, at_or_before=now) or due, due)
        missed = len(occurrences_between(schedule, start=due - timedelta(microseconds=1), end=latest)) - 1
        campaign.next_due_at = occurrence_next(schedule, after=max(latest, now))
    except ScheduleError as exc:  # e.g. a zone removed from tzdata: stop, say why, never loop
        logger.error("campaign.schedule_broken campaign=%s error=%s", campaign.pk, exc)
        campaign.next_due_at = None
        campaign.save(update_fields=["next_due_at", "updated_at"])
        return None
    campaign.save(update_fields=["next_due_at", "updated_at"])
    run, created = CampaignRun.objects.get_or_create(
        campaign=campaign, scheduled_for=latest,
        defaults={"workspace_id": campaign.workspace_id, "trigger": CampaignRun.Trigger.SCHEDULE,
                  "missed_occurrences": max(missed, 0), "heartbeat_at": now})
    if not created:
        return None
    _queue_execute(run)
    logger.info("campaign.run_claimed campaign=%s run=%s scheduled_for=%s missed=%s next_due=%s",
                campaign.pk, run.pk, latest.isoformat(), missed, campaign.next_due_at)
    return run


def _queue_execute(run: CampaignRun) -> None:
    from .tasks import campaign_run_execute_task

    workspace_id, run_id = run.workspace_id, run.pk
    transaction.on_commit(lambda: campaign_run_execute_task.apply_async(args=(workspace_id, run_id)))


def campaign_run_recover(*, now: datetime) -> Counter:
    """Re-queue runs whose reader went silent past the lease (a killed worker), and advance
    running runs (release queued items, complete finished ones) in case a signal was lost."""
    counts = Counter()
    stale = now - timedelta(seconds=setting("CAMPAIGNS_RUN_LEASE_S"))
    for run in CampaignRun.objects.filter(status__in=(CampaignRun.Status.PENDING, CampaignRun.Status.READING),
                                          heartbeat_at__lt=stale):
        with transaction.atomic():
            if CampaignRun.objects.filter(pk=run.pk, heartbeat_at__lt=stale, status=run.status).update(
                    heartbeat_at=now, status=CampaignRun.Status.PENDING, task_id=""):
                _queue_execute(run)
                counts["requeued"] += 1
    for run_id in CampaignRun.objects.filter(status=CampaignRun.Status.RUNNING).values_list("pk", flat=True):
        if campaign_run_advance(run_id=run_id):
            counts["completed"] += 1
    return counts


# --- execute ----------------------------------------------------------------------------------

def _run_claim(*, run_id: int, task_id: str) -> CampaignRun | None:
    """Take the run for reading in this delivery; None when it must not (finished, or another
    live delivery is reading it)."""
    lease = timedelta(seconds=setting("CAMPAIGNS_RUN_LEASE_S"))
    with transaction.atomic():
        run = CampaignRun.objects.select_for_update().select_related("campaign").filter(pk=run_id).first()
        if run is None or run.is_finished:
            return None
        if run.status == CampaignRun.Status.RUNNING:  # already planned: the caller only advances it
            return run
        fresh = run.heartbeat_at and run.heartbeat_at > timezone.now() - lease
        if run.status == CampaignRun.Status.READING and fresh and run.task_id and run.task_id != task_id:
            return None
        run.status, run.task_id = CampaignRun.Status.READING, task_id[:64]
        run.attempts += 1
        run.heartbeat_at = timezone.now()
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "task_id", "attempts", "heartbeat_at", "started_at"])
    return run


def campaign_run_execute(*, run_id: int, task_id: str = "") -> None:
    """Read the source, plan the run's items and start creating jobs. Idempotent: a redelivered
    or duplicated task finds the run planned (or finished) and only advances it. Raises
    RunReadRetry for a transient read failure with attempts left."""
    run = _run_claim(run_id=run_id, task_id=task_id)
    if run is None:
        return
    if run.status == CampaignRun.Status.READING:
        campaign = run.campaign
        try:
            if run.trigger == CampaignRun.Trigger.WEBHOOK:
                found = [SourceProduct.from_dict(p) for p in run.pushed_products]
            else:
                found = source_read(kind=campaign.source_kind, url=campaign.source_url, urls=campaign.source_urls,
                                    allowed_hosts=settings.CATALOG_SSRF_ALLOWED_HOSTS or None)
        except SourceError as exc:
            _read_failed(run, exc)
            return
        _plan(run_id=run.pk, found=found)
    campaign_run_advance(run_id=run.pk)


def _read_failed(run: CampaignRun, exc: SourceError) -> None:
    attempts_left = run.attempts < setting("CAMPAIGNS_READ_MAX_ATTEMPTS")
    if exc.transient and attempts_left:
        CampaignRun.objects.filter(pk=run.pk, status=CampaignRun.Status.READING).update(
            status=CampaignRun.Status.PENDING, heartbeat_at=timezone.now(), failure_reason=exc.message[:2000])
        logger.warning("campaign.run_read_retry run=%s attempt=%s reason=%s", run.pk, run.attempts, exc.message)
        raise RunReadRetry(exc.message, countdown=min(60, 5 * 2 ** run.attempts))
    tries = f" (after {run.attempts} tries)" if run.attempts > 1 else ""
    _finish(run_id=run.pk, status=CampaignRun.Status.FAILED,
            reason=f"The product source could not be read{tries}: {exc.message} No videos were made.")


def _month_used(campaign: Campaign, *, run: CampaignRun) -> int:
    """Credits this campaign's other runs spent or hold in the run's calendar month (campaign zone)."""
    local = run.scheduled_for.astimezone(campaign.as_schedule().zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    items = (CampaignRunItem.objects.filter(run__campaign=campaign, run__scheduled_for__gte=start)
             .exclude(run=run).filter(status__in=(CampaignRunItem.Status.PLANNED, CampaignRunItem.Status.CREATED))
             .exclude(job__status__in=(VideoJob.Status.FAILED, VideoJob.Status.CANCELED)))
    return items.count() * settings.CREDITS_PER_VIDEO


def _budget_videos(campaign: Campaign, *, run: CampaignRun) -> tuple[int | None, str]:
    """How many videos fit (None = no limit) and the reason given to the rest."""
    cost = max(settings.CREDITS_PER_VIDEO, 1)
    limits = []
    if campaign.credits_per_run:
        limits.append((campaign.credits_per_run // cost, f"over the per-run budget ({campaign.credits_per_run} credits)"))
    if campaign.credits_per_month:
        left = max(campaign.credits_per_month - _month_used(campaign, run=run), 0)
        limits.append((left // cost, f"over the monthly budget ({campaign.credits_per_month} credits)"))
    return min(limits) if limits else (None, "")


def _select(campaign: Campaign, found: list[SourceProduct], seen: dict) -> tuple[list[SourceProduct], Counter]:
    chosen, skipped = [], Counter()
    for item in found:
        previous = seen.get(item.key)
        if campaign.mode == Campaign.Mode.NEW and previous is not None:
            skipped["already made in an earlier run"] += 1
        elif campaign.mode == Campaign.Mode.PRICE_DROP and (
                previous is None or previous.last_price is None or item.price is None):
            skipped["no earlier price to compare"] += 1
        elif campaign.mode == Campaign.Mode.PRICE_DROP and item.price >= previous.last_price:
            skipped["price did not drop"] += 1
        else:
            chosen.append(item)
    return chosen, skipped


def _plan(*, run_id: int, found: list[SourceProduct]) -> None:
    """Decide every item of the run in one transaction: what is made (in order: products in
    source order, each product's outputs templates x aspects x languages x variants), what is
    skipped and why; update the seen-set (a product stays unseen unless all its outputs fit)."""
    with transaction.atomic():
        run = CampaignRun.objects.select_for_update().select_related("campaign").get(pk=run_id)
        if run.status != CampaignRun.Status.READING:
            return
        campaign = run.campaign
        seen = {s.product_key: s for s in CampaignSeenProduct.objects.select_for_update()
                .filter(campaign=campaign, product_key__in=[p.key for p in found])}
        chosen, skipped = _select(campaign, found, seen)
        matrix = list(cartesian(campaign.templates, campaign.aspects, campaign.languages,
                                range(1, campaign.variants + 1)))
        allowed, budget_reason = _budget_videos(campaign, run=run)
        items, complete, planned = [], set(), 0
        for item in chosen:
            fits = 0
            for template, aspect, language, variant in matrix:
                ok = allowed is None or planned < allowed
                fits += ok
                planned += ok
                items.append(CampaignRunItem(
                    workspace_id=run.workspace_id, run=run, position=len(items), product_key=item.key[:300],
                    product_url=item.url[:2000], product_title=item.title[:300], template=template, aspect=aspect,
                    language=language, variant=variant,
                    status=CampaignRunItem.Status.PLANNED if ok else CampaignRunItem.Status.SKIPPED,
                    skip_reason="" if ok else budget_reason))
                if not ok:
                    skipped[budget_reason] += 1
            if fits == len(matrix):
                complete.add(item.key)
        CampaignRunItem.objects.bulk_create(items, ignore_conflicts=True)
        _seen_update(campaign, found, seen, complete)
        run.products_found = len(found)
        run.products_new = sum(1 for p in found if p.key not in seen)
        run.products_skipped = len(found) - len({i.product_key for i in items if i.status == "planned"})
        run.skip_reasons = dict(skipped)
        run.status, run.heartbeat_at, run.failure_reason = CampaignRun.Status.RUNNING, timezone.now(), ""
        run.save()
    logger.info("campaign.run_planned run=%s found=%s planned=%s skipped=%s", run_id, len(found),
                sum(1 for i in items if i.status == "planned"), dict(skipped))


def _seen_update(campaign: Campaign, found: list[SourceProduct], seen: dict, complete: set) -> None:
    for item in found:
        row = seen.get(item.key)
        if row is not None:
            if item.price is not None and row.last_price != item.price:
                row.last_price = item.price
                row.save(update_fields=["last_price", "last_seen_at"])
        elif campaign.mode != Campaign.Mode.NEW or item.key in complete:
            CampaignSeenProduct.objects.create(workspace_id=campaign.workspace_id, campaign=campaign,
                                               product_key=item.key[:300], product_url=item.url[:2000],
                                               last_price=item.price)


# --- release and completion -------------------------------------------------------------------

def campaign_run_advance(*, run_id: int) -> bool:
    """Create the next jobs of a running run (up to the in-flight cap), then complete it if
    everything is finished. Safe to call from anywhere, any number of times. True if completed."""
    _release(run_id=run_id)
    return _complete_if_done(run_id=run_id)


def _release(*, run_id: int) -> None:
    with transaction.atomic():  # the run row lock serialises releases: one job per item, ever
        run = CampaignRun.objects.select_for_update().select_related("campaign__brand", "workspace").filter(
            pk=run_id).first()
        if run is None or run.status != CampaignRun.Status.RUNNING:
            return
        active = run.items.filter(status=CampaignRunItem.Status.CREATED, job__status__in=VideoJob.ACTIVE).count()
        free = setting("CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN") - active
        if free <= 0:
            return
        for item in run.items.filter(status=CampaignRunItem.Status.PLANNED).order_by("position")[:free]:
            try:
                with transaction.atomic():
                    job = video_job_create(workspace=run.workspace, brand=run.campaign.brand,
                                           product_url=item.product_url, template=item.template, aspect=item.aspect,
                                           language=item.language, duration_s=run.campaign.duration_s)
                    # The campaign's voice and music, like the API's options: set before commit,
                    # i.e. before the first stage can run.
                    job.voice, job.music = run.campaign.voice, run.campaign.music
                    VideoJob.objects.filter(pk=job.pk).update(voice=job.voice, music=job.music)
            except InsufficientCredits:
                _out_of_credits(run)
                break
            item.job, item.status = job, CampaignRunItem.Status.CREATED
            item.save(update_fields=["job", "status"])
        run.jobs_created = run.items.filter(status=CampaignRunItem.Status.CREATED).count()
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["jobs_created", "heartbeat_at"])


def _out_of_credits(run: CampaignRun) -> None:
    reason = "the workspace ran out of credits"
    left = run.items.filter(status=CampaignRunItem.Status.PLANNED)
    keys = set(left.values_list("product_key", flat=True))
    count = left.update(status=CampaignRunItem.Status.SKIPPED, skip_reason=reason)
    # Products that did not get all their videos stay "new" for the next run.
    if run.campaign.mode == Campaign.Mode.NEW:
        CampaignSeenProduct.objects.filter(campaign=run.campaign, product_key__in=keys).delete()
    run.skip_reasons = {**run.skip_reasons, reason: run.skip_reasons.get(reason, 0) + count}
    run.save(update_fields=["skip_reasons"])
    logger.warning("campaign.run_out_of_credits run=%s skipped=%s", run.pk, count)


def _complete_if_done(*, run_id: int) -> bool:
    with transaction.atomic():
        run = CampaignRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != CampaignRun.Status.RUNNING:
            return False
        if run.items.filter(status=CampaignRunItem.Status.PLANNED).exists():
            return False
        if run.items.filter(job__status__in=VideoJob.ACTIVE).exists():
            return False
    return _finish(run_id=run_id, status=CampaignRun.Status.COMPLETED)


def _finish(*, run_id: int, status: str, reason: str = "") -> bool:
    with transaction.atomic():
        run = CampaignRun.objects.select_for_update().select_related("campaign").get(pk=run_id)
        if run.is_finished:
            return False
        jobs = VideoJob.objects.filter(campaign_item__run=run)
        run.jobs_created = jobs.count()
        run.jobs_succeeded = jobs.filter(status=VideoJob.Status.SUCCEEDED).count()
        run.jobs_failed = jobs.filter(Q(status=VideoJob.Status.FAILED) | Q(status=VideoJob.Status.CANCELED)).count()
        run.credits_used = run.jobs_succeeded * settings.CREDITS_PER_VIDEO  # failed jobs are refunded
        run.status, run.finished_at = status, timezone.now()
        run.failure_reason = reason[:2000] if reason else ""
        run.save()
        summary = run_summary(run)
        transaction.on_commit(lambda: _announce(run, summary))
    logger.info("campaign.run_finished run=%s status=%s summary=%s", run_id, status, summary)
    return True


def run_summary(run: CampaignRun) -> dict:
    """The run as plain data (signal payload and webhook ``data``)."""
    return {
        "id": run.pk, "campaign": run.campaign_id, "status": run.status, "trigger": run.trigger,
        "scheduled_for": run.scheduled_for.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "products": {"found": run.products_found, "new": run.products_new, "skipped": run.products_skipped,
                     "skip_reasons": run.skip_reasons},
        "jobs": {"created": run.jobs_created, "succeeded": run.jobs_succeeded, "failed": run.jobs_failed},
        "credits_used": run.credits_used, "failure_reason": run.failure_reason or None,
        "videos": list(VideoJob.objects.filter(campaign_item__run=run).order_by("pk").values_list("pk", flat=True)),
    }


def _announce(run: CampaignRun, summary: dict) -> None:
    """After commit: the signal, then the webhook. A failing receiver or webhook is logged, never
    raised: the run is finished either way."""
    for receiver, response in campaign_run_completed.send_robust(sender=CampaignRun, run=run, summary=summary):
        if isinstance(response, Exception):
            logger.error("campaign.run_completed_receiver_failed run=%s receiver=%r error=%r", run.pk, receiver,
                         response)
    try:
        webhook_emit_run_completed(run=run, summary=summary)
    except Exception:  # noqa: BLE001 - see docstring
        logger.exception("campaign.run_completed_webhook_failed run=%s", run.pk)


def webhook_emit_run_completed(*, run: CampaignRun, summary: dict) -> bool:
    """Emit the ``campaign.run.completed`` webhook event (Standard Webhooks, delivered by the
    API's webhook tasks to every endpoint subscribed to it). Returns True once emitted."""
    from api.webhooks import webhook_event_emit

    with tenant_context(run.workspace_id):
        webhook_event_emit(workspace=run.workspace, event_type="campaign.run.completed", data=summary)
    return True
