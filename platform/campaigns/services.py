"""Writes for campaigns: create/update (validating the schedule and storing the next due
instant), pause/resume, run-now, and products pushed by a store webhook.

Services take the workspace first, keyword-only, run atomically and write an audit row."""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenancy.context import tenant_context
from tenancy.models import Workspace
from tenancy.services import audit_log_write

from .conf import setting
from .models import Campaign, CampaignRun, StoreWebhookDelivery, StoreWebhookEndpoint
from .schedule import Schedule, ScheduleError, occurrence_next, schedule_validate

logger = logging.getLogger(__name__)

CAMPAIGN_FIELDS = (
    "brand", "name", "source_kind", "source_url", "source_urls", "mode", "templates", "aspects", "languages",
    "variants", "voice", "duration_s", "music", "schedule_kind", "schedule", "timezone", "starts_at", "ends_at",
    "paused", "credits_per_run", "credits_per_month",
)


LANGUAGES = ("en", "zh")
MAX_VARIANTS = 3


class CampaignError(ValueError):
    """Invalid campaign settings; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str = "non_field_errors"):
        super().__init__(message)
        self.message, self.field = message, field


def _next_due(campaign: Campaign, *, now: datetime) -> datetime | None:
    if campaign.paused or not campaign.schedule:
        return None
    return occurrence_next(campaign.as_schedule(), after=max(now, campaign.starts_at - timedelta(microseconds=1)))


def campaign_schedule_check(*, schedule: Schedule, now: datetime | None = None) -> None:
    """Raise CampaignError(field="schedule") unless the schedule can be used."""
    try:
        schedule_validate(schedule, now=now or timezone.now(), min_interval=setting("CAMPAIGNS_MIN_INTERVAL_S"))
    except ScheduleError as exc:
        raise CampaignError(str(exc), field="schedule") from exc


# The same choices as the API's `music` option: a mood for the template's bed, or none at all.
MUSIC_CHOICES = ("", "upbeat", "calm", "bold", "none")


def _check(campaign: Campaign, *, now: datetime) -> None:
    if campaign.brand.workspace_id != campaign.workspace_id:
        raise CampaignError("No such brand in this workspace.", field="brand")
    if not (campaign.templates and campaign.aspects and campaign.languages) or campaign.variants < 1:
        raise CampaignError("Choose at least one template, aspect and language.", field="templates")
    from generation.jobs.services import ASPECTS
    from generation.video import list_templates

    for name, allowed in (("templates", list_templates()), ("aspects", ASPECTS), ("languages", LANGUAGES)):
        unknown = [v for v in getattr(campaign, name) if v not in allowed]
        if unknown:
            raise CampaignError(f"Unknown {name}: {', '.join(map(str, unknown))}; choose from {', '.join(allowed)}.",
                                field=name)
    if campaign.variants > MAX_VARIANTS:
        raise CampaignError(f"At most {MAX_VARIANTS} variants.", field="variants")
    if campaign.music not in MUSIC_CHOICES:
        raise CampaignError(f"Music is one of {', '.join(m for m in MUSIC_CHOICES if m)} (empty: the template's).",
                            field="music")
    try:
        campaign.as_schedule().zone
    except ScheduleError as exc:
        raise CampaignError(str(exc), field="timezone") from exc
    if campaign.source_kind == Campaign.SourceKind.LIST and not campaign.source_urls:
        raise CampaignError("Add at least one product link.", field="source_urls")
    if campaign.source_kind not in (Campaign.SourceKind.LIST, Campaign.SourceKind.WEBHOOK) and not campaign.source_url:
        raise CampaignError("This source needs its link.", field="source_url")
    if campaign.schedule:  # no schedule: the campaign runs on "run now" (and store pushes) only
        campaign_schedule_check(schedule=campaign.as_schedule(), now=now)


@transaction.atomic
def campaign_create(*, workspace: Workspace, actor=None, webhook_secret: str = "", request_key: str = "",
                    **fields) -> tuple[Campaign, str]:
    """Create a campaign and store its first due instant. Returns (campaign, raw webhook
    token) — the token (store-push sources only, else "") is shown once, stored hashed.
    The same ``request_key`` (an Idempotency-Key) returns the campaign it created, token "",
    and creates nothing."""
    now = timezone.now()
    with tenant_context(workspace):
        if request_key and (existing := Campaign.objects.filter(request_key=request_key[:120]).first()):
            return existing, ""
        campaign = Campaign(workspace=workspace, request_key=request_key[:120],
                            **{k: v for k, v in fields.items() if k in CAMPAIGN_FIELDS})
        if not fields.get("starts_at"):
            campaign.starts_at = now
        _check(campaign, now=now)
        campaign.next_due_at = _next_due(campaign, now=now)
        try:
            with transaction.atomic():
                campaign.save()
        except IntegrityError:  # a concurrent request with the same Idempotency-Key won
            if not request_key:
                raise
            return Campaign.objects.get(request_key=request_key[:120]), ""
        token = ""
        if campaign.source_kind == Campaign.SourceKind.WEBHOOK:
            if not webhook_secret:
                raise CampaignError("Paste the store's webhook signing secret.", field="webhook_secret")
            token = secrets.token_urlsafe(24)
            StoreWebhookEndpoint.objects.create(workspace=workspace, campaign=campaign, secret=webhook_secret,
                                                token_hash=StoreWebhookEndpoint.hash_token(token))
        audit_log_write(workspace=workspace, action="campaign.created", actor=actor, target=str(campaign.pk),
                        data={"name": campaign.name, "schedule": campaign.schedule})
    logger.info("campaign.created campaign=%s workspace=%s next_due=%s", campaign.pk, workspace.pk,
                campaign.next_due_at)
    return campaign, token


@transaction.atomic
def campaign_update(*, workspace: Workspace, campaign: Campaign, actor=None, webhook_secret: str = "",
                    **fields) -> Campaign:
    """Change settings; the next due instant is recomputed from now (no catch-up for edits).
    A new ``webhook_secret`` replaces the store's signing secret (the address stays)."""
    now = timezone.now()
    with tenant_context(workspace):
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        for name, value in fields.items():
            if name in CAMPAIGN_FIELDS:
                setattr(campaign, name, value)
        _check(campaign, now=now)
        campaign.next_due_at = _next_due(campaign, now=now)
        campaign.save()
        if webhook_secret:
            StoreWebhookEndpoint.objects.filter(campaign=campaign).update(secret=webhook_secret)
        audit_log_write(workspace=workspace, action="campaign.updated", actor=actor, target=str(campaign.pk),
                        data={"fields": sorted(k for k in fields if k in CAMPAIGN_FIELDS)})
    return campaign


@transaction.atomic
def campaign_pause(*, workspace: Workspace, campaign: Campaign, paused: bool, actor=None) -> Campaign:
    """Pause (nothing becomes due) or resume (next due from now: runs missed while paused are
    not caught up)."""
    with tenant_context(workspace):
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.paused != paused:
            campaign.paused = paused
            campaign.next_due_at = _next_due(campaign, now=timezone.now())
            campaign.save(update_fields=["paused", "next_due_at", "updated_at"])
            audit_log_write(workspace=workspace, action="campaign.paused" if paused else "campaign.resumed",
                            actor=actor, target=str(campaign.pk))
    return campaign


@transaction.atomic
def campaign_delete(*, workspace: Workspace, campaign: Campaign, actor=None) -> None:
    """Delete a campaign with its runs; the videos it made stay (their jobs are not deleted)."""
    with tenant_context(workspace):
        audit_log_write(workspace=workspace, action="campaign.deleted", actor=actor, target=str(campaign.pk),
                        data={"name": campaign.name})
        Campaign.objects.filter(pk=campaign.pk).delete()


def _queue_run(run: CampaignRun) -> None:
    from .tasks import campaign_run_execute_task

    workspace_id, run_id = run.workspace_id, run.pk
    transaction.on_commit(lambda: campaign_run_execute_task.apply_async(args=(workspace_id, run_id)))


@transaction.atomic
def campaign_run_now(*, workspace: Workspace, campaign: Campaign, request_key: str = "", actor=None,
                     ) -> tuple[CampaignRun, bool]:
    """Start a run now (the schedule is untouched). Same ``request_key`` -> the same run, not a
    second one. Returns (run, created)."""
    with tenant_context(workspace):
        if request_key:
            existing = CampaignRun.objects.filter(campaign=campaign, request_key=request_key[:120]).first()
            if existing:
                return existing, False
        run = CampaignRun.objects.create(workspace=workspace, campaign=campaign, trigger=CampaignRun.Trigger.MANUAL,
                                         scheduled_for=timezone.now(), request_key=request_key[:120],
                                         heartbeat_at=timezone.now())
        audit_log_write(workspace=workspace, action="campaign.run_now", actor=actor, target=str(campaign.pk),
                        data={"run": run.pk})
        _queue_run(run)
    return run, True


def store_endpoint_find(*, token: str) -> StoreWebhookEndpoint | None:
    """The endpoint for an inbound webhook token (no tenant is known yet)."""
    return (StoreWebhookEndpoint.objects.select_related("workspace")
            .filter(token_hash=StoreWebhookEndpoint.hash_token(token)).first())


@transaction.atomic
def store_products_pushed(*, endpoint: StoreWebhookEndpoint, delivery_id: str, products: list[dict],
                          ) -> tuple[CampaignRun | None, bool]:
    """Record one verified delivery and start a run for its products. A repeated delivery id is
    a no-op (returns (None or its run, False)); a paused campaign records the delivery only."""
    workspace = endpoint.workspace
    with tenant_context(workspace):
        campaign = Campaign.objects.get(pk=endpoint.campaign_id)
        delivery, created = StoreWebhookDelivery.objects.get_or_create(
            workspace=workspace, campaign=campaign, delivery_id=delivery_id[:120])
        if not created:
            return delivery.run, False
        if campaign.paused:
            return None, True
        run = CampaignRun.objects.create(workspace=workspace, campaign=campaign, trigger=CampaignRun.Trigger.WEBHOOK,
                                         scheduled_for=timezone.now(), pushed_products=products,
                                         heartbeat_at=timezone.now())
        delivery.run = run
        delivery.save(update_fields=["run"])
        _queue_run(run)
    logger.info("campaign.store_push campaign=%s run=%s products=%s", campaign.pk, run.pk, len(products))
    return run, True
