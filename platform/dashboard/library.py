"""Library: every video of the workspace with filters, search, pagination and a streamed,
size-capped zip of the chosen videos."""
from __future__ import annotations

import zipfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation.jobs.models import VideoJob

from .access import VIEW, role_required
from .forms import LibraryFilterForm

PAGE_SIZE = 24
ZIP_MAX_VIDEOS = 50
ZIP_MAX_BYTES = 512 * 1024 * 1024


def library_jobs(*, filters: dict, batch: list[int] | None = None):
    """This workspace's jobs (scoped manager + RLS), newest first, filtered."""
    jobs = (VideoJob.objects.select_related("brand", "product", "campaign_item__run__campaign")
            .order_by("-created_at"))
    if batch:
        jobs = jobs.filter(pk__in=batch)
    if filters.get("q"):
        q = filters["q"]
        jobs = jobs.filter(Q(product__title__icontains=q) | Q(product_url__icontains=q) | Q(brand__name__icontains=q))
    if filters.get("campaign"):
        jobs = jobs.filter(campaign_item__run__campaign=filters["campaign"])
    for field in ("status", "aspect", "language", "brand"):
        if filters.get(field):
            jobs = jobs.filter(**{field: filters[field]})
    return jobs


@role_required(VIEW)
def library(request):
    form = LibraryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    batch = [int(x) for x in request.GET.get("batch", "").split(",") if x.isdigit()][:50]
    page = Paginator(library_jobs(filters=filters, batch=batch), PAGE_SIZE).get_page(request.GET.get("page"))
    for job in page.object_list:  # the campaign whose run made it (a reverse one-to-one: may be absent)
        item = getattr(job, "campaign_item", None)
        job.campaign = item.run.campaign if item else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "dashboard/library.html", {"form": form, "page": page, "batch": batch,
                                                      "query": query.urlencode()})


class _Sink:
    """A write-only stream zipfile writes into; the response drains it chunk by chunk."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zip_stream(files: list[tuple[str, Path]]):
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:
        for arcname, path in files:
            with path.open("rb") as src, zf.open(arcname, "w", force_zip64=True) as dst:
                while chunk := src.read(256 * 1024):
                    dst.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()


@require_POST
@role_required(VIEW)
def library_zip(request):
    ids = [int(x) for x in request.POST.getlist("job") if x.isdigit()][:ZIP_MAX_VIDEOS + 1]
    if not ids or len(ids) > ZIP_MAX_VIDEOS:
        messages.error(request, f"Choose between 1 and {ZIP_MAX_VIDEOS} videos to download.")
        return redirect("dashboard:library")
    root = Path(settings.MEDIA_ROOT).resolve()
    files, total = [], 0
    for job in VideoJob.objects.filter(pk__in=ids, status=VideoJob.Status.SUCCEEDED):  # this workspace only
        for name, ext in (("video", "mp4"), ("captions", "srt")):
            rel = job.outputs.get(name)
            path = (root / rel).resolve() if rel else None
            if path and path.is_file() and root in path.parents:
                files.append((f"video-{job.pk}-{job.aspect.replace(':', 'x')}.{ext}", path))
                total += path.stat().st_size
    if not files:
        messages.error(request, "None of the chosen videos is ready to download.")
        return redirect("dashboard:library")
    if total > ZIP_MAX_BYTES:
        messages.error(request, "These videos are more than 512 MB together: choose fewer.")
        return redirect("dashboard:library")
    response = StreamingHttpResponse(_zip_stream(files), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="adfactory-videos.zip"'
    return response
