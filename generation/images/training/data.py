"""Training images and their captions.

A brand uploads 10-30 images (products, persona, style). Captions are templates around a
rare token (DreamBooth's "sks"), optionally with the file's stem as a hint
(``red-sneaker.jpg`` -> "a photo of sks red sneaker"); a ``<image>.txt`` next to an image
overrides its caption (a local captioner can write those).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..cutout import load_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
RARE_TOKEN = "sks"
MAX_IMAGES = 200


@dataclass(frozen=True)
class TrainingImage:
    path: Path
    caption: str
    sha256: str


def caption_for(path: Path, *, token: str = RARE_TOKEN, kind: str = "product") -> str:
    sidecar = path.with_suffix(".txt")
    if sidecar.is_file():
        return sidecar.read_text(encoding="utf-8").strip()[:300]
    hint = " ".join(part for part in path.stem.replace("_", "-").split("-") if part.isalpha())
    subject = {"persona": "person", "style": "style"}.get(kind, hint or "product")
    return f"a photo of {token} {subject}".strip()


def collect_images(directory: Path, *, token: str = RARE_TOKEN) -> list[TrainingImage]:
    """The images under ``directory`` (sorted, so runs are reproducible) with captions and
    content hashes; raises ValueError when there is nothing usable."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"training images directory not found: {directory}")
    paths = sorted(p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:MAX_IMAGES]
    if not paths:
        raise ValueError(f"no training images (jpg/png/webp) in {directory}")
    images = []
    for path in paths:
        kind = "persona" if "persona" in path.parts else "style" if "style" in path.parts else "product"
        images.append(TrainingImage(path=path, caption=caption_for(path, token=token, kind=kind),
                                    sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    return images


def to_tensor(path: Path, resolution: int):
    """Centre-crop to a square, resize, scale to [-1, 1] (as the official scripts do)."""
    import torch

    image = load_image(path).convert("RGB")
    image = ImageOps.fit(image, (resolution, resolution), Image.Resampling.LANCZOS)
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)
