"""Re-render a finished job from its timeline with edited caption lines and on-screen texts,
without running ingest, script, voice or shots again.

The one place that knows the timeline's JSON shape for editing (``timeline_edits_apply``):
when the timeline is retyped, only this module changes. The voice track is not re-spoken:
edits change what is *shown* (captions, texts), the audio stays as recorded."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.services import audit_log_write

from .services import clean_text

logger = logging.getLogger(__name__)
EDITABLE_TEXT_VARIANTS = {"plain", "cta", "quote", "badge"}
MAX_LINE = 200


class RerenderError(ValueError):
    """The edits cannot be applied (bad job state or an invalid timeline)."""


def _media(rel: str) -> Path:
    return Path(settings.MEDIA_ROOT) / rel


def timeline_load(*, job: VideoJob) -> dict:
    rel = (job.outputs or {}).get("timeline")
    if not rel or not _media(rel).is_file():
        raise RerenderError("This video has no timeline to edit yet.")
    try:
        timeline = json.loads(_media(rel).read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RerenderError("This video's timeline cannot be read; render it again.") from exc
    if not isinstance(timeline, dict):
        raise RerenderError("This video's timeline cannot be read; render it again.")
    return timeline


def shot_assets(timeline: dict) -> list[str]:
    """The distinct pictures the timeline's shot layers show, in order of first use: the only
    choices a scene's shot may be swapped for (never a path typed by a user)."""
    return list(dict.fromkeys(ly["asset"] for ly in timeline.get("layers", [])
                              if ly.get("type") in ("shot", "image") and ly.get("asset")))


def timeline_editable(timeline: dict) -> dict:
    """What a person may edit: caption chunks (by index), on-screen texts (by layer index) and
    which picture each shot layer shows (by layer index, as an index into ``shot_assets``)."""
    lines, texts = [], []
    assets = shot_assets(timeline)
    shots = [{"index": li, "start": round(ly.get("start") or 0, 2), "end": round(ly.get("end") or 0, 2),
              "asset": assets.index(ly["asset"])}
             for li, ly in enumerate(timeline.get("layers", []))
             if ly.get("type") in ("shot", "image") and ly.get("asset") in assets]
    for li, layer in enumerate(timeline.get("layers", [])):
        if layer.get("type") == "captions" and not lines:
            lines = [{"index": ci, "start": round(c["start"], 2), "end": round(c["end"], 2),
                      "text": " ".join(w["word"] for w in c["words"])} for ci, c in enumerate(layer.get("chunks", []))]
        elif layer.get("type") == "text" and layer.get("variant", "plain") in EDITABLE_TEXT_VARIANTS:
            texts.append({"index": li, "start": round(layer.get("start") or 0, 2), "text": layer.get("text", "")})
    return {"lines": lines, "texts": texts, "shots": shots, "assets": len(assets)}


def timeline_edits_apply(timeline: dict, *, lines: dict[int, str], texts: dict[int, str],
                         shots: dict[int, int] | None = None) -> dict:
    """A copy of ``timeline`` with caption chunk ``i`` showing ``lines[i]`` (words spread evenly
    over the chunk's time), text layer ``j`` reading ``texts[j]`` and shot layer ``k`` showing
    picture ``shots[k]`` of ``shot_assets``. Empty or out-of-range edits are ignored."""
    from generation.video import Timeline

    out = json.loads(json.dumps(timeline))
    layers = out.get("layers", [])
    assets = shot_assets(timeline)
    for li, choice in (shots or {}).items():
        if 0 <= li < len(layers) and layers[li].get("type") in ("shot", "image") and 0 <= choice < len(assets):
            layers[li]["asset"] = assets[choice]
    captions = next((ly for ly in layers if ly.get("type") == "captions"), None)
    for ci, text in lines.items():
        words = clean_text(text, limit=MAX_LINE).split()
        if not words or captions is None or not 0 <= ci < len(captions.get("chunks", [])):
            continue
        chunk = captions["chunks"][ci]
        t0, t1 = chunk["words"][0]["start"], chunk["words"][-1]["end"]
        step = max(t1 - t0, 0.05) / len(words)
        chunk["words"] = [{"word": w, "start": round(t0 + k * step, 3), "end": round(t0 + (k + 1) * step, 3)}
                          for k, w in enumerate(words)]
    for li, text in texts.items():
        text = clean_text(text, limit=MAX_LINE)
        if text and 0 <= li < len(layers) and layers[li].get("type") == "text" \
                and layers[li].get("variant", "plain") in EDITABLE_TEXT_VARIANTS:
            layers[li]["text"] = text
    try:
        return Timeline.model_validate(out).model_dump(mode="json")
    except ValueError as exc:
        raise RerenderError(f"The edited timeline is not valid: {exc}") from exc


def video_job_rerender(*, job: VideoJob, lines: dict[int, str], texts: dict[int, str],
                       shots: dict[int, int] | None = None, actor=None) -> int:
    """Save the edited timeline as revision N and queue its render (after commit). Returns N."""
    from .tasks import video_job_rerender_task

    if job.status != VideoJob.Status.SUCCEEDED:
        raise RerenderError("Only a finished video can be re-rendered.")
    if (job.outputs.get("rerender") or {}).get("state") in ("queued", "running"):
        raise RerenderError("A re-render of this video is already running.")
    edited = timeline_edits_apply(timeline_load(job=job), lines=lines, texts=texts, shots=shots)
    with tenant_context(job.workspace_id), transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        revision = int((job.outputs.get("rerender") or {}).get("revision", 0)) + 1
        rel = f"{job.media_dir()}/edits/r{revision}.json"
        _media(rel).parent.mkdir(parents=True, exist_ok=True)
        _media(rel).write_text(json.dumps(edited))
        job.outputs = {**job.outputs, "rerender": {"state": "queued", "revision": revision, "edits": rel}}
        job.save(update_fields=["outputs"])
        audit_log_write(workspace=job.workspace, action="video_job.rerender", actor=actor, target=str(job.pk),
                        data={"revision": revision, "lines": len(lines), "texts": len(texts),
                              "shots": len(shots or {})})
        transaction.on_commit(lambda: video_job_rerender_task.apply_async(
            args=(job.workspace_id, job.pk, revision), queue="render"))
    return revision


def shot_asset_path(*, job: VideoJob, n: int) -> Path | None:
    """The file of picture ``n`` of the job's current timeline, if it lies in the job's folder."""
    assets = shot_assets(timeline_load(job=job))
    if not 0 <= n < len(assets):
        return None
    folder = (Path(settings.MEDIA_ROOT) / job.media_dir()).resolve()
    path = Path(assets[n])
    path = (path if path.is_absolute() else folder / path).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    return path if path.is_file() and media in path.parents else None


def _rerender_state(job_id: int, **state) -> VideoJob:
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job_id)
        job.outputs = {**job.outputs, "rerender": {**(job.outputs.get("rerender") or {}), **state}}
        job.save(update_fields=["outputs"])
    return job


def video_job_rerender_run(*, job_id: int, revision: int) -> None:
    """Render revision N into render-rN/ and point the job's outputs at it (inside the
    job's tenant context). A stale or repeated delivery is a no-op."""
    from generation.video import render

    job = VideoJob.objects.filter(pk=job_id).first()
    state = (job.outputs.get("rerender") or {}) if job else {}
    if job is None or state.get("revision") != revision or state.get("state") == "done":
        return
    _rerender_state(job_id, state="running")
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    try:
        timeline = json.loads(_media(state["edits"]).read_text())
        result = render(timeline, folder, folder / f"render-r{revision}")
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
