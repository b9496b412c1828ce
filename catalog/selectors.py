"""Catalog selectors (reads); always within the current workspace (tenant_context)."""
from __future__ import annotations

from catalog.models import Product


def product_list(*, search: str | None = None):
    """Products of the current workspace, newest first."""
    queryset = Product.objects.order_by("-updated_at")
    return queryset.filter(title__icontains=search) if search else queryset


def product_get(*, product_id: int) -> Product:
    """One product of the current workspace (DoesNotExist for another workspace's id)."""
    return Product.objects.prefetch_related("images", "variants").get(id=product_id)
