"""Fair dispatch and voice ‖ shots on real engines (Redis, PostgreSQL, prefork Celery workers in
their own processes, the sample shop on loopback):

- a small workspace's job is taken ahead of a large workspace's queued backlog;
- voice and shots run at the same time and the render starts only after both;
- a worker killed while voice/shots run (mid-join) loses nothing and duplicates nothing.
"""
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from generation.jobs.tasks import video_job_sweep_task
from tenancy.context import tenant_context
from tenancy.models import CreditLedger
from tenancy.services import credit_grant
from tests.factories import BrandFactory, MembershipFactory

from .conftest import ffprobe, wait_for_job, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[3]
QUEUES = ("default", "gpu", "render")
FAST_HEARTBEAT = {"GENERATION_HEARTBEAT_S": "0.5", "GENERATION_HEARTBEAT_STALE_S": "3"}


def _purge_queues() -> None:
    """Drop stage messages this module left in Redis (every priority level of every queue), so
    a later test's worker does not pick them up."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = [q if level == 0 else f"{q}:{level}" for q in QUEUES for level in range(settings.JOBS_DISPATCH_LEVELS)]
    client.delete(*keys)


@pytest.fixture
def workers(broker_required, sample_shop, tmp_path):
    """Starts real `celery worker` processes (prefork) on demand; kills what is left at the end."""
    env = worker_env(**FAST_HEARTBEAT, CATALOG_FETCH_MIN_INTERVAL_S="0")
    started = []
    _purge_queues()

    def start(name: str, *, queues: str, concurrency: int) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool=prefork",
             "-c", str(concurrency), "-Q", queues, "-l", "info", "-n", f"{name}@%h",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        return proc, log

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    _purge_queues()


def _workspace(credits: int):
    member = MembershipFactory()
    credit_grant(workspace=member.workspace, amount=credits)
    return member.workspace, BrandFactory(workspace=member.workspace)


def _create(workspace, brand, url: str) -> VideoJob:
    return video_job_create(workspace=workspace, brand=brand, product_url=url, template="product_showcase",
                            duration_s=6)


def _at(text: str | None) -> datetime:
    return datetime.fromisoformat(text)


def _reserve_states(workspace) -> list[str]:
    with tenant_context(workspace):
        return list(CreditLedger.objects.filter(kind="reserve").values_list("state", flat=True))


def test_a_small_workspace_is_dispatched_ahead_of_a_large_backlog(workers, sample_shop):
    """FIFO would run the small job's ingest after all five of the large workspace's; fair
    dispatch runs it right after the large workspace's oldest job."""
    connection.close()  # the worker must see committed rows
    large, large_brand = _workspace(8)
    small, small_brand = _workspace(2)
    flood = [_create(large, large_brand, sample_shop) for _ in range(5)]
    mine = _create(small, small_brand, sample_shop)  # queued last, behind the whole flood
    # One slot on the default queue only: jobs advance to ingest/script/voice and wait there.
    workers("fair-default", queues="default", concurrency=1)
    mine = wait_for_job(mine, timeout=180, until=lambda j: "script" in j.timings or j.is_finished)
    assert mine.failure_reason == ""
    with tenant_context(large):
        started = {j.pk: j.started_at for j in VideoJob.objects.filter(pk__in=[j.pk for j in flood])}
    ahead = [pk for pk, at in started.items() if at is not None and at < mine.started_at]
    assert ahead == [flood[0].pk], f"large jobs started before the small one: {ahead}"
    assert sum(at is None for at in started.values()) >= 2  # the backlog really was still queued
    with tenant_context(small):  # two workspaces: neither sees the other's jobs
        assert not VideoJob.objects.filter(pk__in=[j.pk for j in flood]).exists()
    with tenant_context(large):
        assert not VideoJob.objects.filter(pk=mine.pk).exists()


def test_voice_and_shots_overlap_and_render_waits_for_both(workers, tenant, sample_shop):
    connection.close()
    workers("fair-all", queues="default,gpu,render", concurrency=2)
    job = wait_for_job(_create(tenant["workspace"], tenant["brand"], sample_shop), timeout=240)
    assert job.status == VideoJob.Status.SUCCEEDED, job.failure_reason
    voice, shots = job.branches["voice"], job.branches["shots"]
    assert voice["state"] == shots["state"] == "done"
    # Both ran at once: each started before the other finished.
    assert _at(voice["started_at"]) < _at(shots["finished_at"])
    assert _at(shots["started_at"]) < _at(voice["finished_at"])
    # The render (the last stage run) started after both had finished.
    assert job.stage_started_at >= max(_at(voice["finished_at"]), _at(shots["finished_at"]))
    assert job.attempts == {"ingest": 1, "script": 1, "voice": 1, "shots": 1, "render": 1}
    assert set(job.timings) == set(job.cpu_timings) == {"ingest", "script", "voice", "shots", "render"}
    assert job.progress == 100
    assert ffprobe(Path(settings.MEDIA_ROOT) / job.outputs["video"])["format"]["format_name"].startswith("mov")
    with tenant_context(tenant["other"]):
        assert not VideoJob.objects.exists()


def test_a_worker_killed_mid_join_loses_and_duplicates_nothing(workers, tenant, sample_shop, settings):
    """The whole worker (main process and its pool children) is SIGKILLed while voice/shots run:
    its messages stay unacked in Redis (visibility timeout), so only the job row can recover
    them — the sweeper re-queues each dead branch on its own, a new worker finishes the job,
    and the render is queued and run once."""
    # A branch whose message the dead worker had reserved but not started is QUEUED with no
    # message left: the sweeper re-sends it after queued_stale_s (short here, 900 s by default).
    settings.GENERATION = replace(settings.GENERATION, heartbeat_s=0.5, heartbeat_stale_s=3, queued_stale_s=5)
    connection.close()
    first, first_log = workers("fair-victim", queues="default,gpu", concurrency=2)
    job = _create(tenant["workspace"], tenant["brand"], sample_shop)
    job = wait_for_job(job, timeout=180,
                       until=lambda j: any(b.get("state") == "running" for b in j.branches.values()))
    os.killpg(first.pid, signal.SIGKILL)  # no clean shutdown, no ack
    first.wait(timeout=30)
    with tenant_context(tenant["workspace"]):
        job.refresh_from_db()  # nothing of the dead worker can write any more: this is what it held
    killed = sorted(s for s, b in job.branches.items() if b["state"] == "running")
    assert killed, job.branches
    _, second_log = workers("fair-survivor", queues="default,gpu,render", concurrency=2)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # the beat's job, done here so the test controls the clock
        with tenant_context(tenant["workspace"]):
            job.refresh_from_db()
        if job.is_finished:
            break
        video_job_sweep_task()
        time.sleep(0.5)
    assert job.status == VideoJob.Status.SUCCEEDED, job.failure_reason
    for stage in ("ingest", "script", "voice", "shots", "render"):
        assert job.attempts[stage] == (2 if stage in killed else 1), (stage, killed, job.attempts)
    logs = first_log.read_text() + second_log.read_text()
    assert len(re.findall(rf"stage_start job={job.pk} stage=render", logs)) == 1
    assert not re.findall(rf"stage_(skip|defer) job={job.pk} stage=render", logs)  # render was queued once
    assert _reserve_states(tenant["workspace"]) == ["committed"]
    assert ffprobe(Path(settings.MEDIA_ROOT) / job.outputs["video"])["format"]["format_name"].startswith("mov")
    with tenant_context(tenant["other"]):
        assert not VideoJob.objects.exists()
