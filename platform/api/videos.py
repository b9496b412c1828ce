"""/api/v1/videos: create (one job per variant × aspect), list, get, cancel, batch, estimate,
and expiring signed downloads."""
from __future__ import annotations

import functools
import json
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from generation.jobs.models import VideoJob
from generation.jobs.errors import QueueUnavailable
from generation.jobs.services import ASPECTS, QUEUE_DOWN_REASON, video_job_cancel
from generation.jobs.signals import job_finished
from tenancy.context import tenant_context
from tenancy.files import SignedFileError
from tenancy.models import Brand
from tenancy.services import InsufficientCredits

from .errors import ApiError, problem_body, validation_errors
from .idempotency import idempotent
from .timeline_edits import TimelineEditSerializer, video_timeline_edit
from .video_requests import VideoRequest, signed_file_read, signed_file_url, video_estimate, video_request_create
from .views import CursorQuerySerializer, TenantAPIView, cursor_page, page_body, page_serializer, tenant_first

DOWNLOADABLE = ("video", "thumbnail", "captions", "timeline")
MUSIC = ("upbeat", "calm", "bold", "none")


@functools.lru_cache(maxsize=1)
def _template_names() -> tuple[str, ...]:
    from generation.video import list_templates

    return tuple(list_templates())


@functools.lru_cache(maxsize=1)
def _framework_names() -> tuple[str, ...]:
    from generation.scripts import FRAMEWORK_NAMES

    return tuple(FRAMEWORK_NAMES)


class VideoCreateSerializer(serializers.Serializer):
    product_url = serializers.URLField(max_length=2000, required=False, help_text="Product page (http/https)")
    product_id = serializers.IntegerField(required=False, min_value=1, help_text="An ingested product's id")
    brand = serializers.IntegerField(required=False, min_value=1, help_text="Brand id; default: the first brand")
    template = serializers.CharField(required=False, max_length=60)
    aspects = serializers.ListField(child=serializers.ChoiceField(choices=ASPECTS), required=False,
                                    min_length=1, max_length=len(ASPECTS), help_text="Default: [\"9:16\"]")
    aspect = serializers.ChoiceField(choices=ASPECTS, required=False, help_text="Shorthand for one aspect")
    language = serializers.ChoiceField(choices=["en", "zh"], required=False)
    voice = serializers.RegexField(r"^[A-Za-z0-9_.:\-]{1,80}$", required=False, help_text="TTS voice name")
    framework = serializers.CharField(required=False, max_length=40, help_text="Script framework (e.g. aida)")
    duration = serializers.IntegerField(min_value=6, max_value=60, default=15, help_text="Seconds")
    music = serializers.ChoiceField(choices=MUSIC, required=False)
    variants = serializers.IntegerField(min_value=1, max_value=5, default=1)

    def validate_product_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http(s) product links are accepted.")
        return value

    def validate_template(self, value: str) -> str:
        if value not in _template_names():
            raise serializers.ValidationError(f"Unknown template; choose one of {', '.join(_template_names())}.")
        return value

    def validate_framework(self, value: str) -> str:
        if value not in _framework_names():
            raise serializers.ValidationError(f"Unknown framework; choose one of {', '.join(_framework_names())}.")
        return value

    def validate_brand(self, value: int) -> Brand:
        brand = Brand.objects.filter(pk=value).first()  # scoped to the key's workspace
        if brand is None:
            raise serializers.ValidationError("No such brand in this workspace.")
        return brand

    def validate_product_id(self, value: int) -> Product:
        product = Product.objects.filter(pk=value).first()
        if product is None:
            raise serializers.ValidationError("No such product in this workspace.")
        return product

    def validate(self, attrs):
        if ("product_url" in attrs) == ("product_id" in attrs):
            raise serializers.ValidationError({"product_url": "Give exactly one of product_url or product_id."})
        if "aspect" in attrs and "aspects" in attrs:
            raise serializers.ValidationError({"aspects": "Give aspects or aspect, not both."})
        aspects = attrs.get("aspects") or [attrs.get("aspect", "9:16")]
        if len(set(aspects)) != len(aspects):
            raise serializers.ValidationError({"aspects": "Each aspect may appear once."})
        brand = attrs.get("brand") or tenant_first(Brand)  # the workspace's first brand
        if brand is None:
            raise serializers.ValidationError({"brand": "This workspace has no brand yet; create one first."})
        product = attrs.get("product_id")
        return VideoRequest(
            brand=brand, product=product, product_url=product.source_url if product else attrs["product_url"],
            template=attrs.get("template"), aspects=tuple(aspects), language=attrs.get("language"),
            voice=attrs.get("voice", ""), framework=attrs.get("framework", ""),
            music=attrs.get("music", ""), duration_s=attrs["duration"], variants=attrs["variants"])


class DownloadSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class FailureSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField()


class VideoSerializer(serializers.ModelSerializer):
    brand = serializers.IntegerField(source="brand_id")
    product = serializers.IntegerField(source="product_id", allow_null=True)
    failure = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = VideoJob
        fields = ["id", "request_id", "variant", "status", "stage", "progress", "failure", "product_url",
                  "product", "brand", "template", "aspect", "language", "voice", "framework", "music",
                  "duration_s", "timings", "cpu_timings", "downloads", "created_at", "started_at", "finished_at"]

    def to_representation(self, job: VideoJob) -> dict:
        """The fields above, built directly: a status poll is the API's hottest path and DRF's
        generic field machinery cost ~1.5 ms of CPU per video. Same output as the declared
        fields (tests/platform/api/test_fast_paths.py compares them)."""
        return video_body(job, request=self.context["request"])

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_failure(self, job: VideoJob) -> dict | None:
        return video_failure(job)

    @extend_schema_field(serializers.DictField(child=DownloadSerializer(),
                                               help_text="video, thumbnail, captions, timeline: signed links"))
    def get_downloads(self, job: VideoJob) -> dict:
        return video_downloads(job, request=self.context["request"])


def video_failure(job: VideoJob) -> dict | None:
    if job.status == VideoJob.Status.FAILED:
        return {"code": f"{job.stage}_failed", "reason": job.failure_reason}
    if job.status == VideoJob.Status.CANCELED:
        return {"code": "canceled", "reason": "The video was canceled; its credit was released."}
    return None


def video_downloads(job: VideoJob, *, request) -> dict:
    return {name: signed_file_url(request=request, job=job, name=name)
            for name in DOWNLOADABLE if name in (job.outputs or {})}


_datetime = serializers.DateTimeField()


def _when(value):
    return _datetime.to_representation(value) if value else None


def video_body(job: VideoJob, *, request) -> dict:
    """The API representation of one video (VideoSerializer's fields, in order)."""
    return {
        "id": job.pk, "request_id": job.request_id, "variant": job.variant, "status": job.status,
        "stage": job.stage, "progress": job.progress, "failure": video_failure(job),
        "product_url": job.product_url, "product": job.product_id, "brand": job.brand_id,
        "template": job.template, "aspect": job.aspect, "language": job.language, "voice": job.voice,
        "framework": job.framework, "music": job.music, "duration_s": job.duration_s,
        "timings": job.timings, "cpu_timings": job.cpu_timings,
        "downloads": video_downloads(job, request=request),
        "created_at": _when(job.created_at), "started_at": _when(job.started_at),
        "finished_at": _when(job.finished_at),
    }


class VideoRequestSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    videos = VideoSerializer(many=True)


class VideoListQuerySerializer(CursorQuerySerializer):
    status = serializers.ChoiceField(choices=VideoJob.Status.choices, required=False)
    brand = serializers.IntegerField(required=False, min_value=1)
    product = serializers.IntegerField(required=False, min_value=1)
    request_id = serializers.CharField(required=False, max_length=40)
    campaign = serializers.IntegerField(required=False, min_value=1)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


def _filtered(query: dict):
    jobs = VideoJob.objects.all()
    for param, lookup in (("status", "status"), ("brand", "brand_id"), ("product", "product_id"),
                          ("request_id", "request_id"), ("created_after", "created_at__gte"),
                          ("created_before", "created_at__lt")):
        if param in query:
            jobs = jobs.filter(**{lookup: query[param]})
    if "campaign" in query:
        # Jobs gain a campaign link with the campaigns work; until then no job belongs to one.
        has_link = any(f.name == "campaign" for f in VideoJob._meta.get_fields())
        jobs = jobs.filter(campaign_id=query["campaign"]) if has_link else jobs.none()
    return jobs


# Jobs of the current create request whose first stage the broker refused. A refused job is
# failed (and refunded) inside the commit, which sends job_finished in this thread: noting it
# here saves a query per create.
_refused_jobs: ContextVar[list | None] = ContextVar("api_refused_jobs", default=None)


@receiver(job_finished, sender=VideoJob, dispatch_uid="api.videos.note_refused_jobs")
def _note_refused_job(sender, job: VideoJob, **kwargs) -> None:
    refused = _refused_jobs.get()
    if refused is not None and job.status == VideoJob.Status.FAILED and job.failure_reason == QUEUE_DOWN_REASON:
        refused.append(job.pk)


class VideoListCreate(TenantAPIView):
    @extend_schema(request=VideoCreateSerializer, responses={202: VideoRequestSerializer}, tags=["videos"],
                   summary="Create videos (one per variant × aspect)")
    @idempotent
    def post(self, request):
        data = VideoCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self._refused = []
        _refused_jobs.set(self._refused)
        request_id, jobs = video_request_create(workspace=self.workspace, request=data.validated_data,
                                                created_by=request.auth.created_by, api_key=request.auth)
        body = {"request_id": request_id, "videos": [video_body(job, request=request) for job in jobs]}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def after_commit(self) -> None:
        """The first stages are published on commit; a refused publish fails its job and
        releases its credit (generation.jobs.services): answer 503, not 202."""
        _refused_jobs.set(None)
        refused = getattr(self, "_refused", None)
        if refused:
            raise QueueUnavailable(job_id=refused[0])

    @extend_schema(parameters=[VideoListQuerySerializer], tags=["videos"],
                   responses=page_serializer(VideoSerializer, "VideoPage"), summary="List videos (newest first)")
    def get(self, request):
        query = VideoListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows, next_cursor = cursor_page(_filtered(query.validated_data), cursor=query.validated_data.get("cursor"),
                                        limit=query.validated_data["limit"])
        return Response(page_body(rows, VideoSerializer, next_cursor=next_cursor, context={"request": request}))


class VideoDetail(TenantAPIView):
    @extend_schema(responses=VideoSerializer, tags=["videos"], summary="Get a video")
    def get(self, request, pk: int):
        return Response(video_body(self.row_or_404(VideoJob, pk), request=request))


class VideoCancel(TenantAPIView):
    @extend_schema(request=None, responses=VideoSerializer, tags=["videos"],
                   summary="Cancel a queued or running video (releases its credit hold)")
    @idempotent
    def post(self, request, pk: int):
        job = self.get_object_or_404(VideoJob.objects.all(), pk=pk)
        if job.status in (VideoJob.Status.SUCCEEDED, VideoJob.Status.FAILED):
            raise ApiError("conflict", f"This video already {job.status}; it cannot be canceled.")
        job = video_job_cancel(job=job, actor=request.auth.created_by)
        return Response(VideoSerializer(job, context={"request": request}).data)


class VideoTimeline(TenantAPIView):
    @extend_schema(responses={200: OpenApiResponse(description="The render timeline; assets by id")}, tags=["videos"],
                   summary="The timeline a video was rendered from (assets referred to by id)")
    def get(self, request, pk: int):
        job = self.get_object_or_404(VideoJob.objects.all(), pk=pk)
        if "timeline" not in (job.outputs or {}):
            raise ApiError("not_found", "This video has no timeline yet (it is written by the render step).")
        root = Path(settings.MEDIA_ROOT).resolve()
        path = (root / job.outputs["timeline"]).resolve()
        if not path.is_file() or root not in path.parents:
            raise ApiError("not_found", "This video's timeline file is gone.")
        return Response(_asset_ids(json.loads(path.read_text()), (root / job.media_dir()).resolve(), root))

    @extend_schema(request=TimelineEditSerializer, responses={202: VideoSerializer}, tags=["videos"],
                   summary="Edit text, caption words and shot order, then re-render (no new credit)")
    def put(self, request, pk: int):
        job = self.get_object_or_404(VideoJob.objects.all(), pk=pk)
        edits = TimelineEditSerializer(data=request.data)
        edits.is_valid(raise_exception=True)
        job = video_timeline_edit(job=job, edits=dict(edits.validated_data), api_key=request.auth)
        return Response(VideoSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class BatchSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.DictField(), min_length=1,
                                  max_length=settings.API_BATCH_MAX_ITEMS,
                                  help_text="Each item is a `POST /videos` body, validated on its own")


class BatchResultSerializer(serializers.Serializer):
    accepted = serializers.ListField(child=serializers.DictField())
    rejected = serializers.ListField(child=serializers.DictField())


class VideoBatch(TenantAPIView):
    @extend_schema(request=BatchSerializer, responses={202: BatchResultSerializer}, tags=["videos"],
                   summary="Create up to 500 video requests; each item accepted or rejected on its own")
    @idempotent
    def post(self, request):
        batch = BatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        accepted, rejected = [], []
        for index, item in enumerate(batch.validated_data["items"]):
            data = VideoCreateSerializer(data=item)
            if not data.is_valid():
                errors = validation_errors(serializers.ValidationError(data.errors))
                rejected.append({"index": index, **problem_body(request=request, code="invalid_request",
                                                                 detail=errors[0]["detail"], errors=errors,
                                                                 param=errors[0]["param"])})
                continue
            try:
                with transaction.atomic():  # this item's savepoint: a refused item leaves the others
                    request_id, jobs = video_request_create(workspace=self.workspace, request=data.validated_data,
                                                            created_by=request.auth.created_by, api_key=request.auth)
            except InsufficientCredits as exc:
                rejected.append({"index": index, **problem_body(request=request, code="insufficient_credits",
                                                                 detail=str(exc))})
                continue
            accepted.append({"index": index, "request_id": request_id, "videos": [job.pk for job in jobs]})
        return Response({"accepted": accepted, "rejected": rejected}, status=status.HTTP_202_ACCEPTED)


class EstimateSerializer(serializers.Serializer):
    jobs = serializers.IntegerField()
    credits = serializers.IntegerField()
    balance = serializers.IntegerField()
    affordable = serializers.BooleanField()
    expected_seconds_per_video = serializers.FloatField()
    expected_video_duration_s = serializers.IntegerField()
    based_on_jobs = serializers.IntegerField()


class VideoEstimate(TenantAPIView):
    read_scope, write_scope = "read", "read"  # creates nothing

    @extend_schema(request=VideoCreateSerializer, responses=EstimateSerializer, tags=["videos"],
                   summary="Credits and expected time of a request, creating nothing")
    @idempotent
    def post(self, request):
        data = VideoCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(video_estimate(workspace=self.workspace, request=data.validated_data))


class VideoDownload(APIView):
    """A signed, expiring link: the token is the credential (no API key), like a presigned URL."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="the file")},
                   parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH)], tags=["videos"],
                   auth=[], summary="Download an output through a signed link")
    def get(self, request, token: str):
        try:
            workspace_id, job_id, name = signed_file_read(token)
        except SignedFileError as exc:
            raise ApiError("not_found", "This download link is invalid or has expired.") from exc
        with tenant_context(workspace_id):
            return video_file_response(job=VideoJob.objects.filter(pk=job_id).first(), name=name)


def video_file_response(*, job: VideoJob | None, name: str) -> FileResponse | HttpResponseRedirect:
    """Stream one output of a job that the caller's workspace owns (404 otherwise)."""
    if job is None or name not in DOWNLOADABLE or name not in job.outputs:
        raise Http404
    from generation.jobs.artifacts import artifact_url, artifacts_local

    if not artifacts_local():  # object storage: a short-lived signed URL (timelines hold keys only)
        key = job.outputs[name]
        return HttpResponseRedirect(artifact_url(key, download_name=f"video-{job.pk}-{key.rsplit('/', 1)[-1]}"
                                                 if name != "thumbnail" else None))
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.outputs[name]).resolve()
    if not path.is_file() or root not in path.parents:
        raise Http404
    if name == "timeline":
        return timeline_response(job=job, path=path)
    return FileResponse(path.open("rb"), as_attachment=name != "thumbnail", filename=f"video-{job.pk}-{path.name}")


def _asset_ids(value, job_dir: Path, root: Path):
    """Replace server paths with asset ids: `asset:<path inside the job>` (or `asset:media/...`)."""
    if isinstance(value, dict):
        return {k: _asset_ids(v, job_dir, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_asset_ids(v, job_dir, root) for v in value]
    if isinstance(value, str) and (value.startswith("/") or value.startswith("workspaces/")):
        # absolute server paths (older timelines) and storage keys (the typed spine) alike
        path = Path(value) if value.startswith("/") else root / value
        for base, prefix in ((job_dir, "asset:"), (root, "asset:media/")):
            try:
                return prefix + str(path.resolve().relative_to(base))
            except ValueError:
                continue
        return "asset:external/" + path.name
    return value


def timeline_response(*, job: VideoJob, path: Path) -> JsonResponse:
    """The render timeline with every server path replaced by an asset id."""
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        timeline = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:  # a damaged file is missing, not a server error
        raise Http404 from exc
    data = _asset_ids(timeline, (root / job.media_dir()).resolve(), root)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="video-{job.pk}-timeline.json"'
    return response
