"""PUT /videos/{id}/timeline on a real rendered video: a real worker re-renders it with the
edited text and no credit is spent; the `music: none` option reaches the render."""
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from catalog.sample_shop import sample_shop_serve
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import credit_balance
from tests.generation.jobs.conftest import wait_for_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_edit_and_rerender(pipeline_worker, api, settings):
    client, ws = api["a"]["write"], api["a"]["workspace"]
    with sample_shop_serve() as shop:
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [urlsplit(shop).netloc]
        video = client.post("/api/v1/videos", {"product_url": shop, "duration": 8, "music": "none"},
                            format="json").json()["videos"][0]
        with tenant_context(ws):
            job = VideoJob.objects.get(pk=video["id"])
        job = wait_for_job(job)
    assert job.status == "succeeded", job.failure_reason
    timeline = client.get(f"/api/v1/videos/{job.pk}/timeline").json()
    assert not any(la["type"] == "music" for la in timeline["layers"])  # music "none" honoured
    text_layer = next(i for i, la in enumerate(timeline["layers"]) if la["type"] == "text")
    balance = credit_balance(workspace=ws)
    response = client.put(f"/api/v1/videos/{job.pk}/timeline",
                          {"texts": [{"layer": text_layer, "text": "Edited by the API"}]}, format="json")
    assert response.status_code == 202, response.content
    with tenant_context(ws):
        job.refresh_from_db()
    job = wait_for_job(job)
    assert job.status == "succeeded", job.failure_reason
    rendered = json.loads((Path(settings.MEDIA_ROOT) / job.outputs["timeline"]).read_text())
    assert rendered["layers"][text_layer]["text"] == "Edited by the API"
    assert credit_balance(workspace=ws) == balance
