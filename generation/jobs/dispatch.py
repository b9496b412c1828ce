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

Fair CPU: order alone does not help a small job whose stages then share the host's cores with a
flood's. A workspace with more than ``batch_active_jobs`` active jobs is a *batch*: its stages
run at niceness ``batch_nice`` (the tools they start inherit it), so on a contended host the
kernel gives a stage of an interactive workspace most of the CPU, and with nothing else to run a
batch still gets all of it (throughput is unchanged).
"""
from __future__ import annotations

import contextlib
import logging
import os
import resource

from django.conf import settings
from django.db import connection

from .models import VideoJob

logger = logging.getLogger(__name__)


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
    # Raw SQL (the ORM's own statement, without compiling it per job creation: ~0.5 ms of CPU).
    with connection.cursor() as cursor:
        cursor.execute(_RANK_SQL, [job.workspace_id, *[str(s) for s in VideoJob.ACTIVE], job.pk, levels - 1])
        ahead = cursor.fetchone()[0]
    return min(ahead, levels - 1)


_RANK_SQL = (f"SELECT COUNT(*) FROM (SELECT 1 FROM {VideoJob._meta.db_table} WHERE workspace_id = %s "
             f"AND status IN ({', '.join(['%s'] * len(VideoJob.ACTIVE))}) AND id < %s LIMIT %s) AS ahead")


def stage_niceness(*, job: VideoJob) -> int:
    """The niceness ``job``'s next stage runs at: ``batch_nice`` when its workspace has more than
    ``batch_active_jobs`` active jobs, else 0."""
    gen = settings.GENERATION
    if not gen.batch_nice:
        return 0
    active = (VideoJob.unscoped.filter(workspace_id=job.workspace_id, status__in=VideoJob.ACTIVE)
              .order_by().values("pk")[: gen.batch_active_jobs + 1].count())
    return gen.batch_nice if active > gen.batch_active_jobs else 0


def _can_return_to(nice: int) -> bool:
    """Lowering niceness again needs CAP_SYS_NICE or a large enough RLIMIT_NICE (20 - limit is
    the lowest value allowed); without it a worker would stay slowed after one batch stage."""
    if os.geteuid() == 0:
        return True
    soft, _hard = resource.getrlimit(resource.RLIMIT_NICE)
    return soft == resource.RLIM_INFINITY or 20 - soft <= nice


def _threads() -> list[int]:
    """Thread ids of this process (Linux): niceness is per thread there, and a library's pool
    threads (ONNX runtime for the voice) were started before the stage and do its work."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def _renice_all(nice: int) -> None:
    for tid in _threads():
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except (ProcessLookupError, PermissionError):  # a thread that just ended
            pass


@contextlib.contextmanager
def stage_cpu_priority(nice: int):
    """Run the body ``nice`` steps nicer — every thread of this worker process (a prefork child
    runs one stage at a time) and the processes it starts — then return to the process's own
    niceness. A no-op when the worker could not return (logged once)."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    if not nice or not _can_return_to(base):
        if nice and not getattr(stage_cpu_priority, "warned", False):
            stage_cpu_priority.warned = True
            logger.warning("dispatch.batch_nice_unavailable: needs CAP_SYS_NICE or RLIMIT_NICE; stages run unniced")
        yield
        return
    _renice_all(min(19, base + nice))
    try:
        yield
    finally:
        _renice_all(base)  # threads started during the stage too
