"""Shared fixtures. torch runs single-threaded in tests: on 2 shared cores two threads made
identical runs 10-40x slower."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "product_pages"


def require_service(available: bool, why: str) -> None:
    """Skip when a real service (PostgreSQL, Redis) is missing, but fail under `make test`,
    which sets REQUIRE_SERVICES: there a missing service is a broken setup, not a skip."""
    if not available:
        if os.environ.get("REQUIRE_SERVICES"):
            pytest.fail(f"REQUIRE_SERVICES is set: {why}")
        pytest.skip(why)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared product-page corpus (../shared); tests using it skip cleanly when absent."""
    if not (SHARED_CORPUS / "manifest.json").exists():
        pytest.skip("shared corpus not present (../shared/corpus/product_pages)")
    return SHARED_CORPUS


@pytest.fixture
def broker_required():
    """Real Redis broker and PostgreSQL (what Celery workers in tests need)."""
    from django.conf import settings
    from django.db import connection

    require_service(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis (make test starts one)")
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (make test starts one)")


@pytest.fixture
def pipeline_worker(broker_required, transactional_db, django_db_blocker):
    """An in-process Celery worker (solo pool) on every pipeline queue, against the test database."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with django_db_blocker.unblock():
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default", "render", "gpu"],
                          shutdown_timeout=30):
            yield
