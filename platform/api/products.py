"""/api/v1/products: ingest a product link asynchronously, list, get (with the facts that
extraction rejected and why), re-ingest."""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from catalog.ingest.errors import IngestError
from catalog.models import Product
from catalog.services import product_ingest
from tenancy.models import Workspace

from .idempotency import idempotent
from .models import ProductIngestion
from .views import CursorQuerySerializer, TenantAPIView, page_response, page_serializer
from .webhooks import webhook_event_emit

logger = logging.getLogger(__name__)


# ---- services -------------------------------------------------------------------------

def product_ingestion_create(*, workspace: Workspace, url: str, product: Product | None = None) -> ProductIngestion:
    """Record an ingestion and queue it after commit."""
    from .tasks import product_ingestion_task

    ingestion = ProductIngestion.objects.create(workspace=workspace, url=url, product=product)
    transaction.on_commit(lambda: product_ingestion_task.delay(workspace.pk, ingestion.pk))
    return ingestion


def product_ingestion_run(*, ingestion_id: int) -> str:
    """Fetch and extract (inside the tenant context); a redelivered message resumes, a
    finished ingestion is left alone. Emits `product.ingested` on success."""
    with transaction.atomic():
        ingestion = ProductIngestion.objects.select_for_update().filter(pk=ingestion_id).first()
        if ingestion is None or ingestion.status in (ProductIngestion.Status.SUCCEEDED, ProductIngestion.Status.FAILED):
            return "skipped"
        ingestion.status = ProductIngestion.Status.RUNNING
        ingestion.save(update_fields=["status"])
    try:
        product = product_ingest(workspace=ingestion.workspace, url=ingestion.url)
    except IngestError as exc:
        ProductIngestion.objects.filter(pk=ingestion.pk).update(
            status=ProductIngestion.Status.FAILED, failure_code=exc.code[:40], failure_reason=exc.message[:2000],
            finished_at=timezone.now())
        logger.info("api.product_ingestion_failed ingestion=%s code=%s", ingestion.pk, exc.code)
        return ProductIngestion.Status.FAILED
    with transaction.atomic():
        ProductIngestion.objects.filter(pk=ingestion.pk).update(
            status=ProductIngestion.Status.SUCCEEDED, product=product, finished_at=timezone.now())
        webhook_event_emit(workspace=ingestion.workspace, event_type="product.ingested",
                           data={"product": product.pk, "ingestion": ingestion.pk, "url": ingestion.url,
                                 "title": product.title})
    return ProductIngestion.Status.SUCCEEDED


# ---- serializers ------------------------------------------------------------------------

class ProductIngestionSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="product_id", allow_null=True)

    class Meta:
        model = ProductIngestion
        fields = ["id", "url", "status", "product", "failure_code", "failure_reason", "created_at", "finished_at"]


class ProductSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "source_url", "title", "brand", "price", "currency", "created_at", "updated_at"]


class RejectedFactSerializer(serializers.Serializer):
    field = serializers.CharField(required=False)
    value = serializers.JSONField(required=False)
    reason = serializers.CharField(required=False)


class ProductSerializer(serializers.ModelSerializer):
    images = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()
    rejected = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "source_url", "canonical_url", "title", "brand", "description", "price", "original_price",
                  "currency", "availability", "features", "specs", "rating", "review_count", "sku", "gtin", "mpn",
                  "provenance", "images", "variants", "rejected", "created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_images(self, product: Product) -> list[dict]:
        return [{"id": img.pk, "position": img.position, "source_url": img.source_url, "width": img.width,
                 "height": img.height, "sha256": img.sha256} for img in product.images.all()]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_variants(self, product: Product) -> list[dict]:
        return [v.as_dict() for v in product.variants.all()]

    @extend_schema_field(RejectedFactSerializer(many=True))
    def get_rejected(self, product: Product) -> list:
        """What extraction found and refused, with why (from the latest snapshot)."""
        snapshot = product.snapshots.order_by("-created_at").first()
        rejected = (snapshot.extraction or {}).get("rejected") if snapshot else None
        return rejected if isinstance(rejected, list) else []


class ProductCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http(s) product links are accepted.")
        return value


# ---- views ------------------------------------------------------------------------------

class ProductListCreate(TenantAPIView):
    @extend_schema(request=ProductCreateSerializer, responses={202: ProductIngestionSerializer}, tags=["products"],
                   summary="Ingest a product page (asynchronous)")
    @idempotent
    def post(self, request):
        data = ProductCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ingestion = product_ingestion_create(workspace=self.workspace, url=data.validated_data["url"])
        return Response(ProductIngestionSerializer(ingestion).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=[CursorQuerySerializer], responses=page_serializer(ProductSummarySerializer, "ProductPage"),
                   tags=["products"], summary="List products (newest first)")
    def get(self, request):
        return page_response(request, Product.objects.all(), ProductSummarySerializer)


class ProductDetail(TenantAPIView):
    @extend_schema(responses=ProductSerializer, tags=["products"], summary="Get a product with its facts")
    def get(self, request, pk: int):
        product = self.get_object_or_404(Product.objects.prefetch_related("images", "variants"), pk=pk)
        return Response(ProductSerializer(product).data)


class ProductReingest(TenantAPIView):
    @extend_schema(request=None, responses={202: ProductIngestionSerializer}, tags=["products"],
                   summary="Fetch the product page again (asynchronous)")
    @idempotent
    def post(self, request, pk: int):
        product = self.get_object_or_404(Product.objects.all(), pk=pk)
        ingestion = product_ingestion_create(workspace=self.workspace, url=product.source_url, product=product)
        return Response(ProductIngestionSerializer(ingestion).data, status=status.HTTP_202_ACCEPTED)


class ProductIngestionDetail(TenantAPIView):
    @extend_schema(responses=ProductIngestionSerializer, tags=["products"], summary="Status of an ingestion")
    def get(self, request, pk: int):
        ingestion = self.get_object_or_404(ProductIngestion.objects.all(), pk=pk)
        return Response(ProductIngestionSerializer(ingestion).data)
