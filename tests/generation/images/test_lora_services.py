"""LoraVersion services, the gpu task and tenancy, on a tiny random FLUX.2 [klein]."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from generation.images.models import LoraVersion
from generation.images.services import (lora_active_adapter, lora_ready, lora_version_activate,
                                        lora_version_create, lora_version_train)
from generation.images.training import TrainConfig
from tenancy.context import NoTenantContext, tenant_context
from tenancy.models import Brand, Workspace

from .conftest import load_runtime, training_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_brands():
    ws_a = Workspace.objects.create(name="A", slug="a")
    ws_b = Workspace.objects.create(name="B", slug="b")
    with tenant_context(ws_a):
        brand_a = Brand.objects.create(name="Acme", workspace=ws_a)
    with tenant_context(ws_b):
        brand_b = Brand.objects.create(name="Bolt", workspace=ws_b)
    return brand_a, brand_b


@pytest.fixture
def images_dir():
    rel = "uploads/lora-test-images"
    training_set(Path(django_settings.MEDIA_ROOT) / rel, (200, 60, 30), count=3)
    return rel


def test_create_numbers_versions_and_queues_training_after_commit(two_brands, images_dir, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    from generation.images import tasks

    queued = []
    monkeypatch.setattr(tasks.lora_train_task, "delay", lambda *a: queued.append(a))
    brand_a, brand_b = two_brands
    with tenant_context(brand_a.workspace_id):
        with django_capture_on_commit_callbacks(execute=True):
            v1 = lora_version_create(brand=brand_a, images_dir=images_dir)
            assert queued == []  # not before commit
        v2 = lora_version_create(brand=brand_a, images_dir=images_dir)
    assert (v1.version, v2.version, v1.status) == (1, 2, LoraVersion.Status.QUEUED)
    assert queued == [(brand_a.workspace_id, v1.pk)]
    with tenant_context(brand_b.workspace_id):
        assert not LoraVersion.objects.exists()  # the other workspace sees nothing
    with pytest.raises(NoTenantContext):
        list(LoraVersion.objects.all())


def test_training_makes_a_ready_active_version_and_sends_lora_ready(two_brands, images_dir, flux_weights,
                                                                    django_capture_on_commit_callbacks):
    brand_a, _ = two_brands
    runtime = load_runtime(flux_weights)
    received = []
    lora_ready.connect(lambda sender, lora_version, **kw: received.append(lora_version.pk), weak=False,
                       dispatch_uid="test-lora-ready")
    config = TrainConfig.tiny(steps=6, checkpoint_every=0, sample_every=0)
    try:
        with tenant_context(brand_a.workspace_id), django_capture_on_commit_callbacks(execute=True):
            first = LoraVersion.objects.create(brand=brand_a, version=1, images_dir=images_dir)
            lora_version_train(lora_version=first, runtime=runtime, config=config)
            second = LoraVersion.objects.create(brand=brand_a, version=2, images_dir=images_dir)
            lora_version_train(lora_version=second, runtime=runtime, config=config)
            first.refresh_from_db()
            active = lora_active_adapter(brand=brand_a)
    finally:
        lora_ready.disconnect(dispatch_uid="test-lora-ready")
    assert second.status == LoraVersion.Status.READY and second.is_active and not first.is_active
    assert received == [first.pk, second.pk]
    assert active.name == f"brand{brand_a.pk}_v2" and Path(active.path).is_file()
    assert second.path == f"workspaces/{brand_a.workspace_id}/loras/brand{brand_a.pk}/v2/adapter.safetensors"
    meta = second.metadata
    assert meta["family"] == "flux2-klein" and meta["base_weights_hash"] == runtime.weights_hash
    assert meta["rank"] == 4 and len(meta["loss_curve"]) == 6 and len(meta["images"]) == 3
    with pytest.raises(ValueError, match="not ready"):
        lora_version_activate(lora_version=LoraVersion(brand=brand_a, version=9, status="failed"))


def test_task_trains_in_the_tenant_context_and_redelivery_is_a_noop(two_brands, images_dir, flux_weights,
                                                                    settings):
    from generation.images import runtime as runtime_module
    from generation.images.tasks import lora_train_task

    settings.GENERATION = dataclasses.replace(settings.GENERATION, dit_weights_dir=str(flux_weights),
                                              dit_family="flux2-klein", dit_device="cpu")
    brand_a, _ = two_brands
    with tenant_context(brand_a.workspace_id):
        version = LoraVersion.objects.create(brand=brand_a, version=1, images_dir=images_dir)
    assert lora_train_task.name == "generation.lora_train" and lora_train_task.queue == "gpu"
    lora_train_task(brand_a.workspace_id, version.pk)  # no tenant context here: the task enters it
    with tenant_context(brand_a.workspace_id):
        version.refresh_from_db()
        trained_at = version.trained_at
        assert version.status == LoraVersion.Status.READY
        lora_train_task(brand_a.workspace_id, version.pk)
        version.refresh_from_db()
        assert version.trained_at == trained_at
    runtime_module._runtimes.clear()


def test_missing_images_mark_the_version_failed_with_a_reason(two_brands, flux_weights):
    brand_a, _ = two_brands
    with tenant_context(brand_a.workspace_id):
        version = LoraVersion.objects.create(brand=brand_a, version=1, images_dir="uploads/nothing-here")
        with pytest.raises(ValueError, match="not found"):
            lora_version_train(lora_version=version, runtime=load_runtime(flux_weights),
                               config=TrainConfig.tiny(steps=2))
        version.refresh_from_db()
    assert version.status == LoraVersion.Status.FAILED and "not found" in version.failure_reason
