"""The API's fast paths keep every guarantee: cached API keys stop working on the very next
request after a revoke, a membership removal or a deactivation (in every gunicorn worker,
through the shared auth epoch), fall back to the database when the epoch cannot be read,
and expire after API_KEY_CACHE_TTL_S; the hand-built video body equals DRF's field-by-field
rendering; the compiled by-id lookup stays inside the workspace (two workspaces, forged ids)."""
from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers

from api.auth import key_cache_clear
from api.videos import VideoSerializer
from api.views import tenant_first, tenant_row
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import ApiKey, Brand, Membership
from tenancy.services import api_key_create, api_key_revoke, membership_remove, user_deactivate
from tests.platform.procs import BIN, REPO, clean_env, strong_secret_key

URL = "https://shop.example/p/1"


def _job(ws, brand, **fields) -> VideoJob:
    with tenant_context(ws):
        return VideoJob.objects.create(workspace=ws, brand=brand, product_url=URL, template="product_showcase",
                                       **fields)


@pytest.fixture(autouse=True)
def _fresh_cache():
    key_cache_clear()
    yield
    key_cache_clear()


@pytest.mark.django_db
def test_video_body_equals_drf_field_by_field_rendering(two_workspaces):
    ws, brand = two_workspaces["a"]["workspace"], two_workspaces["a"]["brand"]
    now = timezone.now()
    jobs = [
        _job(ws, brand),
        _job(ws, brand, status="failed", stage="voice", failure_reason="no voice", started_at=now,
             finished_at=now + timedelta(seconds=3), timings={"ingest": 1.5}, cpu_timings={"ingest": 0.25}),
        _job(ws, brand, status="canceled", request_id="req_x", variant=2, voice="en-us", music="calm"),
        _job(ws, brand, status="succeeded", outputs={"video": "workspaces/1/jobs/1/video.mp4",
                                                       "thumbnail": "workspaces/1/jobs/1/thumb.png"}),
    ]
    request = RequestFactory().get("/api/v1/videos")
    with tenant_context(ws):
        for job in jobs:
            job = VideoJob.objects.get(pk=job.pk)  # as read from the database
            fast = VideoSerializer(job, context={"request": request}).data
            generic = serializers.ModelSerializer.to_representation(VideoSerializer(context={"request": request}), job)
            assert json.dumps(fast) == json.dumps(generic)  # same keys, order and values
    assert set(fast["downloads"]) == {"video", "thumbnail"}


@pytest.mark.django_db
def test_tenant_row_stays_inside_the_workspace(two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    job_a, job_b = _job(a["workspace"], a["brand"], timings={"x": 1}), _job(b["workspace"], b["brand"])
    with tenant_context(a["workspace"]):
        found = tenant_row(VideoJob, job_a.pk)
        assert (found.pk, found.workspace_id, found.timings, found.brand_id) == (job_a.pk, a["workspace"].pk,
                                                                                 {"x": 1}, a["brand"].pk)
        assert tenant_row(VideoJob, job_b.pk) is None  # forged id: another workspace's job
        assert tenant_row(VideoJob, 10**9) is None
    with tenant_context(b["workspace"]):
        assert tenant_row(VideoJob, job_b.pk).pk == job_b.pk and tenant_row(VideoJob, job_a.pk) is None
        Brand.objects.create(workspace=b["workspace"], name="Later brand")
        first = tenant_first(Brand)
        assert (first.pk, first.name, first.default_aspects) == (b["brand"].pk, b["brand"].name,
                                                                 b["brand"].default_aspects)
    with tenant_context(a["workspace"]):
        assert tenant_first(Brand).pk == a["brand"].pk


@pytest.mark.django_db
def test_forged_ids_answer_404_with_a_warm_key_cache(api):
    a, b = api["a"], api["b"]
    job_b = _job(b["workspace"], b["brand"])
    for _ in range(3):  # the first request fills the cache, the others use it
        assert a["read"].get(f"/api/v1/videos/{job_b.pk}").status_code == 404
        assert b["read"].get(f"/api/v1/videos/{job_b.pk}").status_code == 200


@pytest.mark.django_db
def test_revoked_key_is_refused_on_the_next_request(api):
    a, b = api["a"], api["b"]
    assert a["read"].get("/api/v1/videos").status_code == 200  # cached now
    revoked = a["admin"].post(f"/api/v1/keys/{a['read_key'].pk}/revoke")
    assert revoked.status_code == 200
    assert a["read"].get("/api/v1/videos").status_code == 401
    assert b["read"].get("/api/v1/videos").status_code == 200  # the other workspace's keys are untouched
    assert a["write"].get("/api/v1/videos").status_code == 200


@pytest.mark.django_db
def test_membership_removal_and_deactivation_apply_on_the_next_request(api, two_workspaces):
    a, b = api["a"], api["b"]
    assert a["write"].get("/api/v1/videos").status_code == 200
    assert b["write"].get("/api/v1/videos").status_code == 200
    membership_remove(workspace=a["workspace"], user=a["user"])
    assert a["write"].get("/api/v1/videos").status_code == 401
    assert b["write"].get("/api/v1/videos").status_code == 200
    user_deactivate(user=b["user"])
    assert b["write"].get("/api/v1/videos").status_code == 401


@pytest.mark.django_db
def test_direct_row_edits_apply_on_the_next_request(api):
    a = api["a"]
    assert a["read"].get("/api/v1/videos").status_code == 200
    Membership.objects.filter(workspace=a["workspace"], user=a["user"]).delete()  # admin / script, no service
    assert a["read"].get("/api/v1/videos").status_code == 401


@pytest.mark.django_db
def test_without_the_shared_epoch_every_request_checks_the_database(api, monkeypatch):
    import api.auth as auth

    a = api["a"]
    monkeypatch.setattr(auth, "auth_epoch_read", lambda: None)  # the cache is down
    assert a["read"].get("/api/v1/videos").status_code == 200
    ApiKey.objects.filter(pk=a["read_key"].pk).update(revoked_at=timezone.now())  # no signal, no bump
    assert a["read"].get("/api/v1/videos").status_code == 401


@pytest.mark.django_db
def test_edits_that_bypass_django_apply_within_the_ttl(api, settings):
    settings.API_KEY_CACHE_TTL_S = 0.3
    a = api["a"]
    assert a["read"].get("/api/v1/videos").status_code == 200
    with connection.cursor() as cursor:  # raw SQL: no signal, no epoch change
        cursor.execute("UPDATE tenancy_apikey SET revoked_at = now() WHERE id = %s", [a["read_key"].pk])
    time.sleep(0.35)
    assert a["read"].get("/api/v1/videos").status_code == 401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, key: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:  # a new connection per request: gunicorn spreads them over its workers
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}", "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_revocation_reaches_every_gunicorn_worker_at_once(two_workspaces, postgres_only, settings):
    """Three worker processes, each with a warm cache; a revoke in one (and one made by a
    service in another process) is honoured by all of them on the very next request."""
    import os

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs Redis (make test starts one)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": redis_url, "KEY_PREFIX": "adf"}}
    a, b = two_workspaces["a"], two_workspaces["b"]
    admin_key, admin = api_key_create(workspace=a["workspace"], name="admin", scopes=["admin"], created_by=a["user"])
    read_key, read = api_key_create(workspace=a["workspace"], name="read", scopes=["read"], created_by=a["user"])
    _, other = api_key_create(workspace=a["workspace"], name="other", scopes=["read"], created_by=a["user"])
    _, b_read = api_key_create(workspace=b["workspace"], name="b", scopes=["read"], created_by=b["user"])
    detail = f"/api/v1/videos/{_job(a['workspace'], a['brand']).pk}"
    db = settings.DATABASES["default"]
    port = _free_port()
    env = clean_env(DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_SECRET_KEY=strong_secret_key(),
                    DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                    REDIS_URL=redis_url, API_KEY_CACHE_TTL_S="600", LOG_LEVEL="WARNING")
    proc = subprocess.Popen([str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}",
                             "-k", "gthread", "--workers", "3", "--threads", "2", "--log-level", "warning"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(port, "/api/v1/videos", read)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        # Warm every worker's cache (new connections land on different workers).
        assert {_get(port, "/api/v1/videos", read) for _ in range(30)} == {200}
        assert {_get(port, detail, read) for _ in range(30)} == {200}  # the status fast path
        assert {_get(port, detail, b_read) for _ in range(10)} == {404}  # another workspace's id
        assert {_get(port, "/api/v1/videos", other) for _ in range(30)} == {200}
        assert _get(port, "/api/v1/videos", b_read) == 200
        # Revoked over the API in one worker → refused by every worker.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", f"/api/v1/keys/{read_key.pk}/revoke", headers={"Authorization": f"Bearer {admin}"})
        assert conn.getresponse().status == 200
        conn.close()
        assert {_get(port, "/api/v1/videos", read) for _ in range(30)} == {401}
        assert {_get(port, detail, read) for _ in range(30)} == {401}
        assert {_get(port, "/api/v1/videos", other) for _ in range(10)} == {200}
        assert {_get(port, detail, other) for _ in range(10)} == {200}
        # Revoked by a service in this process (another process than every worker).
        api_key_revoke(workspace=a["workspace"], prefix=ApiKey.objects.get(key_hash=ApiKey.hash_key(other)).prefix)
        assert {_get(port, "/api/v1/videos", other) for _ in range(30)} == {401}
        assert {_get(port, "/api/v1/videos", b_read) for _ in range(10)} == {200}  # workspace B unaffected
        assert _get(port, "/api/v1/videos", admin) == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def redis_cache(settings):
    """The shared cache on the real Redis, as in production (tests default to local memory);
    a key prefix of its own, so its counters start at zero."""
    import os
    import uuid

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis (make test starts one)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": url, "KEY_PREFIX": f"adf-test-{uuid.uuid4().hex}"}}
    return url


@pytest.mark.django_db
def test_rate_limits_on_redis_count_in_the_same_round_trip_as_the_key_check(api, settings, redis_cache):
    """A cached key is checked and counted in one Redis round trip: the limits still hold,
    per key and per workspace, from the first request on, with Retry-After."""
    settings.API_RATE_LIMIT_KEY, settings.API_RATE_LIMIT_WORKSPACE = "3/h", "5/h"
    a, b = api["a"], api["b"]
    assert [a["read"].get("/api/v1/usage").status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = a["read"].get("/api/v1/usage")
    assert limited.json()["code"] == "rate_limited" and 1 <= int(limited["Retry-After"]) <= 3600
    assert [a["write"].get("/api/v1/usage").status_code for _ in range(2)] == [429, 429]  # workspace budget spent
    assert b["read"].get("/api/v1/usage").status_code == 200  # workspace B counts on its own
    revoke = b["admin"].post(f"/api/v1/keys/{b['read_key'].pk}/revoke")
    assert revoke.status_code == 200 and b["read"].get("/api/v1/usage").status_code == 401


# --- GET /api/v1/videos/{id} before the middleware stack (api.fast_status) -------------------
# transaction=True: the fast path stands aside inside a transaction (the test's atomic block).

HEADERS = ("Content-Type", "ETag", "Vary", "Allow", "X-Frame-Options", "Content-Length")


def _answer(client, path: str, **extra) -> tuple:
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:  # the fast path's one message bypasses the ORM's log
        response = client.get(path, **extra)
    return response, len(queries)


@pytest.mark.django_db(transaction=True)
def test_fast_status_answers_the_same_bytes_and_headers_as_the_full_route(api, settings, postgres_only):
    a = api["a"]
    job = _job(a["workspace"], a["brand"], status="succeeded", timings={"ingest": 1.25},
               outputs={"video": "workspaces/1/jobs/1/video.mp4", "thumbnail": "workspaces/1/jobs/1/thumb.png"})
    path = f"/api/v1/videos/{job.pk}"
    settings.API_FAST_STATUS = False
    full, full_queries = _answer(a["read"], path)
    settings.API_FAST_STATUS = True
    fast, fast_queries = _answer(a["read"], path)  # the key is cached by the first request
    assert full.status_code == fast.status_code == 200
    assert fast.content == full.content and json.loads(fast.content)["downloads"]["video"]["url"]
    assert {h: fast.get(h) for h in HEADERS} == {h: full.get(h) for h in HEADERS}
    assert full_queries >= 1 and fast_queries == 0  # the fast path answered (raw one-message read)
    not_modified, _ = _answer(a["read"], path, HTTP_IF_NONE_MATCH=fast["ETag"])
    assert not_modified.status_code == 304 and not_modified["ETag"] == fast["ETag"]
    with connection.cursor() as cursor:  # the session's tenant setting was restored
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in ("", None)


@pytest.mark.django_db(transaction=True)
def test_fast_status_two_workspaces_and_forged_ids(api, postgres_only):
    a, b = api["a"], api["b"]
    job_a, job_b = _job(a["workspace"], a["brand"]), _job(b["workspace"], b["brand"])
    for _ in range(3):  # warm key caches: the fast path runs, RLS and the SQL filter keep B's row out
        forged = a["read"].get(f"/api/v1/videos/{job_b.pk}")
        assert forged.status_code == 404 and forged.json()["code"] == "not_found"
        assert b["read"].get(f"/api/v1/videos/{job_a.pk}").status_code == 404
        assert a["read"].get(f"/api/v1/videos/{job_a.pk}").json()["id"] == job_a.pk
        assert b["read"].get(f"/api/v1/videos/{job_b.pk}").json()["id"] == job_b.pk
    assert a["read"].get(f"/api/v1/videos/{10**12}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_fast_status_reflects_every_state_change_at_once(api, postgres_only):
    """Nothing is cached but the key: a change of the row shows on the next poll."""
    a = api["a"]
    job = _job(a["workspace"], a["brand"])
    path = f"/api/v1/videos/{job.pk}"
    first = a["read"].get(path)
    assert first.json()["status"] == "queued"
    with tenant_context(a["workspace"]):
        VideoJob.objects.filter(pk=job.pk).update(status="running", stage="voice", progress=40)
    second, queries = _answer(a["read"], path)
    assert queries == 0 and (second.json()["status"], second.json()["progress"]) == ("running", 40)
    assert second["ETag"] != first["ETag"]


@pytest.mark.django_db(transaction=True)
def test_fast_status_refuses_revoked_keys_and_missing_scope(api, two_workspaces, postgres_only):
    a, b = api["a"], api["b"]
    job_a, job_b = _job(a["workspace"], a["brand"]), _job(b["workspace"], b["brand"])
    assert a["read"].get(f"/api/v1/videos/{job_a.pk}").status_code == 200
    assert a["read"].get(f"/api/v1/videos/{job_a.pk}").status_code == 200  # fast now
    assert a["admin"].post(f"/api/v1/keys/{a['read_key'].pk}/revoke").status_code == 200
    refused = a["read"].get(f"/api/v1/videos/{job_a.pk}")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"
    assert b["read"].get(f"/api/v1/videos/{job_b.pk}").status_code == 200
    _, raw = api_key_create(workspace=a["workspace"], name="no scope", scopes=[], created_by=two_workspaces["a"]["user"])
    from tests.platform.api.conftest import client_for

    scopeless = client_for(raw)
    for _ in range(2):  # cold, then cached
        answer = scopeless.get(f"/api/v1/videos/{job_a.pk}")
        assert answer.status_code == 403 and answer.json()["code"] == "insufficient_scope"
    assert a["read"].get(f"/api/v1/videos/{job_a.pk}", HTTP_AUTHORIZATION="Token x").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_fast_status_rate_limits_count_each_request_once(api, settings, redis_cache, postgres_only):
    settings.API_RATE_LIMIT_KEY, settings.API_RATE_LIMIT_WORKSPACE = "3/h", "5/h"
    a, b = api["a"], api["b"]
    job_a, job_b = _job(a["workspace"], a["brand"]), _job(b["workspace"], b["brand"])
    path = f"/api/v1/videos/{job_a.pk}"
    assert [a["read"].get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = a["read"].get(path)
    assert limited.json()["code"] == "rate_limited" and 1 <= int(limited["Retry-After"]) <= 3600
    # 5 requests so far on workspace A's budget of 5 (each counted once): the other key gets none.
    assert a["write"].get(path).status_code == 429
    assert b["read"].get(f"/api/v1/videos/{job_b.pk}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_fast_status_falls_through_when_its_connection_was_killed(api, settings, postgres_only):
    """A connection PostgreSQL dropped is closed; the full route reconnects and answers."""
    a = api["a"]
    job = _job(a["workspace"], a["brand"])
    path = f"/api/v1/videos/{job.pk}"
    assert a["read"].get(path).status_code == 200
    _drop_this_connection(settings)
    answer = a["read"].get(path)
    assert answer.status_code == 200 and answer.json()["id"] == job.pk


@pytest.mark.django_db(transaction=True)
def test_a_lost_epoch_on_redis_means_a_database_check_not_a_stale_key(api, redis_cache, postgres_only):
    """Redis lost its data (restart, eviction): the count-and-read script answers nil for the
    epoch, the key is checked in the database again, and a revoke made meanwhile holds."""
    from django.core.cache import caches

    from tenancy.auth_epoch import CACHE_KEY

    a = api["a"]
    job = _job(a["workspace"], a["brand"])
    path = f"/api/v1/videos/{job.pk}"
    assert [a["read"].get(path).status_code for _ in range(2)] == [200, 200]
    backend = caches["default"]
    client = backend._cache.get_client(write=True)
    ApiKey.objects.filter(pk=a["read_key"].pk).update(revoked_at=timezone.now())  # no signal, no bump
    client.delete(backend.make_key(CACHE_KEY))
    assert a["read"].get(path).status_code == 401
    assert a["write"].get(path).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_tenant_setting_doubles_as_the_health_check_and_reconnects(api, settings, postgres_only):
    """A kept connection's first statement of a request is the tenant setting (no separate
    SELECT 1): when PostgreSQL dropped the connection, the request still succeeds on a new one."""
    a = api["a"]
    settings.API_FAST_STATUS = False  # the full route: TenantAPIView enters the tenant first
    assert connection.health_check_enabled
    assert a["read"].get("/api/v1/videos").status_code == 200  # the key is cached now
    pid = _drop_this_connection(settings)
    # What request_started's close_old_connections does in a server (the test client skips it).
    connection.health_check_done = False
    answer = a["read"].get("/api/v1/videos")
    assert answer.status_code == 200 and answer.json()["data"] == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('app.tenant_id', true)")
        new_pid, tenant = cursor.fetchone()
    assert new_pid != pid and tenant in ("", None)


def _drop_this_connection(settings) -> int:
    """PostgreSQL terminates this test's connection (its backend pid is returned), as a
    failover or an idle timeout would."""
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    return pid
