"""Products ingested from shop pages, per workspace, with the snapshots they came from."""
from __future__ import annotations

from django.db import models

from tenancy.managers import TenantModel

PRODUCT_FACT_KEYS = (
    "title", "brand", "price", "currency", "original_price", "availability", "images",
    "description", "features", "specs", "rating", "review_count", "sku", "gtin", "mpn",
    "variants", "canonical_url",
)


class Product(TenantModel):
    source_url = models.URLField(max_length=2000)
    canonical_url = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=500)
    brand = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    original_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    availability = models.CharField(max_length=40, blank=True)
    features = models.JSONField(default=list, blank=True)
    specs = models.JSONField(default=dict, blank=True)
    rating = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    review_count = models.IntegerField(null=True, blank=True)
    sku = models.CharField(max_length=120, blank=True)
    gtin = models.CharField(max_length=32, blank=True)
    mpn = models.CharField(max_length=120, blank=True)
    provenance = models.JSONField(default=dict, blank=True, help_text="field -> {source, confidence}")
    rejected_facts = models.JSONField(default=list, blank=True,
                                      help_text="[{field, value, reason}] found on the page and refused")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "source_url"], name="product_url_unique_per_workspace")
        ]

    def __str__(self) -> str:
        return self.title

    def as_facts(self) -> dict:
        """The product as plain data (the `extract_product --jsonl` shape), for the pure stages."""
        images = [img.source_url for img in self.images.order_by("position")]
        return {
            "title": self.title,
            "brand": self.brand or None,
            "price": str(self.price) if self.price is not None else None,
            "currency": self.currency or None,
            "original_price": str(self.original_price) if self.original_price is not None else None,
            "availability": self.availability or None,
            "images": images,
            "description": self.description or None,
            "features": list(self.features or []),
            "specs": dict(self.specs or {}),
            "rating": float(self.rating) if self.rating is not None else None,
            "review_count": self.review_count,
            "sku": self.sku or None,
            "gtin": self.gtin or None,
            "mpn": self.mpn or None,
            "variants": [v.as_dict() for v in self.variants.all()],
            "canonical_url": self.canonical_url or None,
        }

    def to_facts(self):
        """The typed spine's first link: ``ProductFacts`` with storage-relative image keys
        (downloaded images only, main first) and the rejected facts."""
        from catalog.facts import ProductFacts, ProductImage as FactImage, RejectedFact

        images = [FactImage(key=img.file.name, source_url=img.source_url or None, width=img.width,
                            height=img.height) for img in self.images.order_by("position") if img.file]
        facts = {**self.as_facts(), "source_url": self.source_url}
        return ProductFacts.from_facts_dict(
            facts, images=images, rejected=[RejectedFact.model_validate(r) for r in self.rejected_facts or []])


class ProductImage(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveIntegerField(default=0)
    source_url = models.URLField(max_length=2000)
    file = models.FileField(upload_to="products/images/", blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    phash = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["position"]


class ProductVariant(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=300, blank=True)
    sku = models.CharField(max_length=120, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    availability = models.CharField(max_length=40, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    def as_dict(self) -> dict:
        return {
            "name": self.name or None,
            "sku": self.sku or None,
            "price": str(self.price) if self.price is not None else None,
            "currency": self.currency or None,
            "availability": self.availability or None,
            "attributes": dict(self.attributes or {}),
        }


class ProductSnapshot(TenantModel):
    """One fetch of a product page: the raw HTML (by reference) and what was extracted from
    it, so extraction can be re-run and history is kept across re-ingests."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="snapshots", null=True)
    url = models.URLField(max_length=2000)
    final_url = models.URLField(max_length=2000, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True)
    fetched_with = models.CharField(max_length=10, default="http")  # http | browser | file
    html = models.FileField(upload_to="products/snapshots/", blank=True)
    html_sha256 = models.CharField(max_length=64, blank=True)
    extraction = models.JSONField(default=dict, blank=True)
    extractor_version = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
