"""A worker child SIGKILLed mid-stage: acks_late + reject_on_worker_lost put the message back,
the redelivery resumes the stage, and the job completes exactly once."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from tenancy.context import tenant_context
from tenancy.models import CreditLedger

from .conftest import ffprobe, wait_for_job, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def prefork_worker(broker_required, tenant, sample_shop, tmp_path):
    env = worker_env()
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool=prefork", "-c", "1",
         "-Q", "default,render,gpu", "-l", "info", "-n", "killtest@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    proc.wait(timeout=60)


def test_killed_worker_child_job_still_completes_once(prefork_worker, tenant, sample_shop):
    connection.close()  # the worker process needs the rows committed and visible
    job = video_job_create(workspace=tenant["workspace"], brand=tenant["brand"], product_url=sample_shop,
                           template="product_showcase", duration_s=8)
    running = wait_for_job(job, timeout=180, until=lambda j: j.status == "running" and j.stage in ("voice", "shots", "render") and j.worker)
    victim_stage, victim_pid = running.stage, int(running.worker.rsplit(":", 1)[1])
    assert victim_pid != prefork_worker.pid  # the task runs in a pool child
    os.kill(victim_pid, signal.SIGKILL)
    job = wait_for_job(job, timeout=240)
    assert job.status == VideoJob.Status.SUCCEEDED, job.failure_reason
    assert job.attempts[victim_stage] == 2
    assert all(n == 1 for stage, n in job.attempts.items() if stage != victim_stage)
    with tenant_context(tenant["workspace"]):
        reservations = list(CreditLedger.objects.filter(kind="reserve").values_list("state", flat=True))
    assert reservations == ["committed"]
    assert ffprobe(Path(settings.MEDIA_ROOT) / job.outputs["video"])["format"]["format_name"].startswith("mov")
