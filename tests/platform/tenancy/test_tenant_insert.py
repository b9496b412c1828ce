"""tenant_insert writes the same row as Model.save (every column, defaults, auto_now_add,
JSON, foreign keys), refuses another workspace's row, and stays inside RLS."""
from __future__ import annotations

import pytest
from django.db.models.signals import post_save

from generation.jobs.models import VideoJob
from tenancy.context import NoTenantContext, tenant_context
from tenancy.managers import tenant_insert


def _fields(job: VideoJob) -> dict:
    row = VideoJob.unscoped.filter(pk=job.pk).values().get()
    return {k: v for k, v in row.items() if k not in ("id", "created_at", "heartbeat_at")}


@pytest.mark.django_db
def test_tenant_insert_writes_what_save_writes(two_workspaces, postgres_only):
    a, b = two_workspaces["a"], two_workspaces["b"]
    kwargs = dict(workspace=a["workspace"], brand=a["brand"], product_url="https://shop.example/p/1",
                  template="product_showcase", aspect="1:1", timings={"ingest": 1.5}, request_id="req_1", variant=2,
                  created_by=a["user"])
    with tenant_context(a["workspace"]):
        fast = tenant_insert(VideoJob(**kwargs))
        slow = VideoJob.objects.create(**kwargs)
        assert not fast._state.adding and fast.pk and fast.created_at is not None
        assert _fields(fast) == _fields(slow)
        assert VideoJob.objects.get(pk=fast.pk).timings == {"ingest": 1.5}
    with tenant_context(b["workspace"]):
        assert not VideoJob.objects.filter(pk=fast.pk).exists()  # RLS + scoped manager
        with pytest.raises(PermissionError):
            tenant_insert(VideoJob(**kwargs))  # workspace A's row from workspace B's context
    with pytest.raises(NoTenantContext):
        tenant_insert(VideoJob(**{**kwargs, "workspace": None}))


@pytest.mark.django_db
def test_tenant_insert_sends_save_signals_when_someone_listens(two_workspaces, postgres_only):
    a = two_workspaces["a"]
    seen = []

    def listener(sender, instance, created, **kw):
        seen.append((instance.pk, created))

    post_save.connect(listener, sender=VideoJob)
    try:
        with tenant_context(a["workspace"]):
            job = tenant_insert(VideoJob(workspace=a["workspace"], brand=a["brand"], product_url="https://x.example/p",
                                         template="product_showcase"))
    finally:
        post_save.disconnect(listener, sender=VideoJob)
    assert seen == [(job.pk, True)]
