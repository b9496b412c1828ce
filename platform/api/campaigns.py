"""/api/v1/campaigns: scheduled video runs over a product source — CRUD, pause/resume, run-now,
and the runs with their videos. Tenant-scoped by the API key's workspace (scoped manager + RLS).

Scopes: reads need ``read``, writes ``write`` (a campaign makes videos and spends credits).
Idempotency: create and ``run-now`` honour ``Idempotency-Key`` (same key -> the same campaign /
run, 200 instead of 201/202, nothing new); pause and resume are idempotent by nature."""
from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from campaigns.models import Campaign, CampaignRun, CampaignRunItem
from campaigns.schedule import occurrences_preview, schedule_describe
from campaigns.webhooks import shopify_products_create
from campaigns.services import (CampaignError, campaign_create, campaign_delete, campaign_pause, campaign_run_now,
                                campaign_update)
from tenancy.models import Brand

from .permissions import HasScope
from .views import TenantAPIView


class _WorkspaceBrandField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Brand.unscoped.none(), **kwargs)

    def get_queryset(self):
        return Brand.objects.all()  # evaluated per request: the key's workspace only


class CampaignSerializer(serializers.ModelSerializer):
    brand = _WorkspaceBrandField()
    source_urls = serializers.ListField(child=serializers.URLField(max_length=2000), max_length=1000, required=False)
    templates = serializers.ListField(child=serializers.CharField(max_length=60), min_length=1, max_length=10)
    aspects = serializers.ListField(child=serializers.CharField(max_length=5), min_length=1, max_length=3)
    languages = serializers.ListField(child=serializers.CharField(max_length=10), min_length=1, max_length=5)
    duration_s = serializers.IntegerField(min_value=6, max_value=60, default=15)
    webhook_secret = serializers.CharField(write_only=True, required=False, max_length=200)
    schedule_text = serializers.SerializerMethodField()
    next_runs = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "brand", "source_kind", "source_url", "source_urls", "mode", "templates", "aspects",
                  "languages", "variants", "voice", "duration_s", "music", "schedule_kind", "schedule", "timezone",
                  "starts_at", "ends_at", "paused", "credits_per_run", "credits_per_month", "next_due_at",
                  "schedule_text", "next_runs", "webhook_secret", "created_at", "updated_at"]
        read_only_fields = ["paused", "next_due_at", "created_at", "updated_at"]

    def validate_source_url(self, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http(s) links are accepted.")
        return value

    def get_schedule_text(self, campaign: Campaign) -> str | None:
        return schedule_describe(campaign.as_schedule()) if campaign.schedule else None

    def get_next_runs(self, campaign: Campaign) -> list[str]:
        if not campaign.next_due_at:
            return []
        first = [campaign.next_due_at]
        more = occurrences_preview(campaign.as_schedule(), after=campaign.next_due_at, count=4)
        return [t.isoformat() for t in first + more]


class RunVideoSerializer(serializers.ModelSerializer):
    video = serializers.SerializerMethodField()
    product_url = serializers.CharField()
    status = serializers.CharField()

    class Meta:
        model = CampaignRunItem
        fields = ["id", "product_url", "product_title", "template", "aspect", "language", "variant", "status",
                  "skip_reason", "video"]

    def get_video(self, item: CampaignRunItem) -> dict | None:
        if item.job is None:
            return None
        request = self.context["request"]
        return {"id": item.job_id, "status": item.job.status,
                "url": request.build_absolute_uri(f"/api/v1/videos/{item.job_id}")}


class RunSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending | reading | running | completed | failed")
    trigger = serializers.CharField(read_only=True, help_text="schedule | manual | webhook")

    class Meta:
        model = CampaignRun
        fields = ["id", "campaign", "trigger", "status", "scheduled_for", "started_at", "finished_at",
                  "missed_occurrences", "products_found", "products_new", "products_skipped", "skip_reasons",
                  "jobs_created", "jobs_succeeded", "jobs_failed", "credits_used", "failure_reason", "created_at"]


class RunDetailSerializer(RunSerializer):
    items = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = RunSerializer.Meta.fields + ["items"]

    def get_items(self, run: CampaignRun) -> list[dict]:
        items = run.items.select_related("job").order_by("position")[:2000]
        return RunVideoSerializer(items, many=True, context=self.context).data


def _invalid(exc: CampaignError):
    """A service-level validation error, raised through the API's one error handler (400)."""
    raise serializers.ValidationError({exc.field: [exc.message]}) from exc


class _CampaignView(TenantAPIView):
    permission_classes = [HasScope]
    read_scope, write_scope = "read", "write"

    def campaign(self, pk: int) -> Campaign:
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise Http404
        return campaign


class CampaignListCreate(_CampaignView):
    @extend_schema(responses=CampaignSerializer(many=True))
    def get(self, request):
        return Response(CampaignSerializer(Campaign.objects.order_by("pk")[:200], many=True).data)

    @extend_schema(request=CampaignSerializer, responses={201: CampaignSerializer})
    def post(self, request):
        data = CampaignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        secret = fields.pop("webhook_secret", "")
        key = request.headers.get("Idempotency-Key", "")
        if key and (existing := Campaign.objects.filter(request_key=key[:120]).first()):
            return Response(CampaignSerializer(existing).data, status=status.HTTP_200_OK)  # a retried POST
        try:
            campaign, token = campaign_create(workspace=self.workspace, actor=request.auth.created_by,
                                              webhook_secret=secret, request_key=key, **fields)
        except CampaignError as exc:
            _invalid(exc)
        body = CampaignSerializer(campaign).data
        if token:  # shown once
            body["webhook_url"] = request.build_absolute_uri(f"/api/v1/campaign-hooks/shopify/{token}")
        return Response(body, status=status.HTTP_201_CREATED)


class CampaignDetail(_CampaignView):
    @extend_schema(responses=CampaignSerializer)
    def get(self, request, pk: int):
        return Response(CampaignSerializer(self.campaign(pk)).data)

    @extend_schema(request=CampaignSerializer, responses=CampaignSerializer)
    def patch(self, request, pk: int):
        campaign = self.campaign(pk)
        data = CampaignSerializer(campaign, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        try:
            campaign = campaign_update(workspace=self.workspace, campaign=campaign,
                                       actor=request.auth.created_by, **fields)
        except CampaignError as exc:
            _invalid(exc)
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        campaign_delete(workspace=self.workspace, campaign=self.campaign(pk), actor=request.auth.created_by)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignPause(_CampaignView):
    paused = True

    @extend_schema(request=None, responses=CampaignSerializer)
    def post(self, request, pk: int):
        campaign = campaign_pause(workspace=self.workspace, campaign=self.campaign(pk), paused=self.paused,
                                  actor=request.auth.created_by)
        return Response(CampaignSerializer(campaign).data)


class CampaignResume(CampaignPause):
    paused = False


class CampaignRunNow(_CampaignView):
    @extend_schema(request=None, responses={202: RunSerializer, 200: RunSerializer})
    def post(self, request, pk: int):
        run, created = campaign_run_now(workspace=self.workspace, campaign=self.campaign(pk),
                                        request_key=request.headers.get("Idempotency-Key", ""),
                                        actor=request.auth.created_by)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class CampaignRunList(_CampaignView):
    @extend_schema(responses=RunSerializer(many=True))
    def get(self, request, pk: int):
        runs = CampaignRun.objects.filter(campaign=self.campaign(pk)).order_by("-scheduled_for")[:100]
        return Response(RunSerializer(runs, many=True).data)


class CampaignRunDetail(_CampaignView):
    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, pk: int, run_id: int):
        run = CampaignRun.objects.filter(campaign=self.campaign(pk), pk=run_id).first()
        if run is None:
            raise Http404
        return Response(RunDetailSerializer(run, context={"request": request}).data)


urlpatterns = [
    path("v1/campaigns", CampaignListCreate.as_view(), name="campaigns"),
    path("v1/campaigns/<int:pk>", CampaignDetail.as_view(), name="campaign"),
    path("v1/campaigns/<int:pk>/pause", CampaignPause.as_view(), name="campaign-pause"),
    path("v1/campaigns/<int:pk>/resume", CampaignResume.as_view(), name="campaign-resume"),
    path("v1/campaigns/<int:pk>/run-now", CampaignRunNow.as_view(), name="campaign-run-now"),
    path("v1/campaigns/<int:pk>/runs", CampaignRunList.as_view(), name="campaign-runs"),
    path("v1/campaigns/<int:pk>/runs/<int:run_id>", CampaignRunDetail.as_view(), name="campaign-run"),
    path("v1/campaign-hooks/shopify/<str:token>", shopify_products_create, name="campaign-hook-shopify"),
]
