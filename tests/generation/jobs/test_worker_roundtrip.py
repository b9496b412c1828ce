"""A real Celery worker (in-process, solo pool) against real Redis and PostgreSQL runs the
whole pipeline on the sample shop page; a transient error is retried and the job still
finishes once."""
from pathlib import Path

import pytest
from django.conf import settings

from generation.jobs import pipeline
from generation.jobs.errors import TransientError
from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from tenancy.context import tenant_context
from tenancy.models import CreditLedger
from tenancy.services import credit_balance

from .conftest import ffprobe, wait_for_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_job_round_trip_produces_a_real_mp4(pipeline_worker, tenant, sample_shop):
    job = video_job_create(workspace=tenant["workspace"], brand=tenant["brand"], product_url=sample_shop,
                           template="product_showcase", aspect="9:16", duration_s=10)
    job = wait_for_job(job)
    assert job.status == VideoJob.Status.SUCCEEDED, job.failure_reason
    assert job.progress == 100 and set(job.timings) == {"ingest", "script", "voice", "shots", "render"}
    video = Path(settings.MEDIA_ROOT) / job.outputs["video"]
    probe = ffprobe(video)
    v = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert (v["codec_name"], v["width"], v["height"]) == ("h264", 270, 480)  # GENERATION_RENDER_SCALE=0.25
    assert any(s["codec_type"] == "audio" for s in probe["streams"])
    assert 5 <= float(probe["format"]["duration"]) <= 40
    # the script stage's claim gate ran and recorded no unsupported claim (issue 16)
    assert job.outputs["claim_flags"] == 0
    assert (Path(settings.MEDIA_ROOT) / job.outputs["claims"]).read_text().strip() == "[]"
    with tenant_context(tenant["workspace"]):
        assert CreditLedger.objects.get(kind="reserve").state == "committed"
        assert job.product.title.startswith("Aurora")
    with tenant_context(tenant["other"]):
        assert not VideoJob.objects.exists()
    assert credit_balance(workspace=tenant["workspace"]) == 4


def test_transient_error_is_retried_and_the_job_completes_once(pipeline_worker, tenant, sample_shop, monkeypatch):
    calls = []
    real_script = pipeline.STAGE_SERVICES["script"]

    def flaky_script(job):
        calls.append(job.pk)
        if len(calls) == 1:
            raise TransientError("LLM endpoint timed out")
        return real_script(job)

    monkeypatch.setitem(pipeline.STAGE_SERVICES, "script", flaky_script)
    job = video_job_create(workspace=tenant["workspace"], brand=tenant["brand"], product_url=sample_shop,
                           template="product_showcase", duration_s=8)
    job = wait_for_job(job)
    assert job.status == VideoJob.Status.SUCCEEDED, job.failure_reason
    assert len(calls) == 2 and job.attempts["script"] == 2 and job.attempts["render"] == 1


def test_permanent_error_fails_with_a_readable_reason_and_refunds(pipeline_worker, tenant, settings):
    settings.CATALOG_SSRF_ALLOWED_HOSTS = []
    job = video_job_create(workspace=tenant["workspace"], brand=tenant["brand"],
                           product_url="http://127.0.0.1:9/products/x", template="product_showcase")
    job = wait_for_job(job)
    assert job.status == VideoJob.Status.FAILED and job.stage == "ingest"
    assert job.failure_reason and "Traceback" not in job.failure_reason
    assert credit_balance(workspace=tenant["workspace"]) == 5
