"""`PUT /videos/{id}/timeline`: edit on-screen text, caption words and shot order of a
finished video, then re-render it (no new credit: the hold was already kept).

Edits refer to layers by their index in the timeline (`GET …/timeline`), never to files.
They are stored next to the job (`timeline_edits.json`) and applied by the render stage to the
timeline it rebuilds from the same script, voice and shots (deterministic, so indices hold)."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from rest_framework import serializers

from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_enqueue_stage
from generation.video.edits import EDITS_FILE
from tenancy.services import audit_log_write

from .errors import ApiError




class TextEditSerializer(serializers.Serializer):
    layer = serializers.IntegerField(min_value=0)
    text = serializers.CharField(max_length=200, allow_blank=False)


class CaptionEditSerializer(serializers.Serializer):
    layer = serializers.IntegerField(min_value=0)
    chunk = serializers.IntegerField(min_value=0)
    word = serializers.IntegerField(min_value=0)
    text = serializers.CharField(max_length=40)


class TimelineEditSerializer(serializers.Serializer):
    texts = TextEditSerializer(many=True, required=False, max_length=100)
    captions = CaptionEditSerializer(many=True, required=False, max_length=500)
    shot_order = serializers.ListField(child=serializers.IntegerField(min_value=0), required=False, max_length=100,
                                       help_text="Layer indexes of the shot layers, in their new order")


def _saved_timeline(job: VideoJob) -> dict:
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.outputs.get("timeline", "")).resolve()
    if "timeline" not in (job.outputs or {}) or not path.is_file() or root not in path.parents:
        raise ApiError("conflict", "This video has no rendered timeline to edit yet.")
    return json.loads(path.read_text())


def timeline_edits_check(*, layers: list[dict], edits: dict) -> None:
    """Every edit must name a layer of the right kind; raises ApiError naming the parameter."""
    def layer(i: int, kinds: tuple[str, ...], param: str) -> dict:
        if i >= len(layers) or layers[i].get("type") not in kinds:
            raise ApiError("invalid_request", f"Layer {i} is not a {' or '.join(kinds)} layer.", param=param)
        return layers[i]

    for n, edit in enumerate(edits.get("texts", [])):
        layer(edit["layer"], ("text",), f"texts[{n}].layer")
    for n, edit in enumerate(edits.get("captions", [])):
        chunks = layer(edit["layer"], ("captions",), f"captions[{n}].layer").get("chunks") or []
        if edit["chunk"] >= len(chunks) or edit["word"] >= len(chunks[edit["chunk"]].get("words") or []):
            raise ApiError("invalid_request", "No such caption chunk/word.", param=f"captions[{n}]")
    order = edits.get("shot_order")
    if order is not None:
        shots = [i for i, la in enumerate(layers) if la.get("type") in ("shot", "image") and la.get("source") != "product"]
        if sorted(order) != shots:
            raise ApiError("invalid_request", f"shot_order must be a permutation of the shot layers {shots}.",
                           param="shot_order")


def video_timeline_edit(*, job: VideoJob, edits: dict, api_key=None) -> VideoJob:
    """Validate ``edits`` against the video's timeline, store them and queue a re-render."""
    if job.status != VideoJob.Status.SUCCEEDED:
        raise ApiError("conflict", f"Only a succeeded video can be edited (this one is {job.status}).")
    timeline_edits_check(layers=_saved_timeline(job).get("layers") or [], edits=edits)
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().get(pk=job.pk)
        (folder / EDITS_FILE).write_text(json.dumps(edits, default=dict))
        job.status, job.stage, job.finished_at = VideoJob.Status.QUEUED, "render", None
        job.attempts = {**job.attempts, "render": 0}  # a re-render is a new run, not a retry
        job.save(update_fields=["status", "stage", "finished_at", "attempts"])
        audit_log_write(workspace=job.workspace, action="video_job.timeline_edited", api_key=api_key,
                        target=str(job.pk), data={k: len(v) for k, v in edits.items()})
        video_job_enqueue_stage(job=job, stage="render")
    return job
