"""Campaigns: a brand's recurring video runs over a product source.

Campaign (what/when/how much) -> CampaignRun (one occurrence; unique per (campaign,
scheduled_for)) -> CampaignRunItem (one planned video; unique per (run, product, template,
aspect, language, variant), holding the VideoJob it created). CampaignSeenProduct is the
per-campaign seen-set ("new products only" and "price drop" modes). The next due instant
lives in PostgreSQL (``Campaign.next_due_at``); the beat only ticks."""
from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.timezone import now as _now

from tenancy.managers import TenantModel


class Campaign(TenantModel):
    class SourceKind(models.TextChoices):
        LIST = "list", "Fixed list of product links"
        SHOPIFY = "shopify", "Shopify products.json"
        SITEMAP = "sitemap", "Sitemap"
        FEED = "feed", "CSV / Merchant feed"
        CATEGORY = "category", "Category page"
        WEBHOOK = "webhook", "Pushed by the store (Shopify products/create)"

    class Mode(models.TextChoices):
        ALL = "all", "All products"
        NEW = "new", "New products only"
        PRICE_DROP = "price_drop", "Products whose price dropped"

    class ScheduleKind(models.TextChoices):
        CRON = "cron"
        RRULE = "rrule"

    brand = models.ForeignKey("tenancy.Brand", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    # Product source
    source_kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.SHOPIFY)
    source_url = models.URLField(max_length=2000, blank=True)
    source_urls = models.JSONField(default=list, blank=True, help_text="fixed list of product links")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.NEW)
    # Output matrix: templates x aspects x languages x variants
    templates = models.JSONField(default=list)
    aspects = models.JSONField(default=list)
    languages = models.JSONField(default=list)
    variants = models.PositiveSmallIntegerField(default=1)
    voice = models.CharField(max_length=80, blank=True, help_text="empty = the brand's voice")
    duration_s = models.PositiveSmallIntegerField(default=15)
    music = models.CharField(max_length=80, blank=True, help_text="empty = the template's music")
    # Schedule (occurrences in the campaign's zone; see campaigns.schedule for the DST rules)
    schedule_kind = models.CharField(max_length=5, choices=ScheduleKind.choices, default=ScheduleKind.CRON)
    schedule = models.CharField(max_length=500, blank=True, help_text="cron expression or RRULE")
    timezone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField(default=_now)
    ends_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    next_due_at = models.DateTimeField(null=True, blank=True, help_text="null: nothing due (paused/ended)")
    # Budget in credits (0 = no limit)
    credits_per_run = models.PositiveIntegerField(default=0)
    credits_per_month = models.PositiveIntegerField(default=0)
    request_key = models.CharField(max_length=120, blank=True, help_text="Idempotency-Key of the create request")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["next_due_at"], name="campaign_due_idx",
                                condition=Q(paused=False, next_due_at__isnull=False))]
        constraints = [models.UniqueConstraint(fields=["workspace", "request_key"], condition=~Q(request_key=""),
                                               name="campaign_request_key_once")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_schedule(self):
        from .schedule import Schedule

        return Schedule(kind=self.schedule_kind, expression=self.schedule, timezone=self.timezone,
                        starts_at=self.starts_at, ends_at=self.ends_at)

    @property
    def is_scheduled(self) -> bool:
        return bool(self.schedule)


class CampaignRun(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending"        # claimed, not started
        READING = "reading"        # reading the product source
        RUNNING = "running"        # jobs created / being created, not all finished
        COMPLETED = "completed"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        MANUAL = "manual"
        WEBHOOK = "webhook"

    ACTIVE = (Status.PENDING, Status.READING, Status.RUNNING)

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    scheduled_for = models.DateTimeField()
    request_key = models.CharField(max_length=120, blank=True, help_text="Idempotency-Key of a run-now request")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    missed_occurrences = models.PositiveIntegerField(default=0, help_text="older occurrences folded into this run")
    pushed_products = models.JSONField(default=list, blank=True, help_text="products pushed by a store webhook")
    products_found = models.PositiveIntegerField(default=0)
    products_new = models.PositiveIntegerField(default=0)
    products_skipped = models.PositiveIntegerField(default=0)
    skip_reasons = models.JSONField(default=dict, blank=True, help_text="reason -> count")
    jobs_created = models.PositiveIntegerField(default=0)
    jobs_succeeded = models.PositiveIntegerField(default=0)
    jobs_failed = models.PositiveIntegerField(default=0)
    credits_used = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "scheduled_for"], name="campaign_run_once_per_instant"),
            models.UniqueConstraint(fields=["campaign", "request_key"], condition=~Q(request_key=""),
                                    name="campaign_run_request_key_once"),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]
        ordering = ["-scheduled_for"]

    def __str__(self) -> str:
        return f"{self.campaign_id}@{self.scheduled_for:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.COMPLETED, self.Status.FAILED}


class CampaignRunItem(TenantModel):
    """One video a run decided to make (or skipped, with the reason). The unique key makes a
    retried or duplicated run task unable to create a second job for the same output."""

    class Status(models.TextChoices):
        PLANNED = "planned"
        CREATED = "created"
        SKIPPED = "skipped"

    run = models.ForeignKey(CampaignRun, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    product_key = models.CharField(max_length=300)
    product_url = models.URLField(max_length=2000)
    product_title = models.CharField(max_length=300, blank=True)
    template = models.CharField(max_length=60)
    aspect = models.CharField(max_length=5)
    language = models.CharField(max_length=10)
    variant = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    skip_reason = models.CharField(max_length=200, blank=True)
    job = models.OneToOneField("generation.VideoJob", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="campaign_item")

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["run", "product_key", "template", "aspect", "language", "variant"],
            name="campaign_item_once_per_output")]
        ordering = ["position"]


class CampaignSeenProduct(TenantModel):
    """The per-campaign seen-set: products a campaign has already made videos for, with the
    last price it saw (for price-drop runs)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="seen")
    product_key = models.CharField(max_length=300)
    product_url = models.URLField(max_length=2000)
    last_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "product_key"], name="campaign_seen_once")]


class StoreWebhookEndpoint(models.Model):
    """Where a store pushes products/create for one campaign. Not under RLS: the inbound
    request names only the token, so the endpoint is found before any tenant is known; every
    read after that runs in ``workspace``'s context. The token is stored hashed; the signing
    secret must be kept in clear to verify HMACs (like any webhook signing secret)."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="webhook_endpoint")
    token_hash = models.CharField(max_length=64, unique=True)
    secret = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class StoreWebhookDelivery(TenantModel):
    """One accepted delivery, keyed by the store's delivery id (X-Shopify-Webhook-Id)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    delivery_id = models.CharField(max_length=120)
    run = models.ForeignKey(CampaignRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "delivery_id"], name="store_delivery_once")]
