"""/api/v1/brands: the brand kit (colours, fonts, voice, tone, defaults) and its logo upload."""
from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from tenancy.models import Brand
from tenancy.services import audit_log_write
from tenancy.uploads import ImageUploadError, image_upload_validate

from .errors import ApiError
from .idempotency import idempotent
from .views import CursorQuerySerializer, TenantAPIView, page_response, page_serializer

COLOR = r"^#[0-9A-Fa-f]{6}$"


def logo_validate(upload, *, param: str = "logo") -> tuple[bytes, str]:
    """Bytes and extension of an acceptable logo: the shared upload validator (type by content,
    byte cap, pixel count from the header before decoding) plus the API's per-side bound."""
    limit = settings.API_LOGO_MAX_PIXELS
    try:
        image = image_upload_validate(upload, max_bytes=settings.API_LOGO_MAX_BYTES, max_pixels=limit * limit)
    except ImageUploadError as exc:
        code = "payload_too_large" if exc.code == "too_large" else "invalid_request"
        raise ApiError(code, exc.message, param=param) from exc
    if image.width > limit or image.height > limit:
        raise ApiError("invalid_request", f"The image is {image.width}×{image.height}; at most {limit}×{limit} pixels.",
                       param=param)
    return image.data, image.extension


class BrandSerializer(serializers.ModelSerializer):
    logo = serializers.SerializerMethodField()
    primary_color = serializers.RegexField(COLOR, required=False)
    secondary_color = serializers.RegexField(COLOR, required=False)
    accent_color = serializers.RegexField(COLOR, required=False)
    language = serializers.ChoiceField(choices=["en", "zh"], required=False)

    class Meta:
        model = Brand
        fields = ["id", "name", "primary_color", "secondary_color", "accent_color", "font_family", "voice",
                  "language", "tone", "default_template", "logo", "created_at"]
        read_only_fields = ["id", "logo", "created_at"]

    def get_logo(self, brand: Brand) -> bool:
        return bool(brand.logo)

    def validate_default_template(self, value: str) -> str:
        from .videos import _template_names

        if value not in _template_names():
            raise serializers.ValidationError(f"Unknown template; choose one of {', '.join(_template_names())}.")
        return value


class LogoUploadSerializer(serializers.Serializer):
    logo = serializers.FileField(help_text="PNG, JPEG or WebP; size and pixel limits apply")


def _save(serializer, *, workspace, api_key, action: str) -> Brand:
    try:
        with transaction.atomic():
            brand = serializer.save(workspace=workspace)
    except IntegrityError as exc:
        raise ApiError("conflict", "A brand with this name already exists.", param="name") from exc
    audit_log_write(workspace=workspace, action=action, api_key=api_key, target=str(brand.pk))
    return brand


class BrandListCreate(TenantAPIView):
    @extend_schema(request=BrandSerializer, responses={201: BrandSerializer}, tags=["brands"], summary="Create a brand")
    @idempotent
    def post(self, request):
        data = BrandSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        brand = _save(data, workspace=self.workspace, api_key=request.auth, action="brand.created")
        return Response(BrandSerializer(brand).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[CursorQuerySerializer], responses=page_serializer(BrandSerializer, "BrandPage"),
                   tags=["brands"], summary="List brands")
    def get(self, request):
        return page_response(request, Brand.objects.all(), BrandSerializer)


class BrandDetail(TenantAPIView):
    @extend_schema(responses=BrandSerializer, tags=["brands"], summary="Get a brand kit")
    def get(self, request, pk: int):
        return Response(BrandSerializer(self.get_object_or_404(Brand.objects.all(), pk=pk)).data)

    @extend_schema(request=BrandSerializer(partial=True), responses=BrandSerializer, tags=["brands"],
                   summary="Change a brand kit")
    def patch(self, request, pk: int):
        brand = self.get_object_or_404(Brand.objects.all(), pk=pk)
        data = BrandSerializer(brand, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        brand = _save(data, workspace=self.workspace, api_key=request.auth, action="brand.updated")
        return Response(BrandSerializer(brand).data)


class BrandLogo(TenantAPIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": LogoUploadSerializer}, responses=BrandSerializer, tags=["brands"],
                   summary="Upload the brand's logo")
    @idempotent
    def post(self, request, pk: int):
        brand = self.get_object_or_404(Brand.objects.all(), pk=pk)
        upload = request.FILES.get("logo")
        if upload is None:
            raise ApiError("invalid_request", "Send the image as the multipart field 'logo'.", param="logo")
        data, ext = logo_validate(upload)
        brand.logo.save(f"{brand.workspace_id}-{brand.pk}.{ext}", ContentFile(data), save=True)
        audit_log_write(workspace=self.workspace, action="brand.logo_uploaded", api_key=request.auth,
                        target=str(brand.pk))
        return Response(BrandSerializer(brand).data)
