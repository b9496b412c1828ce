"""Real-worker fixtures: Redis broker + PostgreSQL, the sample shop on loopback."""
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from catalog.sample_shop import sample_shop_serve
from tenancy.context import tenant_context
from tests.factories import BrandFactory, MembershipFactory




@pytest.fixture
def sample_shop(settings):
    with sample_shop_serve() as url:
        settings.CATALOG_SSRF_ALLOWED_HOSTS = [urlsplit(url).netloc]
        yield url


@pytest.fixture
def tenant(transactional_db):
    """A workspace with a brand, and a second workspace that must never see its jobs."""
    from tenancy.services import credit_grant

    a = MembershipFactory()
    b = MembershipFactory()
    brand = BrandFactory(workspace=a.workspace, name="Northwind", primary_color="#0F3D3E")
    BrandFactory(workspace=b.workspace)
    credit_grant(workspace=a.workspace, amount=5)
    return {"workspace": a.workspace, "brand": brand, "other": b.workspace}


def wait_for_job(job, *, timeout: float = 240, until=None):
    """Poll the job row (committed data) until it finishes or ``until(job)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(job.workspace_id):
            job.refresh_from_db()
        if (until and until(job)) or (until is None and job.is_finished):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job.pk} still {job.status}/{job.stage} after {timeout}s: {job.failure_reason}")


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def worker_env(**extra: str) -> dict:
    """The environment a `celery worker` subprocess needs to use this test's database, media
    folder and loopback shop."""
    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CATALOG_SSRF_ALLOWED_HOSTS": ",".join(settings.CATALOG_SSRF_ALLOWED_HOSTS),
        **extra,
    }
