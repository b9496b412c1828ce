"""`manage.py train_lora --brand ID --images DIR`: train the brand's next LoRA version now.

Runs in-process (the API queues the same service on the gpu queue). On a GPU with
GENERATION_DIT_WEIGHTS_DIR set it uses the real recipe; on CPU the tiny recipe. With
`--tiny-random` (or no weights configured on CPU) it trains on a tiny *random* pipeline: a
plumbing demo whose images are noise, said so in the output."""
from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Train a brand LoRA version from a folder of images (10-30 recommended)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", type=int, required=True)
        parser.add_argument("--images", required=True)
        parser.add_argument("--steps", type=int, default=None)
        parser.add_argument("--tiny-random", action="store_true",
                            help="train on a tiny random pipeline (CPU plumbing demo)")

    def handle(self, *args, **opts):
        import dataclasses

        from generation.images.models import LoraVersion
        from generation.images.runtime import RuntimeConfig, get_runtime, resolve_device
        from generation.images.services import lora_version_train
        from generation.images.training import TrainConfig
        from tenancy.context import tenant_context
        from tenancy.selectors import brand_find_for_operator

        images = Path(opts["images"]).resolve()
        if not images.is_dir():
            raise CommandError(f"images folder not found: {images}")
        brand = brand_find_for_operator(brand_id=opts["brand"])
        if brand is None:
            raise CommandError(f"brand {opts['brand']} not found")
        g = settings.GENERATION
        device, _ = resolve_device(g.dit_device, g.dit_dtype)
        if opts["tiny_random"] or (not g.dit_weights_dir and device == "cpu"):
            from generation.images.pipelines.tiny import build_tiny

            weights = build_tiny(g.dit_family, Path(tempfile.mkdtemp(prefix="tiny-dit-")))
            self.stdout.write(self.style.WARNING(f"training on a tiny RANDOM {g.dit_family} pipeline (demo)"))
            config = RuntimeConfig(weights_dir=str(weights), family=g.dit_family, device="cpu")
        elif not g.dit_weights_dir:
            raise CommandError("set GENERATION_DIT_WEIGHTS_DIR to a local diffusers directory (docs/models.md)")
        else:
            config = RuntimeConfig.from_settings()
        runtime = get_runtime(config)
        train = TrainConfig.tiny() if runtime.device == "cpu" else TrainConfig()
        if opts["steps"]:
            train = dataclasses.replace(train, steps=opts["steps"])
        with tenant_context(brand.workspace_id):
            version = LoraVersion.objects.create(
                brand=brand, version=(LoraVersion.objects.filter(brand=brand).count() + 1),
                images_dir=str(images))
            try:
                version = lora_version_train(lora_version=version, runtime=runtime, config=train)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        meta = version.metadata
        self.stdout.write(f"LoRA brand{brand.pk} v{version.version} ready: {version.path} "
                          f"(steps={meta['steps']}, loss {meta['eval_loss_before']:.4f} -> "
                          f"{meta['eval_loss_after']:.4f}, active={version.is_active})")
