"""Serving per-brand LoRA adapters on a resident pipeline.

Adapters are named by brand and version (``brand12_v3``) so two versions never collide.
``AdapterCache`` keeps the most recently used ``capacity`` adapters loaded and switches with
``set_adapters`` (milliseconds); the least recently used one is deleted when the cache is
full. With ``hotswap=True`` (a ``torch.compile``d transformer) there is one adapter slot whose
weights are swapped in place (diffusers' LoRA hotswap), which avoids recompilation; it must be
enabled before the first adapter is loaded, with ``target_rank`` >= every adapter's rank.
"""
from __future__ import annotations

import json
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

HOTSWAP_SLOT = "active"
METADATA_KEY = "adfactory"


@dataclass(frozen=True)
class AdapterRef:
    name: str
    path: str  # a .safetensors file written by save_adapter

    @classmethod
    def for_version(cls, *, brand_id: int, version: int, path: str) -> "AdapterRef":
        return cls(name=adapter_name(brand_id=brand_id, version=version), path=path)


def adapter_name(*, brand_id: int, version: int) -> str:
    return f"brand{brand_id}_v{version}"


def save_adapter(pipe, transformer, path: Path, *, metadata: dict) -> Path:
    """Write the transformer's LoRA layers as safetensors, in the format diffusers'
    ``load_lora_weights`` reads, with our metadata (family, weights hash, rank, loss curve,
    training images' hashes) embedded under ``adfactory`` and mirrored in a .json sidecar."""
    from peft.utils import get_peft_model_state_dict
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = get_peft_model_state_dict(transformer)
    type(pipe).save_lora_weights(path.parent, transformer_lora_layers=state, weight_name=path.name)
    with safe_open(str(path), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        header = dict(handle.metadata() or {})
    header[METADATA_KEY] = json.dumps(metadata, sort_keys=True, default=str)
    save_file(tensors, str(path), metadata=header)
    path.with_suffix(".json").write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))
    return path


def read_adapter_metadata(path: Path | str) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return json.loads((handle.metadata() or {}).get(METADATA_KEY, "{}"))


class AdapterCache:
    """LRU set of adapters loaded into one pipeline; ``activate`` returns seconds spent."""

    def __init__(self, pipe, *, capacity: int = 8, hotswap: bool = False, target_rank: int = 64):
        self.pipe = pipe
        self.capacity = max(1, capacity)
        self.hotswap = hotswap
        self.loaded: OrderedDict[str, str] = OrderedDict()
        self.active: str | None = None
        self.loads = 0
        if hotswap:
            pipe.enable_lora_hotswap(target_rank=target_rank)

    def activate(self, ref: AdapterRef | None) -> float:
        started = time.perf_counter()
        if ref is None:
            self._activate_base()
        elif self.hotswap:
            self._activate_hotswap(ref)
            return time.perf_counter() - started
        else:
            self._activate_cached(ref)
        return time.perf_counter() - started

    def reset_active(self) -> None:
        """Forget which adapter is switched on (after something else, e.g. training, changed
        the pipeline's active adapters): the next ``activate`` sets it explicitly."""
        self.active = object()  # matches no name, not even None

    def _activate_base(self) -> None:
        if self.active is None:
            return
        if not self.loaded:  # nothing of ours is loaded: the base model is what runs
            pass
        elif self.hotswap:
            self.pipe.set_adapters([HOTSWAP_SLOT], [0.0])  # keep the compiled graph's shape
        else:
            self.pipe.disable_lora()
        self.active = None

    def _activate_cached(self, ref: AdapterRef) -> None:
        if ref.name not in self.loaded:
            while len(self.loaded) >= self.capacity:
                evicted, _ = self.loaded.popitem(last=False)
                self.pipe.delete_adapters([evicted])
            with warnings.catch_warnings():
                # peft warns that several adapters share the model: that is the point of the cache.
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                self.pipe.load_lora_weights(ref.path, adapter_name=ref.name)
            self.loaded[ref.name] = ref.path
            self.loads += 1
        self.loaded.move_to_end(ref.name)
        if self.active != ref.name:
            self.pipe.enable_lora()
            self.pipe.set_adapters([ref.name], [1.0])
        self.active = ref.name

    def _activate_hotswap(self, ref: AdapterRef) -> None:
        current = next(iter(self.loaded), None)
        if current != ref.name:
            self.pipe.load_lora_weights(ref.path, adapter_name=HOTSWAP_SLOT,
                                        hotswap=bool(self.loaded))
            self.loaded = OrderedDict([(ref.name, ref.path)])
            self.loads += 1
        self.pipe.set_adapters([HOTSWAP_SLOT], [1.0])
        self.active = ref.name


def adapter_ref_from_path(path: str | Path) -> AdapterRef:
    """An AdapterRef for an adapter file; ``.../brand12/v3/adapter.safetensors`` is named
    ``brand12_v3`` (so the runtime cache shares it with the database's name)."""
    import hashlib
    import re

    path = Path(str(path).removeprefix("file://"))
    if not path.is_file():
        raise FileNotFoundError(f"LoRA adapter not found: {path}")
    brand, version = path.parent.parent.name, path.parent.name
    if re.fullmatch(r"brand\d+", brand) and re.fullmatch(r"v\d+", version):
        return AdapterRef(name=f"{brand}_{version}", path=str(path))
    return AdapterRef(name="a" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12], path=str(path))
