"""Campaigns: a brand's recurring video runs (schedules arrive with the Campaigns issue)."""
from django.db import models

from tenancy.managers import TenantModel


class Campaign(TenantModel):
    brand = models.ForeignKey("tenancy.Brand", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    template = models.CharField(max_length=60, default="product_showcase")
    aspects = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
