"""Inputs for ``render_template``: the real stages when they are installed, else the demo
fallbacks of ``generation.video.demo`` (each fallback is reported in ``notes``)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from . import demo


def _local_images(product: dict, extra: list[Path]) -> list[Path]:
    found = [Path(p) for p in extra if Path(p).is_file()]
    for p in list(product.get("image_paths") or []) + list(product.get("images") or []):
        if isinstance(p, str) and not p.startswith(("http:", "https:")) and Path(p).is_file():
            found.append(Path(p))
    return found


def make_script(product: dict, *, framework: str, language: str, duration: float, brand: dict, notes: list) -> dict:
    try:
        from generation.scripts import write_script
    except ImportError:
        notes.append("script: generation.scripts unavailable, used demo.fallback_script")
        return demo.fallback_script(product, framework=framework, language=language)
    return write_script(product, framework=framework, language=language, duration=duration, brand=brand).model_dump()


def make_voice(script: dict, out_dir: Path, *, language: str, notes: list) -> dict:
    try:
        from generation.voice import synthesize
        from generation.scripts import AdScript
    except ImportError:
        notes.append("voice: generation.voice.synthesize unavailable, used espeak-ng with estimated word timings")
        return demo.espeak_voice(script, out_dir, language=language)
    result = synthesize(AdScript.model_validate(script), out_dir)
    if (out_dir / "voice.json").is_file():
        return json.loads((out_dir / "voice.json").read_text())
    if hasattr(result, "model_dump"):
        data = result.model_dump()
    elif dataclasses.is_dataclass(result):
        data = dataclasses.asdict(result)
    else:
        data = dict(result) if isinstance(result, dict) else vars(result)
    return {"duration": float(data["duration"]), "wav": Path(str(data.get("wav") or "voice.wav")).name,
            "sentences": data.get("sentences") or [], "words": data.get("words") or [], "language": language}


def make_shots(product: dict, script: dict, out_dir: Path, *, brand: dict, images: list[Path], notes: list):
    """(shots, product_image_paths). Shots from generation.images when available."""
    segs = [script["hook"], *script["scenes"], script["cta"]]
    local = _local_images(product, images)
    if not local:
        local = [demo.product_packshot(out_dir / "packshot.png", title=product.get("title") or "", brand=brand)]
        notes.append("product image: none local, drew a procedural packshot")
    try:
        from generation.images import make_shots as real_make_shots
    except ImportError:
        real_make_shots = None
    if real_make_shots is not None:
        try:
            requests = [{**(s.get("shot") or {"kind": "product"}), "segment": i} for i, s in enumerate(segs)]
            results = real_make_shots(product_images=local, requests=requests, brand=brand, out_dir=out_dir / "shots")
            return [r.as_dict() if hasattr(r, "as_dict") else dict(r) for r in results], local
        except Exception as exc:  # noqa: BLE001 - fall back, and say so
            notes.append(f"shots: generation.images.make_shots failed ({exc}); used procedural demo shots")
    else:
        notes.append("shots: generation.images unavailable; used procedural demo shots")
    shots, pack = demo.procedural_shots(out_dir / "shots", product=product, brand=brand, n=len(segs))
    return shots, local or [pack]
