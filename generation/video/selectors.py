"""Reads of a finished video's render outputs: its saved timeline and the pictures it may show."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from pydantic import ValidationError

from generation.jobs.models import VideoJob

from .edits import TimelineEditConflict, shot_assets
from .schema import Timeline


def _media_path(rel: str) -> Path | None:
    """``rel`` under MEDIA_ROOT, or None when it points outside it (a stored key is never trusted)."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / rel).resolve()
    return path if root in path.parents else None


def video_job_timeline(*, job: VideoJob) -> Timeline:
    """The timeline the job's last render wrote, validated; ``TimelineEditConflict`` when the job
    has none or it cannot be read. The caller has already scoped ``job`` to its workspace."""
    rel = (job.outputs or {}).get("timeline")
    path = _media_path(rel) if rel else None
    if path is None or not path.is_file():
        raise TimelineEditConflict("This video has no timeline to edit yet.")
    try:
        return Timeline.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        raise TimelineEditConflict("This video's timeline cannot be read; render it again.") from exc


def video_job_shot_asset_path(*, job: VideoJob, n: int) -> Path | None:
    """The file of picture ``n`` of the job's current timeline, if it lies in the job's own
    workspace folder (timeline assets are storage keys, relative to MEDIA_ROOT)."""
    assets = shot_assets(video_job_timeline(job=job))
    if not 0 <= n < len(assets):
        return None
    media = Path(settings.MEDIA_ROOT).resolve()
    workspace_dir = (media / f"workspaces/{job.workspace_id}").resolve()
    path = Path(assets[n])
    path = (path if path.is_absolute() else media / path).resolve()
    return path if path.is_file() and workspace_dir in path.parents else None
