"""/api/v1/brands/{id}/loras: start training a brand LoRA from uploaded images, list
versions, activate one. Training runs on the gpu queue; `lora.ready` fires when done."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from generation.images.models import LoraVersion
from generation.images.services import lora_version_activate, lora_version_create
from tenancy.models import Brand
from tenancy.services import audit_log_write

from .brands import logo_validate
from .errors import ApiError
from .idempotency import idempotent
from .views import TenantAPIView

MIN_IMAGES, MAX_IMAGES = 3, 40


class LoraSerializer(serializers.ModelSerializer):
    brand = serializers.IntegerField(source="brand_id")

    class Meta:
        model = LoraVersion
        fields = ["id", "brand", "version", "status", "is_active", "failure_reason", "created_at", "trained_at"]


class LoraTrainSerializer(serializers.Serializer):
    images = serializers.ListField(child=serializers.FileField(), help_text=f"{MIN_IMAGES}-{MAX_IMAGES} images")


class BrandLoras(TenantAPIView):
    parser_classes = [MultiPartParser]

    @extend_schema(responses=LoraSerializer(many=True), tags=["brands"], summary="LoRA versions of a brand")
    def get(self, request, pk: int):
        brand = self.get_object_or_404(Brand.objects.all(), pk=pk)
        return Response(LoraSerializer(LoraVersion.objects.filter(brand=brand).order_by("-version"), many=True).data)

    @extend_schema(request={"multipart/form-data": LoraTrainSerializer}, responses={202: LoraSerializer},
                   tags=["brands"], summary="Train a new LoRA version from product/brand images")
    @idempotent
    def post(self, request, pk: int):
        brand = self.get_object_or_404(Brand.objects.all(), pk=pk)
        uploads = request.FILES.getlist("images")
        if not MIN_IMAGES <= len(uploads) <= MAX_IMAGES:
            raise ApiError("invalid_request", f"Send {MIN_IMAGES} to {MAX_IMAGES} images as 'images'.", param="images")
        checked = [logo_validate(upload, param="images") for upload in uploads]
        folder = (f"workspaces/{brand.workspace_id}/loras/brand{brand.pk}/uploads/"
                  f"{timezone.now().strftime('%Y%m%dT%H%M%S%f')}")
        for i, (data, ext) in enumerate(checked):
            default_storage.save(f"{folder}/{i:03d}.{ext}", ContentFile(data))
        version = lora_version_create(brand=brand, images_dir=folder)
        audit_log_write(workspace=self.workspace, action="lora.training_started", api_key=request.auth,
                        target=str(version.pk), data={"brand": brand.pk, "images": len(checked)})
        return Response(LoraSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class LoraActivate(TenantAPIView):
    @extend_schema(request=None, responses=LoraSerializer, tags=["brands"], summary="Make a ready version active")
    @idempotent
    def post(self, request, pk: int, lora_id: int):
        version = self.get_object_or_404(LoraVersion.objects.all(), pk=lora_id, brand_id=pk)
        if version.status != LoraVersion.Status.READY:
            raise ApiError("conflict", f"LoRA v{version.version} is {version.status}, not ready.")
        version = lora_version_activate(lora_version=version)
        return Response(LoraSerializer(version).data)

