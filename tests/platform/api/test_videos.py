"""The public video API: key auth, scopes, validation errors, tenant isolation, OpenAPI."""
from unittest import mock

import pytest
from rest_framework.test import APIClient

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import api_key_create, credit_balance

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


@pytest.fixture
def queued():
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async") as apply_async:
        yield apply_async


def test_create_returns_202_and_queues_ingest_after_commit(clients, two_workspaces, queued,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["a"].post("/api/v1/videos", {"product_url": "https://shop.example/p/1"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["stage"] == "ingest" and body["aspect"] == "9:16"
    ws = two_workspaces["a"]["workspace"]
    queued.assert_called_once_with(args=(ws.pk, body["id"], "ingest"), queue="default")
    assert credit_balance(workspace=ws) == 9  # one credit held
    assert clients["a"].get(f"/api/v1/videos/{body['id']}").json()["id"] == body["id"]


def test_other_workspace_cannot_see_or_download_the_job(clients, queued):
    job_id = clients["a"].post("/api/v1/videos", {"product_url": "https://shop.example/p/1"}, format="json").json()["id"]
    assert clients["b"].get(f"/api/v1/videos/{job_id}").status_code == 404
    assert clients["b"].get(f"/api/v1/videos/{job_id}/files/video").status_code == 404
    assert clients["b"].get("/api/v1/videos").json() == []
    assert [j["id"] for j in clients["a"].get("/api/v1/videos").json()] == [job_id]


def test_brand_of_another_workspace_is_rejected(clients, two_workspaces, queued):
    other_brand = two_workspaces["b"]["brand"].pk
    response = clients["a"].post("/api/v1/videos", {"product_url": "https://x.example/p", "brand": other_brand},
                                 format="json")
    assert response.status_code == 400
    assert "brand" in response.json()["error"]["fields"]


@pytest.mark.parametrize("payload, field", [
    ({"product_url": "ftp://shop.example/p"}, "product_url"),
    ({"product_url": "not a url"}, "product_url"),
    ({"product_url": "https://shop.example/p", "aspect": "4:3"}, "aspect"),
    ({"product_url": "https://shop.example/p", "duration": 999}, "duration"),
    ({}, "product_url"),
])
def test_invalid_input_names_the_field(clients, payload, field, queued):
    response = clients["a"].post("/api/v1/videos", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    queued.assert_not_called()


def test_auth_and_scopes(two_workspaces, queued):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/videos").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer adf_nope.nope")
    assert bad.get("/api/v1/videos").status_code == 401
    ws = two_workspaces["a"]["workspace"]
    _, raw = api_key_create(workspace=ws, name="read-only", scopes=["videos:read"])
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert reader.get("/api/v1/videos").status_code == 200
    assert reader.post("/api/v1/videos", {"product_url": "https://x.example/p"}, format="json").status_code == 403


def test_no_credits_gives_402_and_no_job(clients, two_workspaces, queued):
    ws = two_workspaces["a"]["workspace"]
    for i in range(10):
        assert clients["a"].post("/api/v1/videos", {"product_url": f"https://x.example/{i}"},
                                 format="json").status_code == 202
    response = clients["a"].post("/api/v1/videos", {"product_url": "https://x.example/11"}, format="json")
    assert response.status_code == 402
    with tenant_context(ws):
        assert VideoJob.objects.count() == 10


def test_openapi_schema_lists_the_video_endpoints():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/videos" in text and "/api/v1/videos/{id}" in text
