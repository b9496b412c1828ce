"""Synthetic e-commerce photos (product on white) for tests, benchmarks and demos.

The corpus pages reference remote image URLs that cannot be fetched offline, so these draw
realistic stand-ins: shaded 3-D-looking bodies, labels with white areas *inside* the
product (the keyer must keep them), soft studio shadow on the white sweep, JPEG compression
and sensor noise. ``corpus_data_uri_images`` also pulls the few images the corpus pages embed
as data: URIs.
"""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SHAPES = ("bottle", "box", "sneaker", "mug")


def product_photo(shape: str, *, size: tuple[int, int] = (480, 600), seed: int = 0,
                  color: tuple[int, int, int] | None = None, return_mask: bool = False):
    """An RGB uint8 photo of a ``shape`` on a white sweep (before JPEG); with
    ``return_mask`` also the true product mask, for judging a cutout."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = np.full((h, w, 3), 255, np.float32)
    img -= np.linspace(0, 6, h, dtype=np.float32)[:, None, None]  # sweep falls off slightly
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx = w / 2 + rng.uniform(-0.04, 0.04) * w
    base = np.array(color or rng.integers(30, 200, 3), np.float32)
    if shape == "bottle":
        mask = ((np.abs(xx - cx) < 0.22 * w) & (yy > 0.32 * h) & (yy < 0.9 * h)) | \
               (((xx - cx) / (0.22 * w)) ** 2 + ((yy - 0.32 * h) / (0.08 * h)) ** 2 < 1) | \
               ((np.abs(xx - cx) < 0.07 * w) & (yy > 0.12 * h) & (yy < 0.32 * h))
    elif shape == "box":
        mask = (np.abs(xx - cx) < 0.3 * w) & (yy > 0.28 * h) & (yy < 0.86 * h)
    elif shape == "mug":
        body = (np.abs(xx - cx) < 0.24 * w) & (yy > 0.4 * h) & (yy < 0.85 * h)
        ring = np.abs(np.hypot(xx - (cx + 0.28 * w), yy - 0.6 * h) - 0.09 * w) < 0.025 * w
        mask = body | (ring & (xx > cx + 0.2 * w))
    else:  # sneaker: sole + upper
        sole = (np.abs(xx - cx) < 0.42 * w) & (yy > 0.62 * h) & (yy < 0.7 * h)
        upper = (((xx - cx + 0.05 * w) / (0.38 * w)) ** 2 + ((yy - 0.62 * h) / (0.22 * h)) ** 2 < 1) & (yy < 0.63 * h)
        mask = sole | upper
    shade = 0.55 + 0.45 * np.cos(np.clip((xx - cx) / (0.35 * w), -1.4, 1.4))
    body = base * shade[..., None] + rng.normal(0, 2.0, (h, w, 1))
    ys, xs = np.nonzero(mask)
    # a studio contact shadow on the sweep under the product
    shadow = np.zeros((h, w), np.float32)
    cv2.ellipse(shadow, (int(cx), int(ys.max())), (int((xs.max() - xs.min()) * 0.45), max(2, h // 60)),
                0, 0, 360, 1.0, -1)
    img *= 1 - 0.12 * cv2.GaussianBlur(shadow, (0, 0), h / 80)[..., None]
    img[mask] = body[mask]
    label = mask & (np.abs(yy - (ys.min() + ys.max()) / 2) < 0.07 * h) & (np.abs(xx - cx) < 0.16 * w)
    img[label] = 248  # white label inside the product
    out = np.clip(img, 0, 255).astype(np.uint8)
    if label.any():
        ly, lx = np.nonzero(label)
        cv2.putText(out, "BRAND", (int(lx.min()) + 4, int(ly.max()) - 6), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.3, w / 900), (20, 30, 60), max(1, w // 300), cv2.LINE_AA)
    out = cv2.GaussianBlur(out, (3, 3), 0.6)
    return (out, mask) if return_mask else out


def save_photo(array: np.ndarray, path: Path, *, quality: int = 90) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, quality=quality)
    return path


_DATA_URI = re.compile(rb"data:image/(?:png|jpeg|jpg|webp);base64,([A-Za-z0-9+/=]{2000,})")


def corpus_data_uri_images(pages_dir: Path, *, min_side: int = 200) -> list[tuple[str, Image.Image]]:
    """Images embedded as data: URIs in the corpus pages that sit on a white/plain background
    (>= 80 % of the border near white), deduplicated. Read-only: nothing is copied."""
    found, seen = [], set()
    for page in sorted(Path(pages_dir).glob("*.html")):
        for match in _DATA_URI.finditer(page.read_bytes()):
            raw = base64.b64decode(match.group(1), validate=False)
            if raw in seen:
                continue
            seen.add(raw)
            try:
                rgba = Image.open(io.BytesIO(raw)).convert("RGBA")  # palette+transparency safe
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
            except Exception:  # noqa: BLE001 - a broken embedded image is simply skipped
                continue
            if min(image.size) < min_side:
                continue
            rgb = np.asarray(image)
            border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
            if (border.min(axis=1) > 225).mean() >= 0.8:
                found.append((page.name, image))
    return found
