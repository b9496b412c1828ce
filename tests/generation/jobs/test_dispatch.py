"""Fair dispatch levels and fair CPU on PostgreSQL (RLS) with two workspaces; the niceness is the
real one of this thread."""
import os
from unittest import mock

import pytest

from generation.jobs.dispatch import _can_return_to, job_dispatch_priority, stage_cpu_priority, stage_niceness
from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from tenancy.context import tenant_context
from tenancy.services import credit_grant
from tests.factories import BrandFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _jobs(n: int):
    ws = MembershipFactory().workspace
    credit_grant(workspace=ws, amount=n + 1)
    brand = BrandFactory(workspace=ws)
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async"):
        return ws, [video_job_create(workspace=ws, brand=brand, product_url="https://x.example/p",
                                     template="product_showcase") for _ in range(n)]


def test_level_is_the_jobs_rank_in_its_own_workspace(settings):
    settings.JOBS_DISPATCH_LEVELS = 4
    big, flood = _jobs(6)
    small, (mine,) = _jobs(1)
    with tenant_context(big):
        assert [job_dispatch_priority(job=j) for j in flood] == [0, 1, 2, 3, 3, 3]
        VideoJob.objects.filter(pk__in=[flood[0].pk, flood[1].pk]).update(status="succeeded")
        assert job_dispatch_priority(job=flood[2]) == 0  # it climbs as older jobs finish
    with tenant_context(small):
        # created after the whole flood, yet at the top level: the flood's jobs are not counted
        assert job_dispatch_priority(job=mine) == 0
        assert not VideoJob.objects.filter(pk__in=[j.pk for j in flood]).exists()
    settings.JOBS_DISPATCH_LEVELS = 1  # off: one FIFO list
    with tenant_context(big):
        assert job_dispatch_priority(job=flood[5]) == 0


def test_a_batch_workspace_runs_niced_and_an_interactive_one_does_not(settings):
    from dataclasses import replace

    settings.GENERATION = replace(settings.GENERATION, batch_active_jobs=2, batch_nice=7)
    big, flood = _jobs(3)
    small, (mine,) = _jobs(1)
    with tenant_context(big):
        assert stage_niceness(job=flood[0]) == 7
    with tenant_context(small):
        assert stage_niceness(job=mine) == 0
    settings.GENERATION = replace(settings.GENERATION, batch_nice=0)
    with tenant_context(big):
        assert stage_niceness(job=flood[0]) == 0


def test_stage_cpu_priority_applies_to_every_thread_and_restores():
    import threading

    base = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, base + 5) if _can_return_to(base) else base
    started, stop, seen = threading.Event(), threading.Event(), {}

    def pool_thread():  # like a library's worker thread started before the stage
        seen["tid"] = threading.get_native_id()
        started.set()
        stop.wait(10)

    thread = threading.Thread(target=pool_thread)
    thread.start()
    started.wait(5)
    try:
        with stage_cpu_priority(5):
            inside = os.getpriority(os.PRIO_PROCESS, 0)
            inside_pool = os.getpriority(os.PRIO_PROCESS, seen["tid"])
        after_pool = os.getpriority(os.PRIO_PROCESS, seen["tid"])
    finally:
        stop.set()
        thread.join()
    assert inside == inside_pool == expected
    assert os.getpriority(os.PRIO_PROCESS, 0) == after_pool == base  # never left slowed after a batch stage
    with stage_cpu_priority(0):
        assert os.getpriority(os.PRIO_PROCESS, 0) == base
