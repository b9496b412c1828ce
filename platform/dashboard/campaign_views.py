"""Dashboard pages for campaigns: list, create/edit with a live schedule preview, detail with
run history, one run with the thumbnails of its videos, pause/resume/run-now. Every read goes
through the workspace-scoped managers (and RLS); writes need an editor role."""
from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from campaigns.models import Campaign, CampaignRun
from campaigns.schedule import Schedule, ScheduleError, occurrences_preview, schedule_describe
from campaigns.services import (LANGUAGES, CampaignError, campaign_create, campaign_schedule_check, campaign_pause, campaign_run_now,
                                campaign_update)
from generation.jobs.services import ASPECTS
from tenancy.models import Brand

from .access import EDIT, VIEW, role_required

_EDITABLE = ("name", "brand", "source_kind", "source_url", "mode", "templates", "aspects", "languages", "variants",
             "voice", "duration_s", "music", "schedule_kind", "schedule", "timezone", "credits_per_run",
             "credits_per_month")


def _templates() -> list[tuple[str, str]]:
    from generation.video import list_templates

    return [(name, name.replace("_", " ").title()) for name in list_templates()]


class CampaignForm(forms.ModelForm):
    brand = forms.ModelChoiceField(queryset=Brand.unscoped.none(), empty_label=None)
    templates = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple)
    aspects = forms.MultipleChoiceField(choices=[(a, a) for a in ASPECTS], widget=forms.CheckboxSelectMultiple)
    languages = forms.MultipleChoiceField(choices=[(lang, lang) for lang in LANGUAGES],
                                          widget=forms.CheckboxSelectMultiple)
    source_urls_text = forms.CharField(label="Product links (one per line)", required=False,
                                       widget=forms.Textarea(attrs={"rows": 3}))
    webhook_secret = forms.CharField(label="Store webhook signing secret", required=False,
                                     widget=forms.PasswordInput(render_value=False))
    duration_s = forms.IntegerField(min_value=6, max_value=60, initial=15, label="Duration (s)")

    class Meta:
        model = Campaign
        fields = list(_EDITABLE)
        widgets = {"schedule": forms.TextInput(attrs={"placeholder": "0 9 * * 1   or   FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = Brand.objects.order_by("name")  # current workspace only
        self.fields["templates"].choices = _templates()
        self.fields["source_url"].required = False
        if self.instance.pk:
            self.fields["source_urls_text"].initial = "\n".join(self.instance.source_urls or [])

    def clean_source_urls_text(self) -> list[str]:
        urls = [u.strip() for u in self.cleaned_data["source_urls_text"].splitlines() if u.strip()]
        bad = [u for u in urls if not u.lower().startswith(("http://", "https://"))]
        if bad:
            raise forms.ValidationError(f"Not an http(s) link: {bad[0]}")
        return urls[:1000]

    def campaign_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in _EDITABLE}
        fields["source_urls"] = self.cleaned_data["source_urls_text"]
        return fields


def _campaign_or_404(request, pk: int) -> Campaign:
    campaign = Campaign.objects.select_related("brand").filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


@role_required(VIEW)
def campaign_list(request):
    campaigns = list(Campaign.objects.select_related("brand").order_by("name"))
    rows = [{"campaign": c, "last": c.runs.order_by("-scheduled_for").first(), "zone": c.as_schedule().zone,
             "text": schedule_describe(c.as_schedule()) if c.schedule else "Run now / store push only"}
            for c in campaigns]
    return render(request, "dashboard/campaigns/list.html", {"rows": rows})


def _save(request, form: CampaignForm, campaign: Campaign | None):
    try:
        if campaign is None:
            campaign, token = campaign_create(workspace=request.workspace, actor=request.user,
                                              webhook_secret=form.cleaned_data["webhook_secret"],
                                              **form.campaign_fields())
            if token:
                messages.info(request, "Point the store's products/create webhook at "
                              + request.build_absolute_uri(f"/api/v1/campaign-hooks/shopify/{token}")
                              + " (shown once).")
        else:
            campaign = campaign_update(workspace=request.workspace, campaign=campaign, actor=request.user,
                                       webhook_secret=form.cleaned_data["webhook_secret"], **form.campaign_fields())
    except CampaignError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None
    return campaign


@role_required(EDIT, write_only=True)
def campaign_edit(request, pk: int | None = None):
    campaign = _campaign_or_404(request, pk) if pk else None
    initial = {} if campaign else {"templates": ["product_showcase"], "aspects": ["9:16"], "languages": ["en"],
                                   "schedule": "0 9 * * 1", "timezone": "Europe/Berlin", "mode": "new"}
    form = CampaignForm(request.POST or None, instance=campaign or Campaign(), initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, campaign)
        if saved is not None:
            return redirect("dashboard:campaign", pk=saved.pk)
    return render(request, "dashboard/campaigns/form.html", {"form": form, "campaign": campaign})


@role_required(VIEW)
def campaign_detail(request, pk: int):
    campaign = _campaign_or_404(request, pk)
    preview = occurrences_preview(campaign.as_schedule(), after=campaign.next_due_at, count=4) \
        if campaign.next_due_at else []
    upcoming = ([campaign.next_due_at] + preview) if campaign.next_due_at else []
    return render(request, "dashboard/campaigns/detail.html", {
        "campaign": campaign, "runs": campaign.runs.order_by("-scheduled_for")[:50],
        "zone": campaign.as_schedule().zone, "upcoming": upcoming,
        "text": schedule_describe(campaign.as_schedule()) if campaign.schedule else ""})


@role_required(VIEW)
def campaign_run_detail(request, pk: int, run_id: int):
    campaign = _campaign_or_404(request, pk)
    run = CampaignRun.objects.filter(campaign=campaign, pk=run_id).first()
    if run is None:
        raise Http404
    items = run.items.select_related("job").order_by("position")[:500]
    return render(request, "dashboard/campaigns/run.html", {"campaign": campaign, "run": run, "items": items})


@require_POST
@role_required(EDIT)
def campaign_action(request, pk: int, action: str):
    campaign = _campaign_or_404(request, pk)
    if action in ("pause", "resume"):
        campaign_pause(workspace=request.workspace, campaign=campaign, paused=action == "pause", actor=request.user)
        messages.info(request, f"Campaign {'paused' if action == 'pause' else 'resumed'}.")
    elif action == "run-now":
        run, _ = campaign_run_now(workspace=request.workspace, campaign=campaign, actor=request.user,
                                  request_key=request.POST.get("request_key", ""))
        return redirect("dashboard:campaign-run", pk=campaign.pk, run_id=run.pk)
    else:
        raise Http404
    return redirect("dashboard:campaign", pk=campaign.pk)


@role_required(VIEW)
def schedule_preview(request):
    """JSON for the form's live preview: readable text and the next five runs in the zone."""
    kind, expression = request.GET.get("kind", "cron"), request.GET.get("schedule", "").strip()[:500]
    zone_name = request.GET.get("timezone", "UTC")[:64]
    try:
        schedule = Schedule(kind, expression, zone_name, starts_at=datetime.now(UTC))
        campaign_schedule_check(schedule=schedule)  # refuses rules too dense or too costly to expand
        times = occurrences_preview(schedule, after=datetime.now(UTC), count=5)
        text = schedule_describe(schedule)
    except (ScheduleError, CampaignError) as exc:
        return JsonResponse({"ok": False, "error": getattr(exc, "message", str(exc))})
    return JsonResponse({"ok": True, "text": text, "next": [
        t.astimezone(schedule.zone).strftime("%a %d %b %Y %H:%M %Z") for t in times]})


urlpatterns = [
    path("campaigns/", campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_edit, name="campaign-new"),
    path("campaigns/preview.json", schedule_preview, name="campaign-preview"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/runs/<int:run_id>/", campaign_run_detail, name="campaign-run"),
    path("campaigns/<int:pk>/<str:action>/", campaign_action, name="campaign-action"),
]
