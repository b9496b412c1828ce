"""The dashboard's generate step while the broker is down: the page says so, the jobs are
failed with a readable reason and nothing is charged (no 500)."""
import pytest
from django.urls import reverse

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import credit_balance
from tests.brokers import broker_unreachable

from .conftest import login
from .test_dashboard import _product

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_broker_down_shows_a_message_and_charges_nothing(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    product = _product(a)
    with broker_unreachable():
        response = client.post(reverse("dashboard:preview", args=[product.pk]), {
            "title": "Aurora", "brand": a["brand"].pk, "template": "product_showcase",
            "aspects": ["9:16", "1:1"], "language": "en", "duration_s": 15, "variants": 1})
    assert response.status_code == 200
    assert "queue is unavailable" in response.content.decode()
    assert credit_balance(workspace=a["workspace"]) == 10
    with tenant_context(a["workspace"]):
        assert set(VideoJob.objects.values_list("status", flat=True)) == {VideoJob.Status.FAILED}
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not VideoJob.objects.exists()
