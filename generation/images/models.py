"""LoraVersion: one trained (or training) adapter of a brand; one active version per brand."""
from __future__ import annotations

from django.db import models

from tenancy.managers import TenantModel


class LoraVersion(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued"
        TRAINING = "training"
        READY = "ready"
        FAILED = "failed"

    brand = models.ForeignKey("tenancy.Brand", on_delete=models.CASCADE, related_name="lora_versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    is_active = models.BooleanField(default=False)
    images_dir = models.CharField(max_length=500, help_text="media-relative folder of training images")
    path = models.CharField(max_length=500, blank=True, help_text="media-relative adapter .safetensors")
    metadata = models.JSONField(default=dict, blank=True,
                                help_text="family, base weights hash, rank, steps, loss curve, image hashes")
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "version"], name="lora_version_unique_per_brand"),
            models.UniqueConstraint(fields=["brand"], condition=models.Q(is_active=True),
                                    name="lora_one_active_per_brand"),
        ]

    def __str__(self) -> str:
        return f"LoRA {self.brand_id} v{self.version} ({self.status})"

    @property
    def adapter_name(self) -> str:
        from .lora import adapter_name

        return adapter_name(brand_id=self.brand_id, version=self.version)
