"""Campaign pages: create with the form, list, detail with next runs, live preview JSON,
pause/resume/run-now, run page; viewers cannot write; the other workspace gets 404s."""
import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignRun
from tenancy.context import tenant_context
from tenancy.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, two_workspaces):
    assert client.login(username=two_workspaces["a"]["user"].username, password="pw-123456")
    return client


def _form(brand, **extra):
    return {"name": "Monday drops", "brand": brand.pk, "source_kind": "shopify",
            "source_url": "https://shop.example/collections/all", "mode": "new", "templates": ["product_showcase"],
            "aspects": ["9:16", "1:1"], "languages": ["en", "zh"], "variants": 1, "duration_s": 15,
            "schedule_kind": "cron", "schedule": "0 9 * * 1", "timezone": "Europe/Berlin", "credits_per_run": 20,
            "credits_per_month": 0, "voice": "", "music": "", "source_urls_text": "", **extra}


def test_create_list_detail_and_actions(logged_in, two_workspaces, queued):
    response = logged_in.post(reverse("dashboard:campaign-new"), _form(two_workspaces["a"]["brand"]))
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(two_workspaces["a"]["workspace"]):
        campaign = Campaign.objects.get()
    assert campaign.aspects == ["9:16", "1:1"] and campaign.next_due_at is not None
    listing = logged_in.get(reverse("dashboard:campaigns")).content.decode()
    assert "Monday drops" in listing and "At 09:00, only on Monday (Europe/Berlin)" in listing and "never" in listing
    detail = logged_in.get(reverse("dashboard:campaign", args=[campaign.pk])).content.decode()
    assert detail.count("<li>Mon ") == 5 and "09:00 CE" in detail
    logged_in.post(reverse("dashboard:campaign-action", args=[campaign.pk, "pause"]))
    assert "Paused." in logged_in.get(reverse("dashboard:campaign", args=[campaign.pk])).content.decode()
    logged_in.post(reverse("dashboard:campaign-action", args=[campaign.pk, "resume"]))
    response = logged_in.post(reverse("dashboard:campaign-action", args=[campaign.pk, "run-now"]))
    with tenant_context(two_workspaces["a"]["workspace"]):
        run = CampaignRun.objects.get()
        assert Campaign.objects.get().paused is False
    assert response["Location"] == reverse("dashboard:campaign-run", args=[campaign.pk, run.pk])
    assert "Manual run" in logged_in.get(response["Location"]).content.decode()


def test_form_errors_are_shown_next_to_the_field(logged_in, two_workspaces, queued):
    response = logged_in.post(reverse("dashboard:campaign-new"), _form(two_workspaces["a"]["brand"],
                                                                        schedule="every monday"))
    assert response.status_code == 200 and "Not a valid cron expression" in response.content.decode()
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert not Campaign.objects.exists()


def test_live_preview_json(logged_in):
    body = logged_in.get(reverse("dashboard:campaign-preview"),
                         {"kind": "cron", "schedule": "30 2 * * *", "timezone": "America/New_York"}).json()
    assert body["ok"] and body["text"] == "At 02:30 (America/New_York)" and len(body["next"]) == 5
    assert all("02:30 E" in t or "03:00 EDT" in t for t in body["next"])
    bad = logged_in.get(reverse("dashboard:campaign-preview"), {"schedule": "0 9 * * *", "timezone": "Nope/Nope"})
    assert bad.json() == {"ok": False, "error": "Unknown time zone 'Nope/Nope'; use an IANA name such as Europe/Berlin."}


def test_other_workspace_and_viewers(client, logged_in, two_workspaces, make_campaign, queued):
    campaign = make_campaign(two_workspaces["a"])
    client.logout()
    assert client.login(username=two_workspaces["b"]["user"].username, password="pw-123456")
    for name, args in (("dashboard:campaign", [campaign.pk]), ("dashboard:campaign-edit", [campaign.pk])):
        assert client.get(reverse(name, args=args)).status_code == 404
    assert client.post(reverse("dashboard:campaign-action", args=[campaign.pk, "run-now"])).status_code == 404
    assert "Weekly new products" not in client.get(reverse("dashboard:campaigns")).content.decode()
    client.logout()
    Membership.objects.filter(user=two_workspaces["a"]["user"]).update(role="viewer")
    assert client.login(username=two_workspaces["a"]["user"].username, password="pw-123456")
    assert client.get(reverse("dashboard:campaign", args=[campaign.pk])).status_code == 200
    assert client.post(reverse("dashboard:campaign-action", args=[campaign.pk, "pause"])).status_code == 403
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert CampaignRun.objects.count() == 0 and Campaign.objects.get().paused is False


def test_admin_shows_the_operators_workspace_only(client, two_workspaces, make_campaign, queued):
    make_campaign(two_workspaces["a"], name="Campaign of A")
    make_campaign(two_workspaces["b"], name="Campaign of B")
    operator = two_workspaces["a"]["user"]
    operator.is_staff = operator.is_superuser = True
    operator.save()
    assert client.login(username=operator.username, password="pw-123456")
    page = client.get("/admin/campaigns/campaign/").content.decode()
    assert "Campaign of A" in page and "Campaign of B" not in page
    assert client.get("/admin/campaigns/campaignrun/").status_code == 200
