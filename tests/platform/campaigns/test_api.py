"""/api/v1/campaigns: CRUD, validation, pause/resume, idempotent run-now, runs with their
videos, and two-workspace isolation."""
import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignRun
from campaigns.runs import campaign_run_execute
from tenancy.context import tenant_context
from tenancy.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(two_workspaces):
    out = {}
    for name, data in two_workspaces.items():
        _, raw = api_key_create(workspace=data["workspace"], name="test", created_by=data["user"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        out[name] = client
    return out


def _payload(brand, **extra):
    return {"name": "Mondays", "brand": brand.pk, "source_kind": "shopify", "source_url": "https://shop.example/",
            "mode": "new", "templates": ["product_showcase"], "aspects": ["9:16", "1:1"], "languages": ["en", "zh"],
            "schedule": "0 9 * * 1", "timezone": "Europe/Berlin", **extra}


def test_create_get_update_and_delete(clients, two_workspaces, queued):
    response = clients["a"].post("/api/v1/campaigns", _payload(two_workspaces["a"]["brand"]), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["schedule_text"] == "At 09:00, only on Monday (Europe/Berlin)"
    assert len(body["next_runs"]) == 5 and all("+00:00" in t for t in body["next_runs"])
    cid = body["id"]
    response = clients["a"].patch(f"/api/v1/campaigns/{cid}", {"schedule": "30 2 * * *"}, format="json")
    assert response.status_code == 200 and response.json()["schedule_text"].startswith("At 02:30")
    assert clients["a"].get(f"/api/v1/campaigns/{cid}").json()["schedule"] == "30 2 * * *"
    assert clients["a"].delete(f"/api/v1/campaigns/{cid}").status_code == 204
    assert clients["a"].get(f"/api/v1/campaigns/{cid}").status_code == 404


@pytest.mark.parametrize("extra, field", [
    ({"schedule": "every monday"}, "schedule"),
    ({"schedule": "* * * * *"}, "schedule"),            # denser than CAMPAIGNS_MIN_INTERVAL_S=3600 below
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"aspects": ["4:3"]}, "aspects"),
    ({"templates": ["no_such_template"]}, "templates"),
    ({"source_url": "ftp://shop.example/"}, "source_url"),
    ({"source_kind": "webhook", "source_url": ""}, "webhook_secret"),
])
def test_bad_input_is_a_400_naming_the_field(clients, two_workspaces, queued, settings, extra, field):
    settings.CAMPAIGNS_MIN_INTERVAL_S = 3600
    response = clients["a"].post("/api/v1/campaigns", _payload(two_workspaces["a"]["brand"], **extra), format="json")
    assert response.status_code == 400, response.content
    problem = response.json()  # RFC 9457: the field is the problem's `param` and in its `errors`
    assert response["Content-Type"] == "application/problem+json" and problem["code"] == "invalid_request"
    assert field in {e["param"].split("[")[0] for e in problem["errors"]}
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert not Campaign.objects.exists()


def test_pause_resume_and_idempotent_run_now(clients, two_workspaces, queued):
    cid = clients["a"].post("/api/v1/campaigns", _payload(two_workspaces["a"]["brand"]), format="json").json()["id"]
    paused = clients["a"].post(f"/api/v1/campaigns/{cid}/pause").json()
    assert paused["paused"] is True and paused["next_due_at"] is None and paused["next_runs"] == []
    resumed = clients["a"].post(f"/api/v1/campaigns/{cid}/resume").json()
    assert resumed["paused"] is False and resumed["next_due_at"]
    first = clients["a"].post(f"/api/v1/campaigns/{cid}/run-now", HTTP_IDEMPOTENCY_KEY="k-1")
    again = clients["a"].post(f"/api/v1/campaigns/{cid}/run-now", HTTP_IDEMPOTENCY_KEY="k-1")
    other = clients["a"].post(f"/api/v1/campaigns/{cid}/run-now", HTTP_IDEMPOTENCY_KEY="k-2")
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert [r["trigger"] for r in clients["a"].get(f"/api/v1/campaigns/{cid}/runs").json()] == ["manual", "manual"]


def test_run_detail_lists_its_videos(clients, two_workspaces, queued, store):
    store.add("Aurora Bottle")
    payload = _payload(two_workspaces["a"]["brand"], source_url=store.url, aspects=["9:16"], languages=["en"])
    cid = clients["a"].post("/api/v1/campaigns", payload, format="json").json()["id"]
    run_id = clients["a"].post(f"/api/v1/campaigns/{cid}/run-now").json()["id"]
    with tenant_context(two_workspaces["a"]["workspace"]):
        campaign_run_execute(run_id=run_id)
    body = clients["a"].get(f"/api/v1/campaigns/{cid}/runs/{run_id}").json()
    assert body["status"] == "running" and body["products_found"] == 1 and body["jobs_created"] == 1
    [item] = body["items"]
    assert item["product_title"] == "Aurora Bottle" and item["video"]["status"] == "queued"
    assert item["video"]["url"].endswith(f"/api/v1/videos/{item['video']['id']}")
    assert clients["a"].get(item["video"]["url"]).status_code == 200


def test_the_other_workspace_sees_nothing(clients, two_workspaces, queued):
    cid = clients["a"].post("/api/v1/campaigns", _payload(two_workspaces["a"]["brand"]), format="json").json()["id"]
    run_id = clients["a"].post(f"/api/v1/campaigns/{cid}/run-now").json()["id"]
    b = clients["b"]
    assert b.get("/api/v1/campaigns").json() == []
    for url in (f"/api/v1/campaigns/{cid}", f"/api/v1/campaigns/{cid}/runs", f"/api/v1/campaigns/{cid}/runs/{run_id}"):
        assert b.get(url).status_code == 404
    for action in ("pause", "resume", "run-now"):
        assert b.post(f"/api/v1/campaigns/{cid}/{action}").status_code == 404
    assert b.patch(f"/api/v1/campaigns/{cid}", {"name": "x"}, format="json").status_code == 404
    assert b.delete(f"/api/v1/campaigns/{cid}").status_code == 404
    # Nor can B point a campaign at A's brand.
    response = b.post("/api/v1/campaigns", _payload(two_workspaces["a"]["brand"]), format="json")
    assert response.status_code == 400 and "brand" in {e["param"] for e in response.json()["errors"]}
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert Campaign.objects.get(pk=cid).name == "Mondays" and CampaignRun.objects.count() == 1


def test_read_only_key_cannot_write(two_workspaces, queued):
    _, raw = api_key_create(workspace=two_workspaces["a"]["workspace"], name="ro", scopes=["videos:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/campaigns").status_code == 200
    assert client.post("/api/v1/campaigns", _payload(two_workspaces["a"]["brand"]), format="json").status_code == 403
    assert APIClient().get("/api/v1/campaigns").status_code == 401


def test_openapi_lists_the_campaign_endpoints():
    text = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/{id}/run-now", "/api/v1/campaigns/{id}/runs/{run_id}"):
        assert path in text


def test_create_with_the_same_idempotency_key_makes_one_campaign(clients, two_workspaces, queued):
    payload = _payload(two_workspaces["a"]["brand"])
    first = clients["a"].post("/api/v1/campaigns", payload, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = clients["a"].post("/api/v1/campaigns", payload, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    other_ws = clients["b"].post("/api/v1/campaigns", _payload(two_workspaces["b"]["brand"]), format="json",
                                 HTTP_IDEMPOTENCY_KEY="create-1")  # keys are per workspace
    assert (first.status_code, again.status_code, other_ws.status_code) == (201, 200, 201)
    assert first.json()["id"] == again.json()["id"] != other_ws.json()["id"]
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert Campaign.objects.count() == 1
