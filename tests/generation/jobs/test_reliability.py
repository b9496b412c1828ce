"""Stage deadlines, heartbeats, the sweeper's rule (re-queue only a stage whose worker is gone)
and the per-workspace running cap, against real PostgreSQL. Queueing is patched (service tests);
the real-worker versions are the drills in tests/generation/drills."""
import socket
import subprocess
import time
from dataclasses import replace
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from generation.jobs import pipeline
from generation.jobs.models import VideoJob
from generation.jobs.runner import video_job_run_stage, video_job_sweep_workspace
from generation.jobs.services import video_job_create
from tenancy.context import tenant_context
from tenancy.services import credit_balance, credit_grant
from tests.factories import BrandFactory, MembershipFactory


@pytest.fixture
def queued():
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async") as apply_async:
        yield apply_async


@pytest.fixture
def gen(settings):
    def _set(**changes):
        settings.GENERATION = replace(settings.GENERATION, **changes)
    return _set


def _workspace_jobs(n: int, *, queued):
    ws = MembershipFactory().workspace
    credit_grant(workspace=ws, amount=n + 1)
    brand = BrandFactory(workspace=ws)
    jobs = [video_job_create(workspace=ws, brand=brand, product_url=f"https://x.example/p/{i}",
                             template="product_showcase") for i in range(n)]
    return ws, jobs


def _set(job, **fields):
    with tenant_context(job.workspace_id):
        VideoJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()


def _reload(job):
    with tenant_context(job.workspace_id):
        job.refresh_from_db()
    return job


def _sweep(ws):
    with tenant_context(ws):
        return video_job_sweep_workspace()


@pytest.mark.django_db
def test_sweeper_never_requeues_a_stage_that_still_beats(queued, django_capture_on_commit_callbacks):
    ws, (job,) = _workspace_jobs(1, queued=queued)
    hour_ago = timezone.now() - timedelta(hours=1)
    _set(job, status="running", stage="render", attempts={"render": 1}, stage_started_at=hour_ago,
         started_at=hour_ago, heartbeat_at=timezone.now() - timedelta(seconds=5))
    queued.reset_mock()
    with django_capture_on_commit_callbacks(execute=True):
        assert _sweep(ws) == {"requeued": 0, "failed": 0}
    queued.assert_not_called()


@pytest.mark.django_db
def test_sweeper_fails_a_dead_stage_that_ran_past_its_hard_limit(queued, gen):
    gen(stage_deadlines={"render": 60}, stage_hard_grace_s=10)
    ws, (job,) = _workspace_jobs(1, queued=queued)
    _set(job, status="running", stage="render", attempts={"render": 1},
         stage_started_at=timezone.now() - timedelta(minutes=5), heartbeat_at=timezone.now() - timedelta(minutes=3))
    assert _sweep(ws) == {"requeued": 0, "failed": 1}
    _reload(job)
    assert job.status == "failed" and "render" in job.failure_reason and "70 s" in job.failure_reason
    assert credit_balance(workspace=ws) == 2  # the hold was released


@pytest.mark.django_db
def test_sweeper_requeues_a_queued_stage_whose_message_was_lost(queued, gen, django_capture_on_commit_callbacks):
    gen(queued_stale_s=60)
    ws, (lost, fresh) = _workspace_jobs(2, queued=queued)
    _set(lost, heartbeat_at=timezone.now() - timedelta(minutes=5))
    queued.reset_mock()
    with django_capture_on_commit_callbacks(execute=True):
        assert _sweep(ws) == {"requeued": 1, "failed": 0}
    # the oldest active job of its workspace: fair-dispatch level 0
    queued.assert_called_once_with(args=(ws.pk, lost.pk, "ingest"), queue="default", priority=0)


@pytest.mark.django_db
def test_a_workspace_at_its_cap_is_deferred_while_another_runs(queued, gen, django_capture_on_commit_callbacks):
    gen(workspace_max_running=2, defer_s=3)
    ws_a, jobs_a = _workspace_jobs(3, queued=queued)
    ws_b, (job_b,) = _workspace_jobs(1, queued=queued)
    for job in jobs_a[:2]:
        _set(job, status="running", worker="elsewhere:1", heartbeat_at=timezone.now())
    queued.reset_mock()
    with django_capture_on_commit_callbacks(execute=True), tenant_context(ws_a):
        assert video_job_run_stage(job_id=jobs_a[2].pk, stage="ingest") == "defer"
    # the third active job of A: two of A's jobs are ahead of it (level 2)
    queued.assert_called_once_with(args=(ws_a.pk, jobs_a[2].pk, "ingest"), queue="default", countdown=3,
                                   priority=2)
    _reload(jobs_a[2])
    assert jobs_a[2].status == "queued" and jobs_a[2].attempts == {}
    with tenant_context(ws_b):  # B is not held back by A (its stage runs and fails on the fake link)
        assert video_job_run_stage(job_id=job_b.pk, stage="ingest") == "run"
    _reload(job_b)
    assert job_b.attempts == {"ingest": 1}
    # A stale holder does not count: A's dead stages free its slots.
    for job in jobs_a[:2]:
        _set(job, heartbeat_at=timezone.now() - timedelta(minutes=10))
    with tenant_context(ws_a):
        assert video_job_run_stage(job_id=jobs_a[2].pk, stage="ingest") == "run"


@pytest.mark.django_db
def test_redelivery_runs_only_when_the_holder_is_gone(queued):
    ws, (job,) = _workspace_jobs(1, queued=queued)
    holder = subprocess.Popen(["sleep", "30"])
    try:
        _set(job, status="running", worker=f"{socket.gethostname()}:{holder.pid}",
             heartbeat_at=timezone.now(), attempts={"ingest": 1}, stage_task_id="t1")
        with tenant_context(ws):
            assert video_job_run_stage(job_id=job.pk, stage="ingest", task_id="t1") == "skip"
        _reload(job)
        assert job.attempts == {"ingest": 1} and job.status == "running"
    finally:
        holder.kill()
        holder.wait()
    with tenant_context(ws):  # the holder's pid is gone: the same message takes over at once
        assert video_job_run_stage(job_id=job.pk, stage="ingest", task_id="t1") == "run"
    _reload(job)
    assert job.attempts == {"ingest": 2}


@pytest.mark.django_db(transaction=True)
def test_a_hung_stage_ends_at_its_deadline_with_a_readable_reason(queued, gen, monkeypatch):
    gen(stage_deadlines={"script": 1})
    ws, (job,) = _workspace_jobs(1, queued=queued)
    _set(job, stage="script")
    monkeypatch.setitem(pipeline.STAGE_SERVICES, "script", lambda job: time.sleep(30))  # a hung stage
    started = time.monotonic()
    with tenant_context(ws):
        video_job_run_stage(job_id=job.pk, stage="script")
    assert time.monotonic() - started < 5
    _reload(job)
    assert job.status == "failed" and job.failure_reason == "The script step took longer than its 1 s limit and was stopped."
    assert credit_balance(workspace=ws) == 2


@pytest.mark.django_db(transaction=True)
def test_a_running_stage_keeps_its_heartbeat_fresh(queued, gen, monkeypatch):
    gen(heartbeat_s=0.2, heartbeat_stale_s=1)
    ws, (job,) = _workspace_jobs(1, queued=queued)
    _set(job, stage="script")
    seen = {}

    def slow_stage(job):
        time.sleep(1.5)  # longer than the staleness window: only the heartbeat keeps it alive
        with tenant_context(job.workspace_id):
            row = VideoJob.objects.get(pk=job.pk)
            seen["lag"] = (timezone.now() - row.heartbeat_at).total_seconds()
            seen["swept"] = video_job_sweep_workspace()
        return {}

    monkeypatch.setitem(pipeline.STAGE_SERVICES, "script", slow_stage)
    with tenant_context(ws):
        video_job_run_stage(job_id=job.pk, stage="script")
    assert seen["lag"] < 0.6 and seen["swept"] == {"requeued": 0, "failed": 0}
    _reload(job)
    assert job.stage == "voice" and job.attempts == {"script": 1}


def test_every_stage_message_carries_its_stage_time_limits(gen):
    from celery.app.task import Task

    from generation.jobs.tasks import video_job_stage_task

    gen(stage_deadlines={"ingest": 100, "render": 700}, stage_hard_grace_s=30)
    with mock.patch.object(Task, "apply_async") as sent:
        video_job_stage_task.apply_async(args=(1, 2, "ingest"), queue="default")
        video_job_stage_task.apply_async(args=(1, 2, "render"), queue="render", countdown=5)
    assert sent.call_args_list[0].kwargs == {
        "args": (1, 2, "ingest"), "kwargs": None, "queue": "default", "soft_time_limit": 105, "time_limit": 130}
    assert sent.call_args_list[1].kwargs["soft_time_limit"] == 705 and sent.call_args_list[1].kwargs["time_limit"] == 730


@pytest.mark.django_db
def test_a_hard_time_limit_kill_fails_the_job_readably(queued, gen):
    from celery.exceptions import TimeLimitExceeded

    from generation.jobs.tasks import video_job_stage_task

    gen(stage_deadlines={"render": 60}, stage_hard_grace_s=30)
    ws, (job,) = _workspace_jobs(1, queued=queued)
    _set(job, status="running", stage="render", attempts={"render": 1}, heartbeat_at=timezone.now())
    video_job_stage_task.on_failure(TimeLimitExceeded(90), "task-id", (ws.pk, job.pk, "render"), {}, None)
    _reload(job)
    assert job.status == "failed" and job.failure_reason == "The render step took longer than 90 s and was stopped."
    assert credit_balance(workspace=ws) == 2


def test_make_serve_runs_a_prefork_worker_and_one_beat():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()
    serve = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "celery -A config worker --pool=prefork" in serve  # Celery time limits need prefork
    assert serve.count("celery -A config beat") == 1  # the sweeper, exactly once
