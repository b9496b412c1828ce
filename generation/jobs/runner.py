"""Runs one stage of a job exactly as far as it is safe to: claims it, runs the stage service
under its total deadline with a heartbeat, records the result. Redelivered messages resume a
stage whose worker is gone; a delivery for a stage that a live worker holds is dropped, and a
stage over its workspace's running cap is queued again a little later (fairness).

The rules (docs/reliability.md):
- a running stage writes ``heartbeat_at`` every ``heartbeat_s`` from a side thread;
- the sweeper re-queues a RUNNING stage only when its heartbeat is older than
  ``heartbeat_stale_s`` (its worker is gone), never one that still beats;
- each stage has a soft deadline (readable failure) and a hard one (Celery kills the child).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from tenancy.context import tenant_context
from tenancy.models import Workspace

from .artifacts import StageSuperseded
from .dispatch import stage_cpu_priority, stage_niceness
from .errors import StageError, TransientError
from .failures import stage_failure_reason
from .models import PARALLEL_STAGES, VideoJob
from .services import (branch_state, branches_status, video_job_branches_start, video_job_enqueue_stage,
                       video_job_fail, video_job_stage_done)

logger = logging.getLogger(__name__)
RUN, SKIP, DEFER = "run", "skip", "defer"
# (job id, stage) running in this process: tells a same-process duplicate from a dead holder.
_running_here: set[tuple[int, str]] = set()


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _fresh(heartbeat_at, now) -> bool:
    if isinstance(heartbeat_at, str):
        heartbeat_at = datetime.fromisoformat(heartbeat_at)
    stale = timedelta(seconds=settings.GENERATION.heartbeat_stale_s)
    return bool(heartbeat_at and heartbeat_at > now - stale)


def _heartbeat_fresh(job: VideoJob, now) -> bool:
    return _fresh(job.heartbeat_at, now)


def _holder_alive(job: VideoJob, now, stage: str | None = None) -> bool:
    """Is the worker recorded on this RUNNING job (or on its side-by-side ``stage``) still
    running it? Its heartbeat says so; on this host a dead pid (a SIGKILLed pool child) says
    otherwise at once."""
    if stage is None:
        stage, worker, beat = job.stage, job.worker, job.heartbeat_at
    else:
        branch = job.branches.get(stage) or {}
        worker, beat = branch.get("worker") or "", branch.get("heartbeat_at")
    if not _fresh(beat, now):
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return (job.pk, stage) in _running_here
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _workspace_full(job: VideoJob, now, stage: str) -> bool:
    """True when the job's workspace already runs its cap of stages (live heartbeats only;
    each side-by-side stage counts as one)."""
    # Lock the workspace row so two claims of one workspace cannot both see a free slot.
    Workspace.objects.select_for_update().filter(pk=job.workspace_id).first()
    running = 0
    for pk, job_stage, branches, beat in (VideoJob.objects.filter(workspace_id=job.workspace_id,
                                                                  status=VideoJob.Status.RUNNING)
                                          .values_list("pk", "stage", "branches", "heartbeat_at")):
        if job_stage in PARALLEL_STAGES and branches:
            running += sum(1 for name, b in branches.items() if b.get("state") == "running"
                           and _fresh(b.get("heartbeat_at"), now) and (pk, name) != (job.pk, stage))
        elif pk != job.pk and _fresh(beat, now):
            running += 1
    return running >= settings.GENERATION.workspace_max_running


def _claim_branch(job: VideoJob, stage: str, task_id: str, now) -> tuple[str, VideoJob | None]:
    """(Row locked.) Claim one of the stages that run side by side; its holder is recorded in
    ``job.branches[stage]``, and the returned job names it (``job.stage``/``job.worker`` in
    memory) so fencing and the heartbeat check this stage's holder."""
    if not job.branches and job.stage in PARALLEL_STAGES:
        video_job_branches_start(job=job)  # a job queued before stages ran side by side
        for other in PARALLEL_STAGES:
            if other != stage and job.branches[other]["state"] == "queued":
                video_job_enqueue_stage(job=job, stage=other)
    branch = job.branches.get(stage) or {}
    if job.stage not in PARALLEL_STAGES or branch.get("state") not in ("queued", "running"):
        return SKIP, None  # not started yet, already joined, or this stage is done
    if branch["state"] == "running" and _holder_alive(job, now, stage):
        return SKIP, job
    if _workspace_full(job, now, stage):
        job.branches = {**job.branches, stage: branch_state(state="queued", now=now)}
        job.status = branches_status(job.branches)
        job.save(update_fields=["branches", "status"])
        video_job_enqueue_stage(job=job, stage=stage, countdown=settings.GENERATION.defer_s)
        return DEFER, job
    worker = _worker_id()
    job.attempts = {**job.attempts, stage: job.attempts.get(stage, 0) + 1}
    job.branches = {**job.branches, stage: branch_state(state="running", worker=worker, task_id=task_id or "",
                                                        now=now, started_at=now)}
    job.status = VideoJob.Status.RUNNING
    job.heartbeat_at = now
    job.stage_started_at = now
    job.started_at = job.started_at or now
    job.save()
    job.stage, job.worker = stage, worker  # in memory only: this run's stage and holder
    return RUN, job


def _claim(*, job_id: int, stage: str, task_id: str) -> tuple[str, VideoJob | None]:
    """Mark the stage running in this process: (RUN, job), or (SKIP|DEFER, job-or-None)."""
    gen = settings.GENERATION
    now = timezone.now()
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return SKIP, None  # deleted or finished
        if stage in PARALLEL_STAGES:
            outcome, job = _claim_branch(job, stage, task_id, now)
            if outcome != RUN:
                return outcome, job
        elif job.stage != stage:
            return SKIP, None  # an old stage's late duplicate
        elif job.status == VideoJob.Status.RUNNING and _holder_alive(job, now):
            return SKIP, job  # a live worker runs it (a redelivery or a sweeper re-queue race)
        elif _workspace_full(job, now, stage):
            job.status, job.worker, job.stage_task_id, job.heartbeat_at = VideoJob.Status.QUEUED, "", "", now
            job.save(update_fields=["status", "worker", "stage_task_id", "heartbeat_at"])
            video_job_enqueue_stage(job=job, stage=stage, countdown=gen.defer_s)
            return DEFER, job
        else:
            job.attempts = {**job.attempts, stage: job.attempts.get(stage, 0) + 1}
            job.status = VideoJob.Status.RUNNING
            job.worker = _worker_id()
            job.stage_task_id = task_id or ""
            job.heartbeat_at = job.stage_started_at = now
            job.started_at = job.started_at or now
            job.save()
    if job.attempts[stage] > gen.stage_max_attempts:
        video_job_fail(job=job, reason=f"The {stage} step kept failing ({job.attempts[stage] - 1} tries).",
                       stage=stage)
        return SKIP, None
    return RUN, job


class _Heartbeat:
    """A side thread that stamps ``heartbeat_at`` while the stage runs. It has its own database
    connection (Django's are per thread), enters the job's tenant for RLS, and stops on its own
    when the row no longer names this worker (the stage was taken over or finished)."""

    def __init__(self, job: VideoJob, stage: str):
        self.workspace_id, self.job_id, self.stage, self.worker = job.workspace_id, job.pk, stage, job.worker
        self.interval = settings.GENERATION.heartbeat_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.pk}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(self.interval + 10)

    def _beat(self) -> int:
        if self.stage in PARALLEL_STAGES:
            return _branch_beat(self.workspace_id, self.job_id, self.stage, self.worker)
        with tenant_context(self.workspace_id):
            return VideoJob.objects.filter(pk=self.job_id, stage=self.stage, status=VideoJob.Status.RUNNING,
                                           worker=self.worker).update(heartbeat_at=timezone.now())

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self._beat():
                        return
                except DatabaseError:  # one missed beat is fine; staleness needs several
                    logger.warning("video_job.heartbeat_failed job=%s stage=%s", self.job_id, self.stage)
        finally:
            connections.close_all()  # this thread's connections only


def _branch_beat(workspace_id: int, job_id: int, stage: str, worker: str) -> int:
    """Stamp a side-by-side stage's heartbeat (and the job's, for readers of the job row);
    0 when the row no longer names ``worker`` as that stage's holder."""
    with tenant_context(workspace_id), transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id, status=VideoJob.Status.RUNNING).first()
        branch = (job.branches.get(stage) or {}) if job else {}
        if branch.get("state") != "running" or branch.get("worker") != worker:
            return 0
        now = timezone.now()
        job.branches = {**job.branches, stage: {**branch, "heartbeat_at": now.isoformat()}}
        job.heartbeat_at = now
        job.save(update_fields=["branches", "heartbeat_at"])
        return 1


@contextlib.contextmanager
def _soft_deadline(seconds: float):
    """Raise SoftTimeLimitExceeded in the stage after ``seconds``, whatever pool runs it: the
    solo pool has no Celery time limits. A SIGALRM interrupts blocking system calls too; it can
    only be armed from the main thread (where prefork and solo run tasks)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _expired(signum, frame):
        raise SoftTimeLimitExceeded(f"stage deadline of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _release(job: VideoJob) -> None:
    """Give the stage back (QUEUED) before a transient retry, so the retry can claim it."""
    if job.stage in PARALLEL_STAGES:
        with transaction.atomic():
            row = VideoJob.objects.select_for_update().filter(pk=job.pk).first()
            branch = (row.branches.get(job.stage) or {}) if row and not row.is_finished else {}
            if branch.get("state") == "running" and branch.get("worker") == job.worker:
                row.branches = {**row.branches, job.stage: branch_state(state="queued")}
                row.status = branches_status(row.branches)
                row.save(update_fields=["branches", "status"])
        return
    VideoJob.objects.filter(pk=job.pk, status=VideoJob.Status.RUNNING, worker=job.worker).update(
        status=VideoJob.Status.QUEUED, worker="", heartbeat_at=timezone.now())


def _run_service(job: VideoJob, stage: str):
    from catalog.ingest.fetch import fetch_deadline

    from .pipeline import STAGE_SERVICES

    soft, _hard = settings.GENERATION.stage_limits(stage)
    # Network waits get 90% of the stage budget, so a slow shop ends with its own message
    # before the stage-wide alarm has to fire.
    nice = stage_niceness(job=job)
    if nice:
        logger.info("video_job.stage_batch job=%s stage=%s nice=%s", job.pk, stage, nice)
    with (_Heartbeat(job, stage), _soft_deadline(soft), fetch_deadline(soft * 0.9),
          stage_cpu_priority(nice)):
        return STAGE_SERVICES[stage](job)


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of the children it has waited for
    (ffmpeg, espeak-ng): a stage's cost for the capacity model (docs/scaling.md). A browser
    kept warm across stages is not a waited child and is not counted."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def video_job_run_stage(*, job_id: int, stage: str, task_id: str = "", final_try: bool = True) -> str:
    """Run ``stage`` of the job (inside its tenant context). Returns "run", "skip" (finished,
    stale or held by a live worker) or "defer" (workspace at its cap; queued again). Raises
    TransientError to ask for a retry unless ``final_try``; every other failure ends the job
    with a readable reason."""
    outcome, job = _claim(job_id=job_id, stage=stage, task_id=task_id)
    if outcome != RUN:
        logger.info("video_job.stage_%s job=%s stage=%s", outcome, job_id, stage)
        return outcome
    logger.info("video_job.stage_start job=%s stage=%s attempt=%s", job.pk, stage, job.attempts[stage])
    started, cpu_started = time.monotonic(), _cpu_seconds()
    _running_here.add((job.pk, stage))
    try:
        outputs = _run_service(job, stage)
    except StageSuperseded as exc:  # taken over, canceled or finished elsewhere: touch nothing
        logger.warning("video_job.stage_superseded job=%s stage=%s: %s", job.pk, stage, exc)
        return SKIP
    except SoftTimeLimitExceeded:
        soft, _ = settings.GENERATION.stage_limits(stage)
        video_job_fail(job=job, reason=f"The {stage} step took longer than its {soft:.0f} s limit and was stopped.", stage=stage)
        return RUN
    except StageError as exc:
        video_job_fail(job=job, reason=str(exc), stage=stage)
        return RUN
    except TransientError as exc:
        if final_try:
            video_job_fail(job=job, reason=f"The {stage} step failed after retries: {exc}", stage=stage)
            return RUN
        _release(job)
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must end the job visibly, not leave it running
        video_job_fail(job=job, reason=stage_failure_reason(stage=stage, exc=exc, job_id=job.pk), stage=stage)
        return RUN
    finally:
        _running_here.discard((job.pk, stage))
    video_job_stage_done(job_id=job.pk, stage=stage, seconds=time.monotonic() - started, outputs=outputs or {},
                         cpu_seconds=_cpu_seconds() - cpu_started,
                         worker=job.worker if stage in PARALLEL_STAGES else None)
    return RUN


def video_job_stage_timed_out(*, job_id: int, stage: str) -> None:
    """Celery killed the stage at its hard limit: end the job with a readable reason."""
    job = VideoJob.objects.filter(pk=job_id).first()
    current = job is not None and (job.stage == stage or (stage in PARALLEL_STAGES and job.stage in PARALLEL_STAGES))
    if current and not job.is_finished:
        _, hard = settings.GENERATION.stage_limits(stage)
        video_job_fail(job=job, reason=f"The {stage} step took longer than {hard:.0f} s and was stopped.",
                       stage=stage)


def _dead_stage_reason(job: VideoJob, stage: str, started_at, now) -> str:
    """Why a stage whose worker is gone is failed rather than re-queued ("" = re-queue it)."""
    gen = settings.GENERATION
    _, hard = gen.stage_limits(stage)
    if isinstance(started_at, str):
        started_at = datetime.fromisoformat(started_at)
    if job.attempts.get(stage, 0) >= gen.stage_max_attempts:
        return f"The {stage} step stopped responding repeatedly ({job.attempts[stage]} tries)."
    if started_at and (now - started_at).total_seconds() > hard:
        return f"The {stage} step took longer than {hard:.0f} s and was stopped."
    return ""


def _sweep_branches(job: VideoJob, now) -> str | None:
    """(Row locked.) The sweeper's rule for each side-by-side stage on its own: a running one
    with a stale heartbeat, or a queued one nobody claimed within ``queued_stale_s``, is sent
    again (or failed past its limits); a live one is left alone."""
    queued_stale = timedelta(seconds=settings.GENERATION.queued_stale_s)
    requeue = []
    for stage in PARALLEL_STAGES:
        branch = job.branches.get(stage) or {}
        beat = branch.get("heartbeat_at")
        beat = datetime.fromisoformat(beat) if isinstance(beat, str) else beat
        if branch.get("state") == "running":
            if _fresh(beat, now):
                continue
            if reason := _dead_stage_reason(job, stage, branch.get("started_at"), now):
                video_job_fail(job=job, reason=reason, stage=stage)
                return "failed"
        elif branch.get("state") != "queued" or (beat and beat > now - queued_stale):
            continue
        requeue.append(stage)
    if not requeue:
        return None
    job.branches = {**job.branches, **{s: branch_state(state="queued", now=now) for s in requeue}}
    job.status = branches_status(job.branches)
    job.save(update_fields=["branches", "status"])
    for stage in requeue:
        video_job_enqueue_stage(job=job, stage=stage)
    return "requeued"


def _sweep_one(job_id: int, now) -> str | None:
    gen = settings.GENERATION
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        if job.stage in PARALLEL_STAGES and job.branches:
            return _sweep_branches(job, now)
        if job.status == VideoJob.Status.RUNNING:
            if _heartbeat_fresh(job, now):
                return None  # it beat since the scan: still running, never run it twice
            if reason := _dead_stage_reason(job, job.stage, job.stage_started_at, now):
                video_job_fail(job=job, reason=reason)
                return "failed"
        elif job.heartbeat_at and job.heartbeat_at > now - timedelta(seconds=gen.queued_stale_s):
            return None  # queued recently: its message is still on its way
        job.status, job.worker, job.stage_task_id, job.heartbeat_at = VideoJob.Status.QUEUED, "", "", now
        job.save(update_fields=["status", "worker", "stage_task_id", "heartbeat_at"])
        video_job_enqueue_stage(job=job, stage=job.stage)
    return "requeued"


def video_job_sweep_workspace(*, now=None) -> dict:
    """Re-queue (or fail) this workspace's jobs whose worker is gone: RUNNING with a stale
    heartbeat, or QUEUED and never picked up (a lost message). Live stages are left alone;
    jobs whose voice and shots run side by side are checked stage by stage (one may beat while
    the other's worker is gone)."""
    gen = settings.GENERATION
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    candidates = (
        VideoJob.objects.filter(status=VideoJob.Status.RUNNING,
                                heartbeat_at__lt=now - timedelta(seconds=gen.heartbeat_stale_s))
        | VideoJob.objects.filter(status=VideoJob.Status.QUEUED,
                                  heartbeat_at__lt=now - timedelta(seconds=gen.queued_stale_s))
        | VideoJob.objects.filter(status__in=VideoJob.ACTIVE, stage__in=PARALLEL_STAGES)
    )
    for job_id in candidates.values_list("pk", flat=True):
        if (result := _sweep_one(job_id, now)) is not None:
            counts[result] += 1
            logger.warning("video_job.swept job=%s result=%s", job_id, result)
    return counts
