"""Celery entry points for the gpu queue: thin, ids in, tenant context entered here."""
from __future__ import annotations

from celery import shared_task
from django.dispatch import receiver

from tenancy.context import tenant_context

from .models import LoraVersion
from .services import lora_version_created, lora_version_train


@shared_task(name="generation.lora_train", queue="gpu", acks_late=True)
def lora_train_task(workspace_id: int, lora_version_id: int) -> None:
    """Train one LoRA version. Redelivery of a finished version is a no-op; outputs go to
    deterministic paths, so a re-run after a killed worker overwrites."""
    with tenant_context(workspace_id):
        version = LoraVersion.objects.get(id=lora_version_id)
        if version.status == LoraVersion.Status.READY:
            return
        lora_version_train(lora_version=version)


@receiver(lora_version_created, dispatch_uid="generation.images.lora_train_queue")
def lora_train_queue(sender, lora_version: LoraVersion, **kwargs) -> None:
    """Queue the training of a version just created (the service sends this after commit)."""
    lora_train_task.delay(lora_version.workspace_id, lora_version.pk)
