"""The resident DiT: one pipeline per worker process, loaded once, adapters switched on it.

``get_runtime()`` builds a ``ShotRuntime`` from ``settings.GENERATION`` (weights directory,
family, device, dtype, compile, LoRA cache size) the first time a GPU worker needs it and
returns the same object afterwards. Loading is strictly local: ``HF_HUB_OFFLINE=1`` and
``from_pretrained(<directory>)``, never a hub id.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .lora import AdapterCache, AdapterRef
from .pipelines import get_family

_lock = threading.Lock()
_runtimes: dict["RuntimeConfig", "ShotRuntime"] = {}


@dataclass(frozen=True)
class RuntimeConfig:
    weights_dir: str
    family: str = "flux2-klein"
    device: str = "auto"
    dtype: str = "bfloat16"
    compile: bool = False
    lora_cache_size: int = 8
    steps: int | None = None
    guidance: float | None = None

    @classmethod
    def from_settings(cls) -> "RuntimeConfig":
        from django.conf import settings

        g = settings.GENERATION
        if not g.dit_weights_dir:
            raise RuntimeError("the dit backend needs GENERATION_DIT_WEIGHTS_DIR (see docs/models.md)")
        return cls(weights_dir=g.dit_weights_dir, family=g.dit_family, device=g.dit_device,
                   dtype=g.dit_dtype, compile=g.dit_compile, lora_cache_size=g.lora_cache_size,
                   steps=g.dit_steps, guidance=g.dit_guidance)


def weights_fingerprint(weights_dir: Path | str) -> str:
    """A cheap, stable hash of a weights directory: every file's relative path and size, the
    full text of small config files and the first/last MiB of weight files (hashing tens of
    GB at worker start would take minutes)."""
    digest = hashlib.sha256()
    root = Path(weights_dir)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        with path.open("rb") as handle:
            if size <= 2 * 2**20:
                digest.update(handle.read())
            else:
                digest.update(handle.read(2**20))
                handle.seek(-(2**20), os.SEEK_END)
                digest.update(handle.read(2**20))
    return digest.hexdigest()[:16]


def resolve_device(device: str, dtype: str):
    """``auto`` picks CUDA when present. bf16 only on GPU: CPU bf16 kernels are slow or missing."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch_dtype = getattr(torch, dtype) if device != "cpu" else torch.float32
    return device, torch_dtype


class ShotRuntime:
    """A loaded pipeline plus its adapter cache. Not thread-safe: one per worker process."""

    def __init__(self, config: RuntimeConfig):
        import torch

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        weights = Path(config.weights_dir)
        if not (weights / "model_index.json").is_file():
            raise RuntimeError(f"{weights} is not a diffusers pipeline directory (no model_index.json)")
        self.config = config
        self.spec = get_family(config.family)
        self.device, self.dtype = resolve_device(config.device, config.dtype)
        pipe = self.spec.pipeline_class().from_pretrained(str(weights), dtype=self.dtype,
                                                          local_files_only=True)
        pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe
        self.weights_hash = weights_fingerprint(weights)
        self.adapters = AdapterCache(pipe, capacity=config.lora_cache_size, hotswap=config.compile)
        if config.compile:
            pipe.transformer.compile()  # in place; hotswap above avoids recompiles on switch
        self.steps = config.steps or self.spec.defaults["steps"]
        self.guidance = config.guidance if config.guidance is not None else self.spec.defaults["guidance"]

    def round_size(self, size: tuple[int, int]) -> tuple[int, int]:
        m = self.spec.size_multiple
        return max(m, size[0] // m * m), max(m, size[1] // m * m)

    def generate(self, *, prompts: list[str], size: tuple[int, int], seed: int,
                 adapter: AdapterRef | None = None, images=None, steps: int | None = None,
                 guidance: float | None = None, output_type: str = "pil", seeds: list[int] | None = None):
        """Images (or latents) for ``prompts``; image i uses ``seeds[i]`` (default ``seed + i``)
        from its own generator, so a request's noise does not depend on its batch mates."""
        import torch

        self.adapters.activate(adapter)
        width, height = self.round_size(size)
        seeds = seeds or [seed + i for i in range(len(prompts))]
        generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
        kwargs = dict(prompt=prompts, width=width, height=height, generator=generators,
                      num_inference_steps=steps or self.steps,
                      guidance_scale=self.guidance if guidance is None else guidance,
                      output_type=output_type, **self.spec.call_kwargs(self.pipe))
        if images is not None and self.spec.supports_reference_images:
            kwargs["image"] = images
        with torch.inference_mode():
            return self.pipe(**kwargs).images


def get_runtime(config: RuntimeConfig | None = None) -> ShotRuntime:
    """The process-wide runtime for ``config`` (default: from settings), loaded on first use."""
    config = config or RuntimeConfig.from_settings()
    with _lock:
        if config not in _runtimes:
            _runtimes.clear()  # one resident base model per process: GPU memory is the limit
            _runtimes[config] = ShotRuntime(config)
        return _runtimes[config]


__all__ = ["RuntimeConfig", "ShotRuntime", "get_runtime", "weights_fingerprint"]
