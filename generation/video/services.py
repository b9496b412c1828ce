"""Writes that re-render a finished video from its edited timeline, without running ingest,
script, voice or shots again. Two ways in, one edit vocabulary (``edits.TimelineEdits``):

- ``video_job_rerender`` (dashboard): the edited timeline is saved as revision N and rendered
  by its own task into ``render-rN/``; the job stays SUCCEEDED meanwhile (``outputs.rerender``).
- ``video_job_timeline_edit`` (API): the edits are stored next to the job (``EDITS_FILE``) and
  the job's render stage runs again; ``stage_render`` applies them to the timeline it rebuilds
  from the same script, voice and shots (deterministic, so layer indices hold).

Neither spends a credit: the video's hold was already committed."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from pydantic import ValidationError

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import audit_log_write

from .edits import (EDITS_FILE, TimelineEditConflict, TimelineEditError, TimelineEdits, timeline_edits_apply,
                    timeline_edits_check)
from .schema import Timeline
from .selectors import video_job_timeline

logger = logging.getLogger(__name__)


def _media(rel: str) -> Path:
    return Path(settings.MEDIA_ROOT) / rel


def video_job_rerender(*, job: VideoJob, edits: TimelineEdits, actor=None) -> int:
    """Save the edited timeline as revision N and queue its render (after commit). Returns N.
    Raises ``TimelineEditError`` when the job is not finished, is re-rendering, or has no timeline."""
    from .tasks import video_job_rerender_task

    if job.status != VideoJob.Status.SUCCEEDED:
        raise TimelineEditConflict("Only a finished video can be re-rendered.")
    if (job.outputs.get("rerender") or {}).get("state") in ("queued", "running"):
        raise TimelineEditConflict("A re-render of this video is already running.")
    edited = timeline_edits_apply(video_job_timeline(job=job), edits)
    try:  # model_copy does not validate: the saved revision must be a valid timeline
        edited = Timeline.model_validate(edited.model_dump(mode="json"))
    except ValidationError as exc:
        raise TimelineEditError(f"The edited timeline is not valid: {exc}") from exc
    with tenant_context(job.workspace_id), transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        revision = int((job.outputs.get("rerender") or {}).get("revision", 0)) + 1
        rel = f"{job.media_dir()}/edits/r{revision}.json"
        _media(rel).parent.mkdir(parents=True, exist_ok=True)
        _media(rel).write_text(edited.model_dump_json())
        job.outputs = {**job.outputs, "rerender": {"state": "queued", "revision": revision, "edits": rel}}
        job.save(update_fields=["outputs"])
        audit_log_write(workspace=job.workspace, action="video_job.rerender", actor=actor, target=str(job.pk),
                        data={"revision": revision, "lines": len(edits.lines), "texts": len(edits.texts),
                              "shots": len(edits.shots)})
        transaction.on_commit(lambda: video_job_rerender_task.apply_async(
            args=(job.workspace_id, job.pk, revision), queue="render"))
    return revision


def _rerender_state(job_id: int, **state) -> VideoJob:
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job_id)
        job.outputs = {**job.outputs, "rerender": {**(job.outputs.get("rerender") or {}), **state}}
        job.save(update_fields=["outputs"])
    return job


def video_job_rerender_run(*, job_id: int, revision: int) -> None:
    """Render revision N into render-rN/ and point the job's outputs at it (inside the
    job's tenant context). A stale or repeated delivery is a no-op."""
    from .render import render

    job = VideoJob.objects.filter(pk=job_id).first()
    state = (job.outputs.get("rerender") or {}) if job else {}
    if job is None or state.get("revision") != revision or state.get("state") == "done":
        return
    _rerender_state(job_id, state="running")
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    try:
        timeline = json.loads(_media(state["edits"]).read_text())
        # Timeline assets are storage keys: they resolve against the storage root, as in the pipeline.
        result = render(timeline, Path(settings.MEDIA_ROOT), folder / f"render-r{revision}")
    except Exception as exc:  # noqa: BLE001 - any failure must end visibly, not leave "running"
        logger.exception("video_job.rerender_failed job=%s revision=%s", job_id, revision)
        _rerender_state(job_id, state="failed", error=f"The re-render failed: {type(exc).__name__}.")
        return
    root = Path(settings.MEDIA_ROOT).resolve()
    new = {name: str(Path(path).resolve().relative_to(root)) for name, path in (
        ("video", result.video), ("thumbnail", result.thumbnail), ("captions", result.captions),
        ("timeline", result.timeline_json))}
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job_id)
        job.outputs = {**job.outputs, **new,
                       "rerender": {**job.outputs["rerender"], "state": "done", "error": ""}}
        job.save(update_fields=["outputs"])
    logger.info("video_job.rerendered job=%s revision=%s render_s=%s", job_id, revision, result.render_s)


def video_job_timeline_edit(*, job: VideoJob, edits: TimelineEdits, api_key=None) -> VideoJob:
    """Check ``edits`` against the video's saved timeline, store them and queue the render stage
    again (after commit). Raises ``TimelineEditError`` (with ``param``) for an edit naming a
    wrong layer, ``TimelineEditConflict`` when the video is not finished or has no timeline."""
    from generation.jobs.services import video_job_enqueue_stage

    if job.status != VideoJob.Status.SUCCEEDED:
        raise TimelineEditConflict(f"Only a succeeded video can be edited (this one is {job.status}).")
    timeline_edits_check(timeline=video_job_timeline(job=job), edits=edits)
    stored = edits.model_dump(mode="json", exclude_unset=True)
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        (folder / EDITS_FILE).write_text(json.dumps(stored))
        job.status, job.stage, job.finished_at = VideoJob.Status.QUEUED, "render", None
        job.attempts = {**job.attempts, "render": 0}  # a re-render is a new run, not a retry
        job.save(update_fields=["status", "stage", "finished_at", "attempts"])
        audit_log_write(workspace=job.workspace, action="video_job.timeline_edited", api_key=api_key,
                        target=str(job.pk), data={k: len(v) for k, v in stored.items()})
        video_job_enqueue_stage(job=job, stage="render")
    return job
