"""Celery entry points for the gpu queue: thin, ids in, tenant context entered here."""
from __future__ import annotations

from celery import shared_task

from tenancy.context import tenant_context


@shared_task(name="generation.lora_train", queue="gpu", acks_late=True)
def lora_train_task(workspace_id: int, lora_version_id: int) -> None:
    """Train one LoRA version. Redelivery of a finished version is a no-op; outputs go to
    deterministic paths, so a re-run after a killed worker overwrites."""
    from .models import LoraVersion
    from .services import lora_version_train

    with tenant_context(workspace_id):
        version = LoraVersion.objects.get(id=lora_version_id)
        if version.status == LoraVersion.Status.READY:
            return
        lora_version_train(lora_version=version)
