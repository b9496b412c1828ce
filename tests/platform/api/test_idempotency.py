"""Idempotency-Key: replay, body mismatch (422), in flight (409), 24 h retention per
workspace, and concurrent duplicates against a real server on PostgreSQL → one job."""
import threading
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from api.idempotency import idempotency_keys_purge
from api.models import IdempotencyKey
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import CreditLedger
from tenancy.services import api_key_create, credit_balance

URL = "https://shop.example/p/1"


def post(client, key, body=None, path="/api/v1/videos"):
    return client.post(path, body if body is not None else {"product_url": URL}, format="json",
                       HTTP_IDEMPOTENCY_KEY=key)


def jobs(workspace) -> int:
    with tenant_context(workspace):
        return VideoJob.objects.count()


@pytest.mark.django_db
def test_same_key_same_body_replays_without_a_second_job_or_charge(api, queued):
    ws, client = api["a"]["workspace"], api["a"]["write"]
    first = post(client, "order-1")
    assert first.status_code == 202
    second = post(client, "order-1", {"product_url": URL})
    assert second.status_code == 202 and second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert jobs(ws) == 1 and credit_balance(workspace=ws) == 9
    with tenant_context(ws):
        assert CreditLedger.objects.filter(kind="reserve").count() == 1


@pytest.mark.django_db
def test_same_key_different_body_is_422(api, queued):
    client = api["a"]["write"]
    assert post(client, "k").status_code == 202
    response = post(client, "k", {"product_url": URL, "variants": 2})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    other_route = post(client, "k", {"product_url": URL}, path="/api/v1/videos/estimate")
    assert other_route.status_code == 422
    assert jobs(api["a"]["workspace"]) == 1


@pytest.mark.django_db
def test_same_key_while_in_flight_is_409_until_abandoned(api, queued, settings):
    ws, client = api["a"]["workspace"], api["a"]["write"]
    assert post(client, "k").status_code == 202
    with tenant_context(ws):
        IdempotencyKey.objects.filter(key="k").update(state="in_flight")
    busy = post(client, "k")
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_flight" and busy["Retry-After"]
    with tenant_context(ws):  # the process that held it died long ago: the key is free again
        IdempotencyKey.objects.filter(key="k").update(created_at=timezone.now() - timedelta(minutes=10))
    assert post(client, "k").status_code == 202


@pytest.mark.django_db
def test_errors_release_the_key_so_a_fixed_retry_runs(api, queued):
    ws, client = api["a"]["workspace"], api["a"]["write"]
    assert post(client, "k", {"product_url": "ftp://nope"}).status_code == 400
    assert post(client, "k", {"product_url": URL, "variants": 5, "aspects": ["9:16", "1:1", "16:9"]}).status_code == 402
    assert post(client, "k", {"product_url": URL}).status_code == 202
    assert jobs(ws) == 1


@pytest.mark.django_db
def test_keys_are_per_workspace_and_kept_24_hours(api, queued):
    a, b = api["a"], api["b"]
    first = post(a["write"], "shared")
    assert post(b["write"], "shared").json() != first.json()  # the other workspace's key is its own
    assert jobs(a["workspace"]) == 1 and jobs(b["workspace"]) == 1
    with tenant_context(a["workspace"]):
        IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
        assert post(a["write"], "shared").json() != first.json()  # expired: a new request
        IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
        assert idempotency_keys_purge(workspace=a["workspace"]) == 1
    assert jobs(a["workspace"]) == 2
    with tenant_context(b["workspace"]):
        assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_invalid_keys_are_refused(api, queued):
    response = post(api["a"]["write"], "x" * 256)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
    assert response.json()["param"] == "Idempotency-Key"


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_against_the_real_server_make_one_job(live_server, two_workspaces, queued,
                                                                   postgres_only):
    ws = two_workspaces["a"]["workspace"]
    _, raw = api_key_create(workspace=ws, name="race", scopes=["write"])
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "race-1"}
    barrier, results = threading.Barrier(8), []

    def fire():
        barrier.wait()
        r = requests.post(f"{live_server.url}/api/v1/videos", json={"product_url": URL}, headers=headers, timeout=30)
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(code for code, _ in results)
    assert set(statuses) <= {202, 409} and 202 in statuses, statuses
    bodies = {body["request_id"] for code, body in results if code == 202}
    assert len(bodies) == 1
    assert all(body["code"] == "idempotency_in_flight" for code, body in results if code == 409)
    assert jobs(ws) == 1 and credit_balance(workspace=ws) == 9
    replay = requests.post(f"{live_server.url}/api/v1/videos", json={"product_url": URL}, headers=headers, timeout=30)
    assert replay.status_code == 202 and replay.json()["request_id"] in bodies


@pytest.mark.django_db
def test_a_request_in_flight_holds_its_key_until_its_transaction_ends(api, queued, postgres_only):
    """The key is held by the running request's transaction (an advisory lock): a retry gets
    409 however long the first one runs, and nothing is stored before the first one commits."""
    import psycopg
    from django.db import connection

    from api.idempotency import LOCK_CLASS, _lock_id

    ws, client = api["a"]["workspace"], api["a"]["write"]
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                            dbname=db["NAME"])
    try:  # another process's request, mid-flight, holding key "slow" of workspace A
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, _lock_id(ws.pk, "slow")])
        busy = post(client, "slow")
        assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_flight" and busy["Retry-After"] == "1"
        assert post(api["b"]["write"], "slow").status_code == 202  # workspace B's "slow" is another key
        assert jobs(ws) == 0
        other.rollback()  # the other request ended (or its process died)
        assert post(client, "slow").status_code == 202
    finally:
        other.close()
    assert jobs(ws) == 1 and credit_balance(workspace=ws) == 9
