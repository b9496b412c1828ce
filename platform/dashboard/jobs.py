"""Job pages: live progress by stage, errors with retry, player, downloads, editable
captions/on-screen texts with re-render, and the job's variants side by side."""
from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from api.videos import video_file_response
from generation.jobs.models import STAGES, VideoJob
from tenancy.services import InsufficientCredits

from generation.video.edits import MAX_LINE, TextEdit, TimelineEditError, TimelineEdits, timeline_editable
from generation.video.selectors import video_job_shot_asset_path, video_job_timeline
from generation.video.services import video_job_rerender

from .access import EDIT, VIEW, role_required
from .services import clean_text, video_job_retry

STAGE_LABELS = {"ingest": "Reading the product page", "script": "Writing the script", "voice": "Recording the voice",
                "shots": "Making the shots", "render": "Rendering the video"}


def job_or_404(pk: int) -> VideoJob:
    """The job if it belongs to the request's workspace (scoped manager + RLS), else 404."""
    job = VideoJob.objects.select_related("brand", "product").filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def job_stages(job: VideoJob) -> list[dict]:
    """Each stage: done/running/waiting/failed with its seconds (elapsed so far when running)."""
    out, current = [], STAGES.index(job.stage) if job.stage in STAGES else 0
    for i, stage in enumerate(STAGES):
        if stage in job.timings:
            state, seconds = "done", job.timings[stage]
        elif i == current and job.status == VideoJob.Status.FAILED:
            state, seconds = "failed", None
        elif stage in job.branches and job.status == VideoJob.Status.RUNNING:
            # voice and shots run side by side: each has its own state and start time
            branch = job.branches[stage]
            started = branch.get("started_at") if branch.get("state") == "running" else None
            state = "running" if started else "waiting"
            seconds = round((timezone.now() - datetime.fromisoformat(started)).total_seconds(), 1) if started else None
        elif i == current and job.status == VideoJob.Status.RUNNING and job.heartbeat_at:
            state, seconds = "running", round((timezone.now() - job.heartbeat_at).total_seconds(), 1)
        else:
            state, seconds = "waiting", None
        out.append({"stage": stage, "label": STAGE_LABELS[stage], "state": state, "seconds": seconds})
    return out


def job_status_data(job: VideoJob) -> dict:
    elapsed = ((job.finished_at or timezone.now()) - job.created_at).total_seconds()
    rerender = job.outputs.get("rerender") or {}
    return {
        "status": job.status, "stage": job.stage, "progress": job.progress, "failure_reason": job.failure_reason,
        "finished": job.is_finished, "has_video": "video" in job.outputs, "elapsed_s": round(elapsed, 1),
        "stages": job_stages(job), "revision": rerender.get("revision", 0),
        "rerender": rerender.get("state", ""), "rerender_error": rerender.get("error", ""),
    }


def _siblings(job: VideoJob):
    """The other videos made from the same product preview (aspects and variants)."""
    if job.product_id is None:
        return VideoJob.objects.none()
    return VideoJob.objects.filter(product_id=job.product_id, template=job.template).exclude(pk=job.pk) \
        .order_by("-created_at")[:8]


@role_required(VIEW)
def job_detail(request, pk: int):
    job = job_or_404(pk)
    editable = {"lines": [], "texts": [], "shots": [], "assets": 0}
    if job.status == VideoJob.Status.SUCCEEDED:
        try:
            editable = timeline_editable(video_job_timeline(job=job))
        except TimelineEditError:
            pass
    return render(request, "dashboard/job.html", {"job": job, "status": job_status_data(job), "editable": editable,
                                                  "pictures": range(editable["assets"]), "siblings": _siblings(job)})


@role_required(VIEW)
def job_shot(request, pk: int, n: int):
    """Picture ``n`` a shot of this job's timeline may show (for the shot picker)."""
    from django.http import FileResponse

    job = job_or_404(pk)
    try:
        path = video_job_shot_asset_path(job=job, n=n)
    except TimelineEditError:
        path = None
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"))


@role_required(VIEW)
def job_status(request, pk: int):
    return JsonResponse(job_status_data(job_or_404(pk)))


@role_required(VIEW)
def job_file(request, pk: int, name: str):
    return video_file_response(job=job_or_404(pk), name=name)


@require_POST
@role_required(EDIT)
def job_retry(request, pk: int):
    try:
        new = video_job_retry(job=job_or_404(pk), actor=request.user)
    except (ValueError, InsufficientCredits) as exc:
        messages.error(request, "Not enough credits to retry." if isinstance(exc, InsufficientCredits) else str(exc))
        return redirect("dashboard:job", pk=pk)
    return redirect("dashboard:job", pk=new.pk)


def _indexed(post, prefix: str) -> dict[int, str]:
    out = {}
    for key, value in post.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit() and len(out) < 500:
            out[int(key[len(prefix):])] = value
    return out


def _cleaned(texts: dict[int, str]) -> dict[int, str]:
    """Single-line texts without control characters; an emptied field is no edit."""
    cleaned = {i: clean_text(t, limit=MAX_LINE) for i, t in texts.items()}
    return {i: t for i, t in cleaned.items() if t}


@require_POST
@role_required(EDIT)
def job_rerender(request, pk: int):
    job = job_or_404(pk)
    try:
        editable = timeline_editable(video_job_timeline(job=job)) if job.status == VideoJob.Status.SUCCEEDED else None
    except TimelineEditError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:job", pk=pk)
    lines = _cleaned(_indexed(request.POST, "line-"))
    texts = _cleaned(_indexed(request.POST, "text-"))
    shots = {i: int(v) for i, v in _indexed(request.POST, "shot-").items() if v.isdigit()}
    if editable is not None:  # only what changed
        old_lines = {x["index"]: x["text"] for x in editable["lines"]}
        old_texts = {x["index"]: x["text"] for x in editable["texts"]}
        lines = {i: t for i, t in lines.items() if old_lines.get(i) not in (None, t)}
        texts = {i: t for i, t in texts.items() if old_texts.get(i) not in (None, t)}
        old_shots = {x["index"]: x["asset"] for x in editable["shots"]}
        shots = {i: k for i, k in shots.items() if old_shots.get(i) not in (None, k)}
    if not (lines or texts or shots):
        messages.error(request, "Nothing was changed: edit a line, a text or a shot first.")
        return redirect("dashboard:job", pk=pk)
    try:
        edits = TimelineEdits(lines=lines, texts=[TextEdit(layer=i, text=t) for i, t in texts.items()], shots=shots)
        revision = video_job_rerender(job=job, edits=edits, actor=request.user)
    except TimelineEditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Re-rendering with your edits (revision {revision}).")
    return redirect("dashboard:job", pk=pk)
