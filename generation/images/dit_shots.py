"""The ``dit`` backend of ``make_shots``: the DiT paints the scene, the real product goes on top.

Product, detail and lifestyle shots: the prompt asks for an *empty* scene in the brand's
colours (the product is never generated, so it cannot be hallucinated), then the cutout is
composited with shadow and harmonised surroundings exactly as in the procedural backend.
Model shots on a family with reference images (FLUX.2 [klein]) pass the product cutout on
white as ``image=`` and use the brand's persona LoRA; the product's region in the output is
unknown there, so ``fidelity`` is None and the config says why.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from .candidate import Candidate, compose
from .cutout import Cutout
from .procedural import layout_for


def brand_prompt(request: dict, brand: dict) -> str:
    colors = ", ".join(c for c in (brand.get("primary_color"), brand.get("accent_color")) if c)
    scene = {"product": "empty minimal studio set with a podium, soft light, no product",
             "detail": "dark elegant backdrop with soft bokeh, no product",
             "lifestyle": "empty tabletop scene in a bright lifestyle interior, no product",
             "model": "a model holding the product, fashion photo"}[request["kind"]]
    return f"{request.get('prompt', '').strip()}. {scene}. Brand colours {colors}.".strip(". ")


def _reference(cutout: Cutout, side: int = 512) -> Image.Image:
    """The product on white, square, at least 64 px (the pipeline's minimum)."""
    h, w = cutout.mask.shape
    canvas = np.full((max(h, w), max(h, w), 3), 255, np.uint8)
    y, x = (canvas.shape[0] - h) // 2, (canvas.shape[1] - w) // 2
    a = cutout.alpha[..., None]
    canvas[y:y + h, x:x + w] = (cutout.rgb * a + 255 * (1 - a)).astype(np.uint8)
    return Image.fromarray(canvas).resize((max(64, side), max(64, side)), Image.Resampling.LANCZOS)


def render_dit(runtime, cutout: Cutout, request: dict, brand: dict, size: tuple[int, int],
               seed: int, *, lora=None) -> Candidate:
    """One candidate from the resident runtime; ``lora`` is an AdapterRef or None."""
    prompt = brand_prompt(request, brand)
    model_shot = request["kind"] == "model" and runtime.spec.supports_reference_images
    # Reference tokens scale with (side / vae_scale_factor)^2: 512 px for real VAEs (8x),
    # the 64 px minimum for 1x test VAEs (a 512 px reference there means 65k tokens).
    side = min(512, 64 * getattr(runtime.pipe, "vae_scale_factor", 8))
    images = [_reference(cutout, side)] if model_shot else None
    (scene,) = runtime.generate(prompts=[prompt], size=size, seed=seed, adapter=lora, images=images)
    scene = scene.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    meta = {"family": runtime.spec.name, "weights_hash": runtime.weights_hash, "prompt": prompt,
            "steps": runtime.steps, "guidance": runtime.guidance,
            "lora_version": getattr(lora, "name", None), "generated_size": list(runtime.round_size(size))}
    if model_shot:
        meta["note"] = "model shot: product given as reference image; its region is unknown, no fidelity"
        return Candidate(image=np.asarray(scene, dtype=np.uint8).copy(), placed=None, meta=meta)
    layout = layout_for(request["kind"], np.random.default_rng(seed))
    candidate = compose(cutout, np.asarray(scene, dtype=np.float32).copy(), layout=layout,
                        floor_y=layout.base_y, reflect=False)
    candidate.meta.update(meta)
    return candidate
