"""Developers (API keys) and Usage (credits over time, per member)."""
from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from generation.jobs.models import VideoJob
from tenancy.models import ApiKey, CreditLedger
from tenancy.services import api_key_create, api_key_revoke, credit_balance

from .access import MANAGE, VIEW, role_required
from .forms import ApiKeyForm

USAGE_DAYS = 30


@role_required(MANAGE)
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        key, secret = api_key_create(workspace=request.workspace, name=form.cleaned_data["name"],
                                     scopes=form.cleaned_data["scopes"], created_by=request.user)
        messages.success(request, f"Key {key.prefix} created. Copy the secret now: it is shown only once.")
        form = ApiKeyForm()
    keys = ApiKey.objects.filter(workspace=request.workspace).select_related("created_by").order_by("-created_at")
    response = render(request, "dashboard/keys.html", {"form": form, "keys": keys, "secret": secret})
    response["Cache-Control"] = "no-store"  # the page may carry a secret
    return response


@require_POST
@role_required(MANAGE)
def api_key_revoke_view(request, prefix: str):
    if not ApiKey.objects.filter(workspace=request.workspace, prefix=prefix).exists():
        raise Http404
    api_key_revoke(workspace=request.workspace, prefix=prefix, actor=request.user)
    messages.success(request, f"Key {prefix} revoked.")
    return redirect("dashboard:keys")


def usage_data(*, workspace, days: int = USAGE_DAYS) -> dict:
    """Balance, held credits, credits spent per day (last ``days``) and per member."""
    since = timezone.now() - timedelta(days=days)
    spent = CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, state=CreditLedger.State.COMMITTED)
    held = CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, state=CreditLedger.State.HELD)
    daily = {row["day"]: -row["total"] for row in spent.filter(created_at__gte=since)
             .annotate(day=TruncDate("created_at")).values("day").annotate(total=Sum("amount"))}
    today = timezone.now().date()
    series = [{"day": today - timedelta(days=d), "credits": daily.get(today - timedelta(days=d), 0)}
              for d in range(days - 1, -1, -1)]
    members = (VideoJob.objects.values("created_by__username", "created_by__email")
               .annotate(videos=Count("pk"), ready=Count("pk", filter=Q(status=VideoJob.Status.SUCCEEDED)),
                         failed=Count("pk", filter=Q(status=VideoJob.Status.FAILED)))
               .order_by("-videos"))
    return {"balance": credit_balance(workspace=workspace), "held": -(held.aggregate(t=Sum("amount"))["t"] or 0),
            "held_count": held.count(), "series": series, "total": sum(p["credits"] for p in series),
            "members": list(members), "campaigns": usage_by_campaign(), "chart": usage_chart(series)}


def usage_by_campaign() -> list[dict]:
    """Per campaign (this workspace: scoped managers + RLS): videos made by its runs, how many
    are ready/failed, credits spent (committed reservations) and held (still running)."""
    jobs = (VideoJob.objects.filter(campaign_item__isnull=False)
            .values("pk", "status", "campaign_item__run__campaign_id", "campaign_item__run__campaign__name"))
    rows: dict[int, dict] = {}
    campaign_of: dict[str, dict] = {}
    for job in jobs:
        row = rows.setdefault(job["campaign_item__run__campaign_id"], {
            "id": job["campaign_item__run__campaign_id"], "name": job["campaign_item__run__campaign__name"],
            "videos": 0, "ready": 0, "failed": 0, "credits": 0, "held": 0})
        row["videos"] += 1
        row["ready"] += job["status"] == VideoJob.Status.SUCCEEDED
        row["failed"] += job["status"] == VideoJob.Status.FAILED
        campaign_of[f"video_job:{job['pk']}"] = row  # the reference credit reservations carry
    charges = CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, reference__in=list(campaign_of),
                                          state__in=[CreditLedger.State.COMMITTED, CreditLedger.State.HELD])
    for charge in charges.values("reference", "state", "amount"):
        key = "credits" if charge["state"] == CreditLedger.State.COMMITTED else "held"
        campaign_of[charge["reference"]][key] += -charge["amount"]
    return sorted(rows.values(), key=lambda r: (-r["credits"], -r["videos"], r["name"]))


def usage_chart(series: list[dict], *, width: int = 600, height: int = 160) -> dict:
    """Bars for a server-rendered SVG (no JS): x, y, w, h per day plus the axis maximum."""
    top = max([p["credits"] for p in series] + [1])
    bar_w = width / max(1, len(series))
    bars = [{"x": round(i * bar_w + 1, 1), "w": round(bar_w - 2, 1), "h": round(height * p["credits"] / top, 1),
             "y": round(height - height * p["credits"] / top, 1), "day": p["day"], "credits": p["credits"]}
            for i, p in enumerate(series)]
    return {"bars": bars, "max": top, "width": width, "height": height}


@role_required(VIEW)
def usage(request):
    return render(request, "dashboard/usage.html", usage_data(workspace=request.workspace))
