"""LoRA versions: create (queue training), train, activate; plus the ``lora.ready`` event.

Services write, selectors read; all tenant-scoped (call inside ``tenant_context``).
``lora_ready`` is a Django signal sent after a version becomes ready and active; the API
turns it into a webhook. Files live at deterministic media paths
(``workspaces/<ws>/loras/brand<id>/v<n>/``), so a retried training run overwrites.
"""
from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.dispatch import Signal
from django.utils import timezone

from .models import LoraVersion

logger = logging.getLogger(__name__)

lora_ready = Signal()  # sender=LoraVersion, lora_version=<LoraVersion>
# Sent after the commit that creates a version; ``tasks`` queues its training on it (tasks
# import services, never the reverse). Connected at start-up by ``GenerationConfig.ready``.
lora_version_created = Signal()  # sender=LoraVersion, lora_version=<LoraVersion>


def lora_dir(*, workspace_id: int, brand_id: int, version: int) -> str:
    return f"workspaces/{workspace_id}/loras/brand{brand_id}/v{version}"


def lora_version_create(*, brand, images_dir: str) -> LoraVersion:
    """Register the next version of ``brand``'s LoRA and queue its training after commit.
    ``images_dir`` is media-relative (the uploaded training images)."""
    with transaction.atomic():
        last = LoraVersion.objects.filter(brand=brand).aggregate(v=Max("version"))["v"] or 0
        version = LoraVersion.objects.create(brand=brand, workspace_id=brand.workspace_id,
                                             version=last + 1, images_dir=images_dir)
        transaction.on_commit(lambda: lora_version_created.send(sender=LoraVersion, lora_version=version))
    return version


def lora_version_activate(*, lora_version: LoraVersion) -> LoraVersion:
    """Make ``lora_version`` the brand's only active version (it must be ready)."""
    if lora_version.status != LoraVersion.Status.READY:
        raise ValueError(f"LoRA v{lora_version.version} is {lora_version.status}, not ready")
    with transaction.atomic():
        LoraVersion.objects.filter(brand_id=lora_version.brand_id, is_active=True).exclude(
            pk=lora_version.pk).update(is_active=False)
        lora_version.is_active = True
        lora_version.save(update_fields=["is_active"])
    return lora_version


def lora_version_train(*, lora_version: LoraVersion, runtime=None, config=None) -> LoraVersion:
    """Train the version on the resident pipeline, store adapter + metadata, activate it and
    send ``lora.ready``. A failure marks it FAILED with the reason and re-raises."""
    from .runtime import get_runtime
    from .training import TrainConfig, train_lora
    from .training.data import collect_images

    from generation.jobs.artifacts import artifacts_pull_prefix, artifacts_push_prefix

    media = Path(settings.MEDIA_ROOT)
    lora_version.status = LoraVersion.Status.TRAINING
    lora_version.save(update_fields=["status"])
    try:
        runtime = runtime or get_runtime()
        config = config or (TrainConfig.tiny() if runtime.device == "cpu" else TrainConfig())
        rel = lora_dir(workspace_id=lora_version.workspace_id, brand_id=lora_version.brand_id,
                       version=lora_version.version)
        runtime.adapters.activate(None)
        artifacts_pull_prefix(lora_version.images_dir)  # object storage: the uploads, on this host
        result = train_lora(pipe=runtime.pipe, family=runtime.spec.name, config=config,
                            images=collect_images(media / lora_version.images_dir),
                            out_dir=media / rel, base_weights_hash=runtime.weights_hash)
        artifacts_push_prefix(rel)  # the adapter is in the bucket before the row says READY
    except Exception as exc:
        if runtime is not None:
            runtime.adapters.reset_active()
        lora_version.status = LoraVersion.Status.FAILED
        lora_version.failure_reason = f"{exc.__class__.__name__}: {exc}"[:2000]
        lora_version.save(update_fields=["status", "failure_reason"])
        raise
    runtime.adapters.reset_active()
    lora_version.path = str(result.adapter_path.relative_to(media))
    lora_version.metadata = {**result.metadata, "loss_drop": result.loss_drop, "seconds": result.seconds}
    lora_version.status = LoraVersion.Status.READY
    lora_version.trained_at = timezone.now()
    lora_version.save(update_fields=["path", "metadata", "status", "trained_at"])
    lora_version_activate(lora_version=lora_version)
    logger.info("lora.ready", extra={"event": "lora.ready", "workspace_id": lora_version.workspace_id,
                                     "brand_id": lora_version.brand_id, "version": lora_version.version,
                                     "loss_drop": result.loss_drop})
    transaction.on_commit(lambda: lora_ready.send(sender=LoraVersion, lora_version=lora_version))
    return lora_version


def lora_active_adapter(*, brand):
    """Selector: the AdapterRef of the brand's active version, or None (base model)."""
    from generation.jobs.artifacts import artifacts_pull_prefix

    from .lora import AdapterRef

    active = LoraVersion.objects.filter(brand=brand, is_active=True, status=LoraVersion.Status.READY).first()
    if active is None:
        return None
    artifacts_pull_prefix(str(Path(active.path).parent))  # another host trained it: fetch the adapter
    return AdapterRef(name=active.adapter_name, path=str(Path(settings.MEDIA_ROOT) / active.path))
