"""The dashboard's "make a video" form while the broker is down: the page says so, the job is
failed with a readable reason and nothing is charged (no 500)."""
from unittest import mock

import pytest
from django.urls import reverse

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import credit_balance
from tests.brokers import broker_unreachable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_broker_down_shows_a_message_and_charges_nothing(client, two_workspaces):
    a = two_workspaces["a"]
    client.force_login(a["user"])
    with broker_unreachable(), \
         mock.patch("dashboard.views._template_choices", return_value=[("product_showcase", "Product Showcase")]):
        response = client.post(reverse("dashboard:home"), {
            "product_url": "https://shop.example/p/1", "brand": a["brand"].pk,
            "template": "product_showcase", "aspect": "9:16"}, follow=True)
    assert response.status_code == 200
    assert "queue is unavailable" in response.content.decode()
    assert credit_balance(workspace=a["workspace"]) == 10
    with tenant_context(a["workspace"]):
        assert VideoJob.objects.get().status == VideoJob.Status.FAILED
