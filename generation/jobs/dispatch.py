"""Fair dispatch across workspaces: which stage message a free worker takes next.

Stage queues are Redis lists, one per priority level (kombu's ``priority_steps``; a worker's
BRPOP names the level-0 list first, then 1, …). Every stage message is sent at the level of its
job's **rank in its workspace**: the number of that workspace's active jobs created before it
(capped at the last level). Each workspace's oldest job is at level 0, its second at level 1, and
so on, so a free worker serves the k-th job of every workspace before the (k+1)-th of any:
round robin over workspaces by job, and a workspace with one job in flight goes ahead of
another's backlog of hundreds instead of waiting behind it (FIFO). Inside one workspace older jobs
go first, so a flood finishes jobs rather than starting all of them at once.

The level is computed when the message is sent (each stage is a new message, so it follows the
job as earlier jobs finish). Nothing else changes: the same ``acks_late`` messages, the same
visibility timeout and restore, the job row stays the outbox (the sweeper re-sends with a fresh
level), and the per-workspace running cap (runner) still bounds what one workspace holds.
"""
from __future__ import annotations

from django.conf import settings

from .models import VideoJob


def dispatch_levels() -> int:
    """How many priority levels the broker keeps per queue (``JOBS_DISPATCH_LEVELS``)."""
    return max(1, int(getattr(settings, "JOBS_DISPATCH_LEVELS", 1)))


def job_dispatch_priority(*, job: VideoJob) -> int:
    """The level of ``job``'s next stage message: its rank among its workspace's active jobs
    (0 = the oldest), capped at the last level. Reads inside the caller's transaction and
    tenant (RLS binds the count to the job's workspace)."""
    levels = dispatch_levels()
    if levels == 1:
        return 0
    ahead = (VideoJob.unscoped.filter(workspace_id=job.workspace_id, status__in=VideoJob.ACTIVE, pk__lt=job.pk)
             .order_by().values("pk")[: levels - 1].count())
    return min(ahead, levels - 1)
