"""POST /api/v1/videos while the broker is down: a clear 503 problem response with
Retry-After, no 500, the job failed with a readable reason and its credit released."""
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from config.celery import app
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import CreditLedger
from tenancy.services import api_key_create, credit_balance
from tests.brokers import broker_unreachable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def broker_down():
    """This process's Celery app points at a closed port: Redis is really unreachable."""
    with broker_unreachable():
        yield


@pytest.fixture
def client_a(two_workspaces):
    _, raw = api_key_create(workspace=two_workspaces["a"]["workspace"], name="t", created_by=two_workspaces["a"]["user"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_broker_down_gives_503_and_charges_nothing(client_a, two_workspaces, broker_down):
    ws = two_workspaces["a"]["workspace"]
    response = client_a.post("/api/v1/videos", {"product_url": "https://shop.example/p/1"}, format="json")
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == 503 and body["code"] == "queue_unavailable" and "nothing was charged" in body["detail"]
    assert credit_balance(workspace=ws) == 10
    with tenant_context(ws):
        job = VideoJob.objects.get()
        assert job.status == VideoJob.Status.FAILED and "unavailable" in job.failure_reason
        assert list(CreditLedger.objects.filter(kind="reserve").values_list("state", flat=True)) == ["refunded"]
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not VideoJob.objects.exists()


def test_same_request_is_accepted_once_the_broker_is_back(client_a, two_workspaces, broker_down):
    assert client_a.post("/api/v1/videos", {"product_url": "https://shop.example/p/1"},
                         format="json").status_code == 503
    app.conf.broker_url = settings.CELERY_BROKER_URL
    app._pool, app.amqp._producer_pool = None, None
    response = client_a.post("/api/v1/videos", {"product_url": "https://shop.example/p/1"}, format="json")
    assert response.status_code == 202, response.content
    assert credit_balance(workspace=two_workspaces["a"]["workspace"]) == 9


def test_a_refused_request_with_an_idempotency_key_can_be_retried(client_a, two_workspaces, broker_down):
    headers = {"HTTP_IDEMPOTENCY_KEY": "queue-down-1"}
    body = {"product_url": "https://shop.example/p/1"}
    assert client_a.post("/api/v1/videos", body, format="json", **headers).status_code == 503
    app.conf.broker_url = settings.CELERY_BROKER_URL
    app._pool, app.amqp._producer_pool = None, None
    assert client_a.post("/api/v1/videos", body, format="json", **headers).status_code == 202
