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
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from tenancy.context import tenant_context
from tenancy.models import Workspace

from .artifacts import StageSuperseded
from .errors import StageError, TransientError
from .failures import stage_failure_reason
from .models import VideoJob
from .services import video_job_enqueue_stage, video_job_fail, video_job_stage_done

logger = logging.getLogger(__name__)
RUN, SKIP, DEFER = "run", "skip", "defer"
# (job id, stage) running in this process: tells a same-process duplicate from a dead holder.
_running_here: set[tuple[int, str]] = set()


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _heartbeat_fresh(job: VideoJob, now) -> bool:
    stale = timedelta(seconds=settings.GENERATION.heartbeat_stale_s)
    return bool(job.heartbeat_at and job.heartbeat_at > now - stale)


def _holder_alive(job: VideoJob, now) -> bool:
    """Is the worker recorded on this RUNNING job still running it? Its heartbeat says so; on
    this host a dead pid (a SIGKILLed pool child) says otherwise at once."""
    if not _heartbeat_fresh(job, now):
        return False
    host, _, pid = job.worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return (job.pk, job.stage) in _running_here
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _workspace_full(job: VideoJob, now) -> bool:
    """True when the job's workspace already runs its cap of stages (live heartbeats only)."""
    # Lock the workspace row so two claims of one workspace cannot both see a free slot.
    Workspace.objects.select_for_update().filter(pk=job.workspace_id).first()
    running = (VideoJob.objects.filter(workspace_id=job.workspace_id, status=VideoJob.Status.RUNNING,
                                       heartbeat_at__gt=now - timedelta(seconds=settings.GENERATION.heartbeat_stale_s))
               .exclude(pk=job.pk).count())
    return running >= settings.GENERATION.workspace_max_running


def _claim(*, job_id: int, stage: str, task_id: str) -> tuple[str, VideoJob | None]:
    """Mark the stage running in this process: (RUN, job), or (SKIP|DEFER, job-or-None)."""
    gen = settings.GENERATION
    now = timezone.now()
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished or job.stage != stage:
            return SKIP, None  # deleted, finished, or an old stage's late duplicate
        if job.status == VideoJob.Status.RUNNING and _holder_alive(job, now):
            return SKIP, job  # a live worker runs it (a redelivery or a sweeper re-queue race)
        if _workspace_full(job, now):
            job.status, job.worker, job.stage_task_id, job.heartbeat_at = VideoJob.Status.QUEUED, "", "", now
            job.save(update_fields=["status", "worker", "stage_task_id", "heartbeat_at"])
            video_job_enqueue_stage(job=job, stage=stage, countdown=gen.defer_s)
            return DEFER, job
        job.attempts = {**job.attempts, stage: job.attempts.get(stage, 0) + 1}
        job.status = VideoJob.Status.RUNNING
        job.worker = _worker_id()
        job.stage_task_id = task_id or ""
        job.heartbeat_at = job.stage_started_at = now
        job.started_at = job.started_at or now
        job.save()
    if job.attempts[stage] > gen.stage_max_attempts:
        video_job_fail(job=job, reason=f"The {stage} step kept failing ({job.attempts[stage] - 1} tries).")
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
    VideoJob.objects.filter(pk=job.pk, status=VideoJob.Status.RUNNING, worker=job.worker).update(
        status=VideoJob.Status.QUEUED, worker="", heartbeat_at=timezone.now())


def _run_service(job: VideoJob, stage: str):
    from catalog.ingest.fetch import fetch_deadline

    from .pipeline import STAGE_SERVICES

    soft, _hard = settings.GENERATION.stage_limits(stage)
    # Network waits get 90% of the stage budget, so a slow shop ends with its own message
    # before the stage-wide alarm has to fire.
    with _Heartbeat(job, stage), _soft_deadline(soft), fetch_deadline(soft * 0.9):
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
        video_job_fail(job=job, reason=f"The {stage} step took longer than its {soft:.0f} s limit and was stopped.")
        return RUN
    except StageError as exc:
        video_job_fail(job=job, reason=str(exc))
        return RUN
    except TransientError as exc:
        if final_try:
            video_job_fail(job=job, reason=f"The {stage} step failed after retries: {exc}")
            return RUN
        _release(job)
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must end the job visibly, not leave it running
        video_job_fail(job=job, reason=stage_failure_reason(stage=stage, exc=exc, job_id=job.pk))
        return RUN
    finally:
        _running_here.discard((job.pk, stage))
    video_job_stage_done(job_id=job.pk, stage=stage, seconds=time.monotonic() - started, outputs=outputs or {},
                         cpu_seconds=_cpu_seconds() - cpu_started)
    return RUN


def video_job_stage_timed_out(*, job_id: int, stage: str) -> None:
    """Celery killed the stage at its hard limit: end the job with a readable reason."""
    job = VideoJob.objects.filter(pk=job_id, stage=stage).first()
    if job is not None and not job.is_finished:
        _, hard = settings.GENERATION.stage_limits(stage)
        video_job_fail(job=job, reason=f"The {stage} step took longer than {hard:.0f} s and was stopped.")


def _sweep_one(job_id: int, now) -> str | None:
    gen = settings.GENERATION
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        if job.status == VideoJob.Status.RUNNING:
            if _heartbeat_fresh(job, now):
                return None  # it beat since the scan: still running, never run it twice
            _, hard = gen.stage_limits(job.stage)
            if job.attempts.get(job.stage, 0) >= gen.stage_max_attempts:
                reason = f"The {job.stage} step stopped responding repeatedly ({job.attempts[job.stage]} tries)."
            elif job.stage_started_at and (now - job.stage_started_at).total_seconds() > hard:
                reason = f"The {job.stage} step took longer than {hard:.0f} s and was stopped."
            else:
                reason = ""
            if reason:
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
    heartbeat, or QUEUED and never picked up (a lost message). Live stages are left alone."""
    gen = settings.GENERATION
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    candidates = (
        VideoJob.objects.filter(status=VideoJob.Status.RUNNING,
                                heartbeat_at__lt=now - timedelta(seconds=gen.heartbeat_stale_s))
        | VideoJob.objects.filter(status=VideoJob.Status.QUEUED,
                                  heartbeat_at__lt=now - timedelta(seconds=gen.queued_stale_s))
    )
    for job_id in candidates.values_list("pk", flat=True):
        if (result := _sweep_one(job_id, now)) is not None:
            counts[result] += 1
            logger.warning("video_job.swept job=%s result=%s", job_id, result)
    return counts
