"""Services behind `POST /videos`, `/videos/batch` and `/videos/estimate`: one request makes
one job per variant × aspect, all grouped by a request id, all-or-nothing on credits."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from generation.jobs.models import VideoJob
from generation.jobs.services import video_job_create
from tenancy.files import SignedFileError, link_sign, link_verify
from tenancy.models import Brand, Workspace
from tenancy.services import credit_balance

logger = logging.getLogger(__name__)
DEFAULT_SECONDS_PER_VIDEO = 90.0  # expected wall time per job before this workspace has history


@dataclass(frozen=True)
class VideoRequest:
    """A validated create request (plain data: the API's serializer builds it)."""

    brand: Brand
    product_url: str
    product: Product | None = None
    template: str | None = None
    aspects: tuple[str, ...] = ("9:16",)
    language: str | None = None
    voice: str = ""
    framework: str = ""
    music: str = ""
    duration_s: int = 15
    variants: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def job_count(self) -> int:
        return self.variants * len(self.aspects)


def new_request_id() -> str:
    return f"req_{secrets.token_hex(10)}"


def video_request_create(*, workspace: Workspace, request: VideoRequest, created_by=None,
                         api_key=None) -> tuple[str, list[VideoJob]]:
    """Create every job of ``request`` and hold their credits, atomically: either all jobs
    exist with their holds, or none (InsufficientCredits). Stages are queued after commit."""
    request_id = new_request_id()
    jobs: list[VideoJob] = []
    # No savepoint of its own: a failure rolls back the caller's transaction (the batch
    # route gives each item its own savepoint).
    with transaction.atomic(savepoint=False):
        for variant in range(request.variants):
            for aspect in request.aspects:
                jobs.append(video_job_create(
                    workspace=workspace, brand=request.brand, product_url=request.product_url,
                    template=request.template, aspect=aspect, language=request.language,
                    duration_s=request.duration_s, created_by=created_by, api_key=api_key,
                    options={"request_id": request_id, "variant": variant, "voice": request.voice,
                             "framework": request.framework, "music": request.music, "product": request.product}))
    logger.info("api.video_request_created request=%s jobs=%s workspace=%s", request_id, len(jobs), workspace.pk)
    return request_id, jobs


def video_estimate(*, workspace: Workspace, request: VideoRequest) -> dict:
    """Credits and expected wall time of ``request``, creating nothing."""
    credits = settings.CREDITS_PER_VIDEO * request.job_count
    recent = VideoJob.objects.filter(status=VideoJob.Status.SUCCEEDED).order_by("-pk")[:20]
    walls = [sum(job.timings.values()) for job in recent if job.timings]
    per_job = sum(walls) / len(walls) if walls else DEFAULT_SECONDS_PER_VIDEO
    balance = credit_balance(workspace=workspace)
    return {"jobs": request.job_count, "credits": credits, "balance": balance, "affordable": balance >= credits,
            "expected_seconds_per_video": round(per_job, 1),
            "expected_video_duration_s": request.duration_s, "based_on_jobs": len(walls)}


def signed_file_url(*, request, job: VideoJob, name: str) -> dict:
    """An expiring download link for one output of ``job``: {url, expires_at}. The expiry is
    rounded up to a quarter of the TTL so the link (and the GET's ETag) is stable meanwhile.
    Signed and verified by tenancy.files (the app's one link mechanism, kind "video"): it names
    a job's output, resolved at download time, so the same link follows a re-render or an
    object-storage redirect."""
    ttl = settings.API_DOWNLOAD_URL_TTL_S
    bucket = max(1, ttl // 4)
    expires = (int(timezone.now().timestamp()) + ttl + bucket - 1) // bucket * bucket
    token = link_sign(kind="video", workspace_id=job.workspace_id, expires_at=expires, j=job.pk, n=name)
    url = request.build_absolute_uri(reverse("api:download", args=[token]))
    return {"url": url, "expires_at": datetime.fromtimestamp(expires, tz=dt_timezone.utc).isoformat()}


def signed_file_read(token: str) -> tuple[int, int, str]:
    """(workspace id, job id, output name) of a valid, unexpired link; SignedFileError (404)
    otherwise."""
    data = link_verify(token=token, kind="video")
    try:
        return data["w"], int(data["j"]), str(data["n"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SignedFileError("This link is invalid.") from exc
