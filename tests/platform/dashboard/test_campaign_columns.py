"""Library campaign column and filter, and the Usage page's per-campaign credits, each with
two workspaces (B's campaign never shows in A's pages)."""
import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun, CampaignRunItem
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import credit_commit, credit_reserve

from .conftest import login

pytestmark = pytest.mark.django_db


def _campaign_job(ws, name: str, *, position: int = 0, status: str = "succeeded", charge: str | None = "commit"):
    """A job made by a run of campaign ``name`` (created when missing), with its credit charge."""
    with tenant_context(ws["workspace"]):
        campaign = Campaign.objects.filter(name=name).first() or Campaign.objects.create(
            workspace=ws["workspace"], brand=ws["brand"], name=name, source_kind="list",
            source_urls=["https://shop.example/p"], templates=["product_showcase"], aspects=["9:16"], languages=["en"])
        run = campaign.runs.first() or CampaignRun.objects.create(workspace=ws["workspace"], campaign=campaign,
                                                                  scheduled_for=timezone.now())
        job = VideoJob.objects.create(workspace=ws["workspace"], brand=ws["brand"], product_url="https://shop.example/p",
                                      template="product_showcase", status=status)
        CampaignRunItem.objects.create(workspace=ws["workspace"], run=run, position=position,
                                       product_key=f"p{position}", product_url="https://shop.example/p",
                                       template="product_showcase", aspect="9:16", language="en",
                                       status="created", job=job)
    if charge:
        credit_reserve(workspace=ws["workspace"], amount=1, reference=f"video_job:{job.pk}")
        if charge == "commit":
            credit_commit(workspace=ws["workspace"], reference=f"video_job:{job.pk}")
    return campaign, job


def _plain_job(ws):
    with tenant_context(ws["workspace"]):
        return VideoJob.objects.create(workspace=ws["workspace"], brand=ws["brand"], product_url="https://x.example/q",
                                       template="product_showcase", status="succeeded")


def test_library_shows_and_filters_by_campaign(client, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    spring, made = _campaign_job(a, "Spring drops")
    plain = _plain_job(a)
    theirs, _ = _campaign_job(b, "B secret campaign")
    login(client, a["user"])
    page = client.get(reverse("dashboard:library"))
    html = page.content.decode()
    link = reverse("dashboard:campaign", args=[spring.pk])
    assert f'href="{link}"' in html and "Spring drops" in html and "B secret campaign" not in html
    by_job = {job.pk: job.campaign for job in page.context["page"].object_list}
    assert by_job == {made.pk: spring, plain.pk: None}

    filtered = client.get(reverse("dashboard:library"), {"campaign": spring.pk})
    assert [j.pk for j in filtered.context["page"].object_list] == [made.pk]
    # B's campaign is not a valid choice here: the filter is rejected, nothing of B's shows.
    foreign = client.get(reverse("dashboard:library"), {"campaign": theirs.pk})
    assert "campaign" in foreign.context["form"].errors
    assert "B secret campaign" not in foreign.content.decode()


def test_usage_breaks_credits_down_per_campaign(client, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    spring, _ = _campaign_job(a, "Spring drops", position=0)
    _campaign_job(a, "Spring drops", position=1)
    _campaign_job(a, "Spring drops", position=2, status="running", charge="hold")
    _campaign_job(a, "Summer", position=0, status="failed", charge=None)
    _campaign_job(b, "B secret campaign")
    _plain_job(a)
    login(client, a["user"])
    page = client.get(reverse("dashboard:usage"))
    rows = {r["name"]: r for r in page.context["campaigns"]}
    assert set(rows) == {"Spring drops", "Summer"}
    assert rows["Spring drops"] | {} == {"id": spring.pk, "name": "Spring drops", "videos": 3, "ready": 2,
                                         "failed": 0, "credits": 2, "held": 1}
    assert (rows["Summer"]["videos"], rows["Summer"]["failed"], rows["Summer"]["credits"]) == (1, 1, 0)
    html = page.content.decode()
    assert "By campaign" in html and reverse("dashboard:campaign", args=[spring.pk]) in html
    assert "B secret campaign" not in html
