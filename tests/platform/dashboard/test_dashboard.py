"""The dashboard: log in, paste a link, watch progress, only your own workspace's jobs."""
from unittest import mock

import pytest
from django.urls import reverse

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, two_workspaces):
    assert client.login(username=two_workspaces["a"]["user"].username, password="pw-123456")
    return client


def test_login_required(client):
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_paste_link_creates_job_and_shows_progress(logged_in, two_workspaces):
    brand = two_workspaces["a"]["brand"]
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async"), \
         mock.patch("dashboard.views._template_choices", return_value=[("product_showcase", "Product Showcase")]):
        page = logged_in.get(reverse("dashboard:home"))
        assert page.status_code == 200 and brand.name in page.content.decode()
        assert two_workspaces["b"]["brand"].name not in page.content.decode()
        response = logged_in.post(reverse("dashboard:home"), {
            "product_url": "https://shop.example/p/1", "brand": brand.pk,
            "template": "product_showcase", "aspect": "1:1"})
    assert response.status_code == 302
    with tenant_context(two_workspaces["a"]["workspace"]):
        job = VideoJob.objects.get()
    assert (job.aspect, job.brand_id) == ("1:1", brand.pk)
    status = logged_in.get(reverse("dashboard:job-status", args=[job.pk])).json()
    assert status == {"status": "queued", "stage": "ingest", "progress": 0, "failure_reason": "",
                      "finished": False, "has_video": False}
    assert "Video %d" % job.pk in logged_in.get(reverse("dashboard:job", args=[job.pk])).content.decode()


def test_other_workspaces_job_is_404(client, two_workspaces):
    b = two_workspaces["b"]
    with tenant_context(b["workspace"]):
        job = VideoJob.objects.create(workspace=b["workspace"], brand=b["brand"], product_url="https://x.example",
                                      template="product_showcase")
    assert client.login(username=two_workspaces["a"]["user"].username, password="pw-123456")
    for name in ("dashboard:job", "dashboard:job-status"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.get(reverse("dashboard:job-file", args=[job.pk, "video"])).status_code == 404
