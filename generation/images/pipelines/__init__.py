"""Registry of DiT families: family name -> pipeline class, LoRA targets, training recipe.

A family module defines one ``FamilySpec``. Adding a family = one module + one line here.
Everything imports diffusers lazily (``spec.pipeline_class()``), so the registry itself is
cheap to import from Django code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class FamilySpec:
    """What the runtime, the LoRA loader and the trainer need to know about one family.

    ``encode_latents(pipe, pixels) -> latents`` (training space), ``encode_prompt(pipe,
    prompts) -> cond``, ``predict_flow(pipe, noisy, sigmas, cond) -> velocity`` (same shape
    as ``noisy``; flow matching target = noise - latents, as in train_dreambooth_lora_*),
    ``to_output_space(pipe, latents)`` maps training latents to what the pipeline returns
    with ``output_type="latent"``; ``call_kwargs(pipe)`` extra per-call arguments.
    """

    name: str
    pipeline_class_name: str
    lora_target_modules: tuple[str, ...]
    encode_latents: Callable[[Any, Any], Any]
    encode_prompt: Callable[[Any, list[str]], Any]
    predict_flow: Callable[[Any, Any, Any, Any], Any]
    to_output_space: Callable[[Any, Any], Any]
    call_kwargs: Callable[[Any], dict] = lambda pipe: {}
    size_multiple: int = 16
    supports_reference_images: bool = False
    license_note: str = ""
    defaults: dict = field(default_factory=dict)

    def pipeline_class(self):
        import diffusers

        return getattr(diffusers, self.pipeline_class_name)


def _families() -> dict[str, FamilySpec]:
    from . import flux2_klein, sana

    return {spec.name: spec for spec in (flux2_klein.SPEC, sana.SPEC)}


FAMILY_NAMES = ("flux2-klein", "sana")


def get_family(name: str) -> FamilySpec:
    families = _families()
    if name not in families:
        raise ValueError(f"unknown DiT family {name!r}; known: {sorted(families)}")
    return families[name]
