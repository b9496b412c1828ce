"""/api/v1/videos: create (variants × aspects), list + cursor, get, cancel, batch, estimate,
signed downloads; two-workspace isolation with forged ids; scopes."""
import json
from pathlib import Path

import pytest
from django.conf import settings

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import CreditLedger
from tenancy.services import credit_balance

pytestmark = pytest.mark.django_db
URL = "https://shop.example/p/1"


def create(client, **body):
    return client.post("/api/v1/videos", {"product_url": URL, **body}, format="json")


def test_create_makes_one_job_per_variant_and_aspect_grouped_by_request(api, queued,
                                                                       django_capture_on_commit_callbacks):
    ws = api["a"]["workspace"]
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api["a"]["write"], aspects=["9:16", "1:1"], variants=2, voice="en-us",
                          framework="three_reasons", music="calm", duration=20, language="en")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["request_id"].startswith("req_") and len(body["videos"]) == 4
    assert sorted((v["variant"], v["aspect"]) for v in body["videos"]) == [
        (0, "1:1"), (0, "9:16"), (1, "1:1"), (1, "9:16")]
    first = body["videos"][0]
    assert (first["status"], first["stage"], first["voice"], first["framework"], first["music"],
            first["duration_s"]) == ("queued", "ingest", "en-us", "three_reasons", "calm", 20)
    assert queued.call_count == 4
    assert credit_balance(workspace=ws) == 6  # four credits held
    with tenant_context(ws):
        assert set(VideoJob.objects.values_list("request_id", flat=True)) == {body["request_id"]}


def test_create_from_a_product_id(api, queued):
    from catalog.models import Product

    ws = api["a"]["workspace"]
    with tenant_context(ws):
        product = Product.objects.create(workspace=ws, source_url="https://shop.example/p/9", title="Nine")
    response = api["a"]["write"].post("/api/v1/videos", {"product_id": product.pk}, format="json")
    assert response.status_code == 202, response.content
    video = response.json()["videos"][0]
    assert (video["product"], video["product_url"]) == (product.pk, "https://shop.example/p/9")
    forged = api["b"]["write"].post("/api/v1/videos", {"product_id": product.pk}, format="json")
    assert forged.status_code == 400 and forged.json()["param"] == "product_id"


def test_all_or_nothing_when_credits_cannot_cover_every_variant(api, queued):
    response = create(api["a"]["write"], aspects=["9:16", "1:1", "16:9"], variants=4)  # 12 > 10 credits
    assert response.status_code == 402
    problem = response.json()
    assert problem["code"] == "insufficient_credits" and problem["status"] == 402
    assert response["Content-Type"] == "application/problem+json"
    with tenant_context(api["a"]["workspace"]):
        assert VideoJob.objects.count() == 0 and not CreditLedger.objects.filter(kind="reserve").exists()
    assert credit_balance(workspace=api["a"]["workspace"]) == 10


@pytest.mark.parametrize("payload, param", [
    ({"product_url": "ftp://shop.example/p"}, "product_url"),
    ({"product_url": "not a url"}, "product_url"),
    ({"product_url": URL, "aspects": ["4:3"]}, "aspects[0]"),
    ({"product_url": URL, "aspects": ["1:1", "1:1"]}, "aspects"),
    ({"product_url": URL, "duration": 999}, "duration"),
    ({"product_url": URL, "variants": 0}, "variants"),
    ({"product_url": URL, "framework": "nope"}, "framework"),
    ({"product_url": URL, "template": "nope"}, "template"),
    ({"product_url": URL, "music": "loud"}, "music"),
    ({}, "product_url"),
    ({"product_url": URL, "product_id": 999999}, "product_id"),
])
def test_invalid_input_is_a_problem_naming_the_param(api, payload, param, queued):
    response = api["a"]["write"].post("/api/v1/videos", payload, format="json")
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid_request" and problem["param"] == param, problem
    assert problem["type"].endswith("/api/docs/errors#invalid_request") and problem["detail"]
    queued.assert_not_called()


def test_list_filters_and_cursor_pages_are_stable_under_inserts(api, queued):
    client = api["a"]["write"]
    ids = [create(client).json()["videos"][0]["id"] for _ in range(5)]
    page1 = client.get("/api/v1/videos?limit=2").json()
    assert [v["id"] for v in page1["data"]] == ids[::-1][:2] and page1["has_more"]
    newer = create(client).json()["videos"][0]["id"]  # inserted between page reads
    page2 = client.get(f"/api/v1/videos?limit=2&cursor={page1['next_cursor']}").json()
    page3 = client.get(f"/api/v1/videos?limit=2&cursor={page2['next_cursor']}").json()
    seen = [v["id"] for page in (page1, page2, page3) for v in page["data"]]
    assert seen == ids[::-1] and newer not in seen and page3["has_more"] is False
    assert client.get("/api/v1/videos?cursor=forged").json()["param"] == "cursor"
    assert client.get(f"/api/v1/videos?status=queued&brand={api['a']['brand'].pk}").json()["data"]
    assert client.get("/api/v1/videos?status=succeeded").json()["data"] == []
    assert client.get("/api/v1/videos?created_after=2999-01-01T00:00:00Z").json()["data"] == []
    assert client.get("/api/v1/videos?campaign=1").json()["data"] == []


def test_get_has_an_etag_and_answers_304(api, queued):
    client = api["a"]["read"]
    video = create(api["a"]["write"]).json()["videos"][0]
    first = client.get(f"/api/v1/videos/{video['id']}")
    assert first.status_code == 200 and first["ETag"]
    again = client.get(f"/api/v1/videos/{video['id']}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_cancel_releases_the_hold_and_refuses_finished_jobs(api, queued):
    ws = api["a"]["workspace"]
    video = create(api["a"]["write"]).json()["videos"][0]
    assert credit_balance(workspace=ws) == 9
    response = api["a"]["write"].post(f"/api/v1/videos/{video['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert response.json()["failure"]["code"] == "canceled"
    assert credit_balance(workspace=ws) == 10
    with tenant_context(ws):
        VideoJob.objects.filter(pk=video["id"]).update(status="queued")
        done = VideoJob.objects.create(workspace=ws, brand=api["a"]["brand"], product_url=URL, status="succeeded")
    assert api["a"]["write"].post(f"/api/v1/videos/{done.pk}/cancel").json()["code"] == "conflict"


def test_batch_validates_each_item_on_its_own(api, queued):
    items = [{"product_url": URL}, {"product_url": "ftp://x"}, {"product_url": URL, "aspects": ["1:1", "9:16"]},
             {"aspect": "4:3"}]
    response = api["a"]["write"].post("/api/v1/videos/batch", {"items": items}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert [a["index"] for a in body["accepted"]] == [0, 2] and len(body["accepted"][1]["videos"]) == 2
    assert [(r["index"], r["param"]) for r in body["rejected"]] == [(1, "product_url"), (3, "aspect")]
    too_many = api["a"]["write"].post("/api/v1/videos/batch", {"items": [{}] * 501}, format="json")
    assert too_many.status_code == 400 and too_many.json()["param"] == "items"
    assert api["a"]["write"].post("/api/v1/videos/batch", {"items": []}, format="json").status_code == 400


def test_batch_rejects_items_the_balance_cannot_cover(api, queued):
    items = [{"product_url": URL, "variants": 5}, {"product_url": URL, "variants": 5}, {"product_url": URL}]
    body = api["a"]["write"].post("/api/v1/videos/batch", {"items": items}, format="json").json()
    assert [a["index"] for a in body["accepted"]] == [0, 1]
    assert body["rejected"][0]["index"] == 2 and body["rejected"][0]["code"] == "insufficient_credits"


def test_estimate_creates_nothing(api, queued):
    response = api["a"]["read"].post("/api/v1/videos/estimate", {"product_url": URL, "variants": 3,
                                                                  "aspects": ["9:16", "1:1"]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["jobs"], body["credits"], body["balance"], body["affordable"]) == (6, 6, 10, True)
    with tenant_context(api["a"]["workspace"]):
        assert not VideoJob.objects.exists()


def test_signed_download_links_expire_and_the_timeline_has_no_server_paths(api, queued, settings):
    ws = api["a"]["workspace"]
    with tenant_context(ws):
        job = VideoJob.objects.create(workspace=ws, brand=api["a"]["brand"], product_url=URL, status="succeeded")
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    (folder / "render").mkdir(parents=True, exist_ok=True)
    (folder / "render" / "ad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    shot = folder / "shots" / "shot_0.png"
    timeline = {"layers": [{"type": "shot", "src": str(shot)}, {"type": "logo", "src": "/etc/passwd"}], "fps": 30}
    (folder / "render" / "timeline.json").write_text(json.dumps(timeline))
    with tenant_context(ws):
        VideoJob.objects.filter(pk=job.pk).update(outputs={"video": f"{job.media_dir()}/render/ad.mp4",
                                                           "timeline": f"{job.media_dir()}/render/timeline.json"})
    downloads = api["a"]["read"].get(f"/api/v1/videos/{job.pk}").json()["downloads"]
    assert set(downloads) == {"video", "timeline"} and downloads["video"]["expires_at"]
    anonymous = api["a"]["read"].__class__()
    video = anonymous.get(downloads["video"]["url"])
    assert video.status_code == 200 and b"".join(video.streaming_content).startswith(b"\x00\x00\x00\x18ftyp")
    served = anonymous.get(downloads["timeline"]["url"]).json()
    text = json.dumps(served)
    assert str(settings.MEDIA_ROOT) not in text and "/etc" not in text
    assert served["layers"][0]["src"] == "asset:shots/shot_0.png"
    token = downloads["video"]["url"].rsplit("/", 1)[1]
    assert anonymous.get(f"/api/v1/files/{token[:-2]}xx").status_code == 404
    settings.API_DOWNLOAD_URL_TTL_S = -3600  # links minted now are already expired
    expired = api["a"]["read"].get(f"/api/v1/videos/{job.pk}").json()["downloads"]["video"]["url"]
    assert anonymous.get(expired).json()["code"] == "not_found"


def test_forged_ids_from_another_workspace_are_404(api, queued):
    video = create(api["a"]["write"]).json()["videos"][0]
    other = api["b"]
    for response in (other["read"].get(f"/api/v1/videos/{video['id']}"),
                     other["write"].post(f"/api/v1/videos/{video['id']}/cancel")):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert other["read"].get("/api/v1/videos").json()["data"] == []
    forged_brand = create(api["a"]["write"], brand=other["brand"].pk)
    assert forged_brand.status_code == 400 and forged_brand.json()["param"] == "brand"
    with tenant_context(api["a"]["workspace"]):
        assert VideoJob.objects.get(pk=video["id"]).status == "queued"


def test_scopes_are_enforced(api, queued):
    reader = api["a"]["read"]
    assert reader.get("/api/v1/videos").status_code == 200
    for response in (create(reader), reader.post("/api/v1/videos/batch", {"items": [{}]}, format="json")):
        assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert create(api["a"]["admin"]).status_code == 202  # admin includes write
    legacy_key = api["a"]["write_key"]
    legacy_key.scopes = ["videos:read"]
    legacy_key.save()
    assert create(api["a"]["write"]).status_code == 403 and api["a"]["write"].get("/api/v1/videos").status_code == 200


def test_authentication_problems(db):
    from rest_framework.test import APIClient

    anonymous = APIClient().get("/api/v1/videos")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    assert anonymous["WWW-Authenticate"] == "Bearer"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer adf_nope.nope")
    assert bad.get("/api/v1/videos").json()["code"] == "invalid_api_key"
    assert settings.REST_FRAMEWORK["EXCEPTION_HANDLER"] == "api.errors.api_exception_handler"


def test_timeline_route_refers_to_assets_by_id_and_is_isolated(api, queued, settings):
    ws = api["a"]["workspace"]
    with tenant_context(ws):
        job = VideoJob.objects.create(workspace=ws, brand=api["a"]["brand"], product_url=URL, status="running")
    assert api["a"]["read"].get(f"/api/v1/videos/{job.pk}/timeline").json()["code"] == "not_found"
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timeline.json").write_text(json.dumps({"layers": [{"src": str(folder / "voice" / "voice.wav")}]}))
    with tenant_context(ws):
        VideoJob.objects.filter(pk=job.pk).update(outputs={"timeline": f"{job.media_dir()}/timeline.json"})
    body = api["a"]["read"].get(f"/api/v1/videos/{job.pk}/timeline").json()
    assert body == {"layers": [{"src": "asset:voice/voice.wav"}]}
    assert api["b"]["read"].get(f"/api/v1/videos/{job.pk}/timeline").status_code == 404


def test_batch_and_estimate_refuse_forged_ids_from_another_workspace(api, queued):
    other_brand = api["b"]["brand"].pk
    body = api["a"]["write"].post("/api/v1/videos/batch", {"items": [{"product_url": URL, "brand": other_brand}]},
                                  format="json").json()
    assert body["accepted"] == [] and body["rejected"][0]["param"] == "brand"
    estimate = api["a"]["read"].post("/api/v1/videos/estimate", {"product_url": URL, "brand": other_brand},
                                     format="json")
    assert estimate.status_code == 400 and estimate.json()["param"] == "brand"
    with tenant_context(api["a"]["workspace"]):
        assert not VideoJob.objects.exists()


def _rendered_job(api, settings):
    ws = api["a"]["workspace"]
    with tenant_context(ws):
        job = VideoJob.objects.create(workspace=ws, brand=api["a"]["brand"], product_url=URL, status="succeeded",
                                      stage="render", attempts={"render": 1})
    folder = Path(settings.MEDIA_ROOT) / job.media_dir() / "render"
    folder.mkdir(parents=True, exist_ok=True)
    span = {"start": 0.0, "end": 1.0, "rect": [0, 0, 64, 64]}  # a valid (typed) timeline, as render writes
    layers = [{"type": "shot", "source": "segment", "asset": "/x/shots/0.png", **span},
              {"type": "text", "text": "Old headline", **span},
              {"type": "shot", "source": "segment", "asset": "/x/shots/1.png", **span},
              {"type": "captions", "chunks": [{"start": 0, "end": 1, "words": [{"word": "hello", "start": 0,
                                                                                  "end": 1}]}], **span}]
    (folder / "timeline.json").write_text(json.dumps({
        "template": "t", "framework": "three_reasons", "aspect": "9:16", "width": 64, "height": 64, "fps": 10,
        "duration": 1.0, "safe_rect": [0, 0, 64, 64], "brand": {}, "scenes": [], "layers": layers}))
    with tenant_context(ws):
        VideoJob.objects.filter(pk=job.pk).update(outputs={"timeline": f"{job.media_dir()}/render/timeline.json"})
        job.refresh_from_db()
    return job


def test_timeline_put_validates_edits_and_queues_a_free_rerender(api, queued, settings,
                                                                 django_capture_on_commit_callbacks):
    job = _rendered_job(api, settings)
    url = f"/api/v1/videos/{job.pk}/timeline"
    client = api["a"]["write"]
    assert client.put(url, {"texts": [{"layer": 0, "text": "x"}]}, format="json").json()["param"] == "texts[0].layer"
    assert client.put(url, {"shot_order": [0, 1]}, format="json").json()["param"] == "shot_order"
    assert client.put(url, {"captions": [{"layer": 3, "chunk": 0, "word": 5, "text": "x"}]},
                      format="json").json()["param"] == "captions[0]"
    edits = {"texts": [{"layer": 1, "text": "New headline"}], "shot_order": [2, 0],
             "captions": [{"layer": 3, "chunk": 0, "word": 0, "text": "hi"}]}
    before = credit_balance(workspace=api["a"]["workspace"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(url, edits, format="json")
    assert response.status_code == 202 and response.json()["status"] == "queued", response.content
    queued.assert_called_once_with(args=(api["a"]["workspace"].pk, job.pk, "render"), queue="render", priority=0)
    stored = json.loads((Path(settings.MEDIA_ROOT) / job.media_dir() / "timeline_edits.json").read_text())
    assert stored["texts"] == [{"layer": 1, "text": "New headline"}] and stored["shot_order"] == [2, 0]
    with tenant_context(api["a"]["workspace"]):
        job.refresh_from_db()
    assert job.attempts["render"] == 0 and credit_balance(workspace=api["a"]["workspace"]) == before
    assert client.put(url, edits, format="json").json()["code"] == "conflict"  # re-rendering: not editable now
    assert api["b"]["write"].put(url, edits, format="json").status_code == 404
    assert api["a"]["read"].put(url, edits, format="json").status_code == 403
