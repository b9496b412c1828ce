"""/api/v1/videos: create a video from a product link, poll it, download its files."""
from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from generation.jobs.models import VideoJob
from generation.jobs.services import ASPECTS, video_job_create
from tenancy.models import Brand
from tenancy.services import InsufficientCredits

from .permissions import HasScope
from .views import TenantAPIView

DOWNLOADABLE = ("video", "thumbnail", "captions", "timeline")


def _template_names() -> list[str]:
    from generation.video import list_templates

    return list_templates()


class VideoCreateSerializer(serializers.Serializer):
    product_url = serializers.URLField(max_length=2000)
    brand = serializers.IntegerField(required=False, help_text="Brand id; default: the workspace's first brand")
    template = serializers.CharField(required=False, max_length=60)
    aspect = serializers.ChoiceField(choices=ASPECTS, default="9:16")
    language = serializers.ChoiceField(choices=["en", "zh"], required=False)
    duration = serializers.IntegerField(min_value=6, max_value=60, default=15)

    def validate_product_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http(s) product links are accepted.")
        return value

    def validate_template(self, value: str) -> str:
        if value not in _template_names():
            raise serializers.ValidationError(f"Unknown template; choose one of {', '.join(_template_names())}.")
        return value

    def validate_brand(self, value: int) -> Brand:
        brand = Brand.objects.filter(pk=value).first()  # scoped to the key's workspace
        if brand is None:
            raise serializers.ValidationError("No such brand in this workspace.")
        return brand


class VideoSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    brand = serializers.IntegerField(source="brand_id")

    class Meta:
        model = VideoJob
        fields = ["id", "status", "stage", "progress", "failure_reason", "product_url", "brand", "template",
                  "aspect", "language", "duration_s", "timings", "cpu_timings", "files", "created_at", "finished_at"]

    def get_files(self, job: VideoJob) -> dict[str, str]:
        request = self.context.get("request")
        return {name: request.build_absolute_uri(f"/api/v1/videos/{job.pk}/files/{name}")
                for name in DOWNLOADABLE if name in job.outputs}


class VideoListCreate(TenantAPIView):
    permission_classes = [HasScope]
    read_scope, write_scope = "videos:read", "videos:write"

    @extend_schema(request=VideoCreateSerializer, responses={202: VideoSerializer, 402: OpenApiResponse()})
    def post(self, request):
        data = VideoCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        brand = data.validated_data.get("brand") or Brand.objects.order_by("pk").first()
        if brand is None:
            return Response({"error": {"code": "no_brand", "message": "Create a brand first."}}, status=400)
        try:
            job = video_job_create(
                workspace=self.workspace, brand=brand, product_url=data.validated_data["product_url"],
                template=data.validated_data.get("template"), aspect=data.validated_data["aspect"],
                language=data.validated_data.get("language"), duration_s=data.validated_data["duration"],
                created_by=request.auth.created_by, api_key=request.auth)
        except InsufficientCredits as exc:
            return Response({"error": {"code": "insufficient_credits", "message": str(exc)}},
                            status=status.HTTP_402_PAYMENT_REQUIRED)
        return Response(VideoSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=VideoSerializer(many=True))
    def get(self, request):
        jobs = VideoJob.objects.order_by("-created_at")[:100]
        return Response(VideoSerializer(jobs, many=True, context={"request": request}).data)


class VideoDetail(TenantAPIView):
    permission_classes = [HasScope]
    read_scope, write_scope = "videos:read", "videos:write"

    @extend_schema(responses=VideoSerializer)
    def get(self, request, pk: int):
        job = VideoJob.objects.filter(pk=pk).first()
        if job is None:
            raise Http404
        return Response(VideoSerializer(job, context={"request": request}).data)


class VideoFile(TenantAPIView):
    permission_classes = [HasScope]
    read_scope, write_scope = "videos:read", "videos:write"

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="the file")})
    def get(self, request, pk: int, name: str):
        return video_file_response(job=VideoJob.objects.filter(pk=pk).first(), name=name)


def video_file_response(*, job: VideoJob | None, name: str) -> FileResponse | HttpResponseRedirect:
    """Stream one output of a job that the caller's workspace owns (404 otherwise)."""
    if job is None or name not in DOWNLOADABLE or name not in job.outputs:
        raise Http404
    from generation.jobs.artifacts import artifact_url, artifacts_local

    if not artifacts_local():  # object storage: a short-lived signed URL, not a proxied stream
        key = job.outputs[name]
        return HttpResponseRedirect(artifact_url(key, download_name=f"video-{job.pk}-{key.rsplit('/', 1)[-1]}"
                                                 if name != "thumbnail" else None))
    path = (settings.MEDIA_ROOT / job.outputs[name]).resolve()
    if not path.is_file() or settings.MEDIA_ROOT.resolve() not in path.parents:
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=name != "thumbnail", filename=f"video-{job.pk}-{path.name}")
