"""`PUT /videos/{id}/timeline`: edit on-screen text, caption words and shot order of a
finished video, then re-render it (no new credit: the hold was already kept).

Request handling only: the body is validated here, then ``generation.video.services``
checks the edits against the saved timeline, stores them and re-queues the render stage."""
from __future__ import annotations

from rest_framework import serializers

from generation.jobs.models import VideoJob
from generation.video.edits import MAX_LINE, MAX_WORD, TimelineEditError, TimelineEdits
from generation.video.services import video_job_timeline_edit

from .errors import ApiError


class TextEditSerializer(serializers.Serializer):
    layer = serializers.IntegerField(min_value=0)
    text = serializers.CharField(max_length=MAX_LINE, allow_blank=False)


class CaptionEditSerializer(serializers.Serializer):
    layer = serializers.IntegerField(min_value=0)
    chunk = serializers.IntegerField(min_value=0)
    word = serializers.IntegerField(min_value=0)
    text = serializers.CharField(max_length=MAX_WORD)


class TimelineEditSerializer(serializers.Serializer):
    texts = TextEditSerializer(many=True, required=False, max_length=100)
    captions = CaptionEditSerializer(many=True, required=False, max_length=500)
    shot_order = serializers.ListField(child=serializers.IntegerField(min_value=0), required=False, max_length=100,
                                       help_text="Layer indexes of the shot layers, in their new order")


def video_timeline_edit(*, job: VideoJob, edits: dict, api_key=None) -> VideoJob:
    """Validated ``edits`` (the serializer's data) → the edit service; its refusals become
    problem responses with the same code and parameter."""
    try:
        return video_job_timeline_edit(job=job, edits=TimelineEdits.model_validate(edits), api_key=api_key)
    except TimelineEditError as exc:
        raise ApiError(exc.code, str(exc), param=exc.param) from exc
