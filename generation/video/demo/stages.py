"""Inputs for ``render_template`` and the template previews: the real script, voice and shot
stages, as configured by ``settings.GENERATION`` (validated at start-up: a backend that is on
but misconfigured fails there with a clear message). The demo's procedural pictures are used
only for a product that names no picture, or when the shot stage fails (said in ``notes``)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from generation.images import Shot
from generation.images import make_shots as images_make_shots
from generation.scripts import AdScript, write_script
from generation.voice import synthesize

from generation.video import demo


def _image_refs(product: dict) -> list:
    refs = list(product.get("image_paths") or []) + list(product.get("images") or [])
    return [r.get("key") or r.get("source_url") if isinstance(r, dict) else r for r in refs if r]


def product_images(product: dict, extra: list[Path], out_dir: Path, *, notes: list) -> list[Path]:
    """The product's own pictures as local files, main first: ``--image`` files, then the
    facts' local paths / storage keys / file:// URLs, then its http(s) image URLs downloaded
    through the SSRF-guarded image fetcher (never the bundled sample bottle)."""
    from django.conf import settings

    found = [Path(p) for p in extra if Path(p).is_file()]
    remote = []
    for ref in _image_refs(product):
        ref = str(ref)
        if ref.startswith(("http://", "https://")):
            remote.append(ref)
            continue
        path = Path(ref[7:] if ref.startswith("file://") else ref)
        for cand in (path, Path(settings.MEDIA_ROOT) / ref):
            if cand.is_file():
                found.append(cand)
                break
    if not found and remote:
        from catalog.ingest.errors import IngestError
        from catalog.ingest.images import images_download
        try:
            pictures = images_download(remote, allowed_hosts=getattr(settings, "CATALOG_SSRF_ALLOWED_HOSTS", None))
        except IngestError as exc:
            pictures = []
            notes.append(f"product images: download failed ({exc})")
        out_dir.mkdir(parents=True, exist_ok=True)
        for k, pic in enumerate(pictures):
            path = out_dir / f"product_{k:02d}.{pic.extension}"
            path.write_bytes(pic.data)
            found.append(path)
        if remote and not pictures:
            notes.append(f"product images: none of {len(remote)} image URLs could be fetched")
    return list(dict.fromkeys(found))


def make_script(product: dict, *, framework: str, language: str, duration: float, brand: dict, notes: list) -> dict:
    return write_script(product, framework=framework, language=language, duration=duration, brand=brand).model_dump()


def make_voice(script: dict, out_dir: Path, *, language: str, notes: list) -> dict:
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
    """(shots as spine ``Shot``s, the product's local image files). Raises ValueError when the
    product has pictures that cannot be used; draws a packshot only for a product that names
    no picture at all (the demo product)."""
    segs = [script["hook"], *script["scenes"], script["cta"]]
    local = product_images(product, images, out_dir / "images", notes=notes)
    if not local:
        if _image_refs(product):
            raise ValueError("none of the product's images could be used (download or decode failed)")
        local = [demo.product_packshot(out_dir / "packshot.png", title=product.get("title") or "", brand=brand)]
        notes.append("product image: the product names no picture, drew a procedural packshot")
    try:
        requests = [{**(s.get("shot") or {"kind": "product"}), "segment": i} for i, s in enumerate(segs)]
        results = images_make_shots(product_images=local, requests=requests, brand=brand, out_dir=out_dir / "shots")
        return [Shot.from_result(r) for r in results], local
    except Exception as exc:  # noqa: BLE001 - a preview tool: fall back, and say so in the notes
        notes.append(f"shots: generation.images.make_shots failed ({exc}); used procedural demo shots")
    shots, pack = demo.procedural_shots(out_dir / "shots", product=product, brand=brand, n=len(segs))
    return [Shot.model_validate(s) for s in shots], local or [pack]
