"""``make_shots``: one finished, scored shot per script shot request.

For every request: cut the product out of its photo, render ``n`` candidate scenes (the
procedural studio or the DiT), composite the real product pixels back with shadow, reflection
and harmonised surroundings, score each candidate (fidelity, contrast, artefacts) and keep
the best (best-of-N gate). The kept image and a JSON generation config (everything needed to
reproduce it, plus all candidates' scores) are written at deterministic paths, so a retried
stage overwrites. Pure core: files in, files out, no database, no network.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from . import composite, fidelity
from .candidate import Candidate, compose
from .cutout import Cutout, ProductImageError, cut_out
from .procedural import KINDS, layout_for, studio_background

DEFAULT_SIZE = (1080, 1920)
PROCEDURAL_THREADS = 2
BACKENDS = ("procedural", "dit")
MIN_FIDELITY = 0.99


@dataclass
class ShotResult:
    path: Path
    config_path: Path
    fidelity: float | None
    scores: dict
    kind: str
    segment: int
    candidates: list[dict] = field(default_factory=list)

    @property
    def scene(self) -> int:  # docs/architecture.md calls the segment "scene"
        return self.segment

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(path=str(self.path), config_path=str(self.config_path))
        return data


def _validate_requests(requests: list[dict]) -> None:
    for i, req in enumerate(requests):
        if not isinstance(req, dict) or req.get("kind") not in KINDS:
            raise ValueError(f"shot request {i}: kind must be one of {KINDS}, got {req!r}")
        if not isinstance(req.get("prompt", ""), str):
            raise ValueError(f"shot request {i}: prompt must be a string")


def _pick_image(cutouts: list[Cutout], index: int, kind: str) -> Cutout:
    """Main image for product/model shots; detail and lifestyle shots rotate through the
    other photos so a video does not show the same angle five times."""
    if kind in {"product", "model"} or len(cutouts) == 1:
        return cutouts[0] if kind == "product" else cutouts[index % len(cutouts)]
    return cutouts[1 + index % (len(cutouts) - 1)]


def render_procedural(cutout: Cutout, request: dict, brand: dict, size: tuple[int, int],
                      seed: int) -> Candidate:
    rng = np.random.default_rng(seed)
    luma = _edge_luma(cutout)
    layout = layout_for(request["kind"], rng, product_luma=luma)
    scene, geometry = studio_background(size, brand, request["kind"], seed, layout)
    candidate = compose(cutout, scene, layout=layout, floor_y=geometry["floor_y"],
                        reflect=layout.reflection)
    candidate.meta.update(family="procedural", steps=0, guidance=0.0,
                          layout={k: v for k, v in asdict(layout).items()})
    if request["kind"] == "model":
        candidate.meta["note"] = "procedural backend draws no person; configure the dit backend"
    return candidate


def _edge_luma(cutout: Cutout) -> float:
    """Brightness (0..1) of the product's outer rim: what meets the backdrop."""
    import cv2

    core = cv2.erode(cutout.mask.astype(np.uint8), np.ones((9, 9), np.uint8), borderType=cv2.BORDER_CONSTANT,
                     borderValue=0).astype(bool)
    rim = cutout.mask & ~core
    pixels = cutout.rgb[rim if rim.any() else cutout.mask].reshape(-1, 3)
    return float(pixels.mean(axis=0) @ np.array([0.299, 0.587, 0.114])) / 255.0


def score(candidate: Candidate) -> dict:
    """Quality-gate scores; ``total`` ranks candidates (fidelity dominates)."""
    scores = {"artefacts": round(fidelity.artefact_score(candidate.image), 4)}
    fid = None
    if candidate.placed is not None:
        crop, (sy, sx) = composite.crop_placed(candidate.image, candidate.placed.placement)
        # Expected pixels: the source product over this shot's own surroundings (by alpha),
        # so SSIM windows straddling the edge compare like with like and any difference is
        # a change to the product itself.
        a = candidate.placed.alpha[sy, sx, None]
        ref = np.clip(np.rint(candidate.placed.rgb[sy, sx] * a + candidate.backdrop * (1 - a)), 0, 255).astype(np.uint8)
        mask = candidate.placed.mask[sy, sx]
        inside = mask.sum() / max(1, candidate.placed.mask.sum())
        fid = fidelity.product_ssim(crop, ref, mask) * float(inside >= 0.98) if mask.any() else 0.0
        scores["contrast"] = round(fidelity.contrast_score(candidate.image, _full_mask(candidate)), 4)
        scores["fidelity"] = round(fid, 5)
    total = scores["artefacts"] * 0.3 + scores.get("contrast", 0.5) * 0.3 + (fid if fid is not None else 0.9) * 0.4
    if fid is not None and fid < MIN_FIDELITY:
        total -= 1.0  # a shot that alters the product never wins while another keeps it true
    scores["total"] = round(total, 5)
    return scores


def _full_mask(candidate: Candidate) -> np.ndarray:
    """The product's hard mask in frame coordinates."""
    h, w = candidate.image.shape[:2]
    full = np.zeros((h, w), bool)
    p = candidate.placed.placement
    crop, (sy, sx) = composite.crop_placed(full, p)
    crop[:] = candidate.placed.mask[sy, sx]
    return full


def make_shots(*, product_images: list[Path], requests: list[dict], brand: dict, out_dir: Path,
               backend: str = "procedural", n: int = 1, seed: int = 0, lora: str | None = None,
               size: tuple[int, int] = DEFAULT_SIZE, runtime=None,
               segmentation_dir: str = "") -> list[ShotResult]:
    """Render, score and save one shot per request (best of ``n`` candidates each).

    Raises ``ProductImageError`` (clear message) when no product image can be used, and
    ``ValueError`` for malformed requests. Output: ``out_dir/shot_<i>.png`` + ``.json``.
    ``segmentation_dir``: a local image-segmentation model used for photos whose background
    is not plain; ``runtime``: a loaded ShotRuntime (default: the process's, for ``dit``).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown shots backend {backend!r}; use one of {BACKENDS}")
    if not product_images:
        raise ProductImageError("no product image given")
    _validate_requests(requests)
    n = max(1, int(n))
    cutouts = [cut_out(p, segmentation_dir=segmentation_dir) for p in product_images]  # every image must decode: fail loudly
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if backend == "dit" and runtime is None:
        from .runtime import get_runtime  # lazy: torch/diffusers only for the dit backend

        runtime = get_runtime()
    adapter = None
    if backend == "dit" and lora:
        from .lora import adapter_ref_from_path

        adapter = adapter_ref_from_path(lora)

    def one(index: int, request: dict) -> ShotResult:
        cutout = _pick_image(cutouts, index, request["kind"])
        candidates = []
        for k in range(n):
            cand_seed = seed * 1000 + index * 17 + k
            if backend == "dit":
                from .dit_shots import render_dit

                cand = render_dit(runtime, cutout, request, brand, size, cand_seed, lora=adapter)
            else:
                cand = render_procedural(cutout, request, brand, size, cand_seed)
            cand.meta["seed"] = cand_seed
            candidates.append((score(cand), cand))
        best_scores, best = max(candidates, key=lambda sc: sc[0]["total"])
        return _save(best, best_scores, candidates, index, request, brand, out_dir,
                     backend=backend, lora=lora, size=size, cutout=cutout)

    # Procedural shots are numpy/OpenCV work and a PNG encode (zlib), which release the GIL:
    # two at a time use the core the voice stage frees (a full set of seven full-size shots:
    # ~5 s on one core). Each shot's seed depends only on its index, so the output is the same. The DiT
    # backend stays one at a time (one model on one device).
    threads = min(PROCEDURAL_THREADS, len(requests), os.cpu_count() or 1) if backend == "procedural" else 1
    if threads <= 1:
        return [one(i, r) for i, r in enumerate(requests)]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="shot") as pool:
        return list(pool.map(one, range(len(requests)), requests))


def _save(best: Candidate, best_scores: dict, candidates: list, index: int, request: dict,
          brand: dict, out_dir: Path, *, backend: str, lora: str | None, size, cutout) -> ShotResult:
    path = out_dir / f"shot_{index:02d}.png"
    config_path = out_dir / f"shot_{index:02d}.json"
    # Level 1: an intermediate read back once by the renderer (~10 % larger, ~35 % less CPU than 3).
    Image.fromarray(best.image).save(path, optimize=False, compress_level=1)
    meta = dict(best.meta)
    config = {
        "backend": backend, "family": meta.pop("family", backend),
        "weights_hash": meta.pop("weights_hash", None), "lora": lora,
        "lora_version": meta.pop("lora_version", lora), "prompt": meta.pop("prompt", request.get("prompt", "")),
        "kind": request["kind"], "segment": int(request.get("segment", index)),
        "seed": meta.pop("seed"), "steps": meta.pop("steps", 0), "guidance": meta.pop("guidance", 0.0),
        "size": list(size), "brand": {k: brand.get(k) for k in ("id", "name", "primary_color",
                                                                 "secondary_color", "accent_color")},
        "source_image": cutout.source, "cutout_method": cutout.method,
        "scores": best_scores, "candidates": [{"seed": c.meta["seed"], **s} for s, c in candidates],
        "details": meta,
    }
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
    return ShotResult(path=path, config_path=config_path, fidelity=best_scores.get("fidelity"),
                      scores=best_scores, kind=request["kind"], segment=config["segment"],
                      candidates=config["candidates"])
