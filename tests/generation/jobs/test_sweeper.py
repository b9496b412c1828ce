"""The sweeper re-queues jobs whose stage stopped reporting, and fails them (refunding the
credit) once the stage has used up its attempts."""
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from generation.jobs.tasks import video_job_sweep_task
from tenancy.context import tenant_context
from tenancy.services import credit_balance
from tests.factories import BrandFactory, MembershipFactory
from tenancy.services import credit_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs():
    out = []
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async"):
        for _ in range(2):
            ws = MembershipFactory().workspace
            credit_grant(workspace=ws, amount=3)
            brand = BrandFactory(workspace=ws)
            out.append(video_job_create(workspace=ws, brand=brand, product_url="https://x.example/p",
                                        template="product_showcase"))
    return out


def _age(job, *, stage, attempts, minutes=60):
    with tenant_context(job.workspace_id):
        VideoJob.objects.filter(pk=job.pk).update(status="running", stage=stage, attempts={stage: attempts},
                                                  heartbeat_at=timezone.now() - timedelta(minutes=minutes))


def test_sweeper_requeues_stale_and_fails_exhausted_jobs(jobs, django_capture_on_commit_callbacks):
    stale, exhausted = jobs
    _age(stale, stage="render", attempts=1)
    _age(exhausted, stage="voice", attempts=4)
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async") as apply_async, \
         django_capture_on_commit_callbacks(execute=True):
        totals = video_job_sweep_task()
    assert totals == {"requeued": 1, "failed": 1}
    apply_async.assert_called_once_with(args=(stale.workspace_id, stale.pk, "render"), queue="render", priority=0)
    with tenant_context(stale.workspace_id):
        stale.refresh_from_db()
    with tenant_context(exhausted.workspace_id):
        exhausted.refresh_from_db()
    assert stale.status == "queued"
    assert exhausted.status == "failed" and "voice" in exhausted.failure_reason
    assert credit_balance(workspace=exhausted.workspace) == 3


def test_fresh_jobs_are_left_alone(jobs):
    _age(jobs[0], stage="shots", attempts=1, minutes=1)
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async") as apply_async:
        assert video_job_sweep_task() == {"requeued": 0, "failed": 0}
    apply_async.assert_not_called()
