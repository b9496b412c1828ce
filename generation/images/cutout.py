"""Cut a product out of its e-commerce photo.

Most product photos sit on a white or plain studio background, so the default is colour
keying with OpenCV: estimate the background colour from the border, call "background" only
background-coloured pixels *connected to the border* (a white logo inside the product stays
product), clean the mask morphologically and keep the significant components. A photo that
already has transparency keeps its alpha. An optional segmentation model (a local
transformers ``image-segmentation`` directory) can replace the keyer for busy backgrounds.

Invariant: ``Cutout.rgb`` holds the source pixels unchanged (only cropped); the mask decides
where they are used, so compositing can always put the real product pixels back.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # decompression-bomb guard: refuse anything larger
MAX_BYTES = 50 * 1024 * 1024
KEY_DISTANCE = 18.0  # Lab distance from the background colour still counted as background
# The background flood may not cross a colour step larger than this between neighbouring
# (median-smoothed) pixels: a white label that touches the product's outline is separated
# from a white sweep by such a step even though both are "background-coloured".
EDGE_STEP = 4
RIM_DISTANCE = 5.0
PLAIN_BORDER_SHARE = 0.75  # share of border pixels near the median for a "plain" background


class ProductImageError(ValueError):
    """A product image is missing, undecodable or unusable; the message is user-readable."""


@dataclass(frozen=True)
class Cutout:
    rgb: np.ndarray  # HxWx3 uint8, source pixels cropped to the product's bounding box
    alpha: np.ndarray  # HxW float32 0..1, soft edge (1 inside the product)
    mask: np.ndarray  # HxW bool, hard product mask (alpha >= 0.5)
    background: tuple[int, int, int]  # estimated source background colour (RGB)
    method: str  # alpha | key | segmentation | full-frame
    source: str

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]

    def mean_color(self) -> np.ndarray:
        return self.rgb[self.mask].reshape(-1, 3).mean(axis=0) if self.mask.any() else np.zeros(3)


def load_image(path: Path | str) -> Image.Image:
    """Open a product image safely (size limits, EXIF rotation) or raise ProductImageError."""
    path = Path(str(path).removeprefix("file://"))
    if not path.is_file():
        raise ProductImageError(f"product image not found: {path}")
    if path.stat().st_size > MAX_BYTES:
        raise ProductImageError(f"product image too large (> {MAX_BYTES // 2**20} MiB): {path}")
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ProductImageError(f"product image has too many pixels ({width}x{height}): {path}")
            image = ImageOps.exif_transpose(probe)
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ProductImageError(f"product image cannot be decoded ({exc.__class__.__name__}): {path}") from exc
    if min(image.size) < 16:
        raise ProductImageError(f"product image too small ({image.size[0]}x{image.size[1]}): {path}")
    return image


def _border(rgb: np.ndarray, width: int) -> np.ndarray:
    return np.concatenate([rgb[:width].reshape(-1, 3), rgb[-width:].reshape(-1, 3),
                           rgb[:, :width].reshape(-1, 3), rgb[:, -width:].reshape(-1, 3)])


def _lab_distance(rgb: np.ndarray, color: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    ref = cv2.cvtColor(color.reshape(1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.linalg.norm(lab - ref.reshape(1, 1, 3), axis=2)


def key_plain_background(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Mask of the product on a plain background, plus the background colour; None if the
    background is not plain (the caller then needs a segmentation model or the full frame)."""
    h, w = rgb.shape[:2]
    border = _border(rgb, max(1, min(h, w) // 100))
    bg = np.median(border, axis=0)
    near = np.linalg.norm(border.astype(np.float32) - bg, axis=1) < 24
    if near.mean() < PLAIN_BORDER_SHARE:
        return None
    distance = _lab_distance(rgb, bg)
    bg_like = (distance < KEY_DISTANCE) & ~_colour_edges(rgb)
    background = _flood_background(bg_like, distance)
    first = ~background
    if first.any():
        # Studio photos often have a soft contact shadow under the product: achromatic,
        # smooth, a little darker than the sweep, in the lower part. Key it out too, so
        # the new scene gets our shadow instead of a grey slab glued to the product.
        background = _flood_background(bg_like | _shadow_like(rgb, bg, first), distance)
    product = (~background).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    product = cv2.morphologyEx(product, cv2.MORPH_OPEN, kernel)
    product = _keep_significant(product, min_share=0.002)
    if product.sum() < 0.005 * h * w:
        return None
    return product.astype(bool), bg


def _colour_edges(rgb: np.ndarray) -> np.ndarray:
    """Pixels next to a colour step > EDGE_STEP (after a 3x3 median that removes JPEG noise)."""
    smooth = cv2.medianBlur(rgb, 3).astype(np.int16)
    dx = np.abs(np.diff(smooth, axis=1)).max(axis=2) > EDGE_STEP
    dy = np.abs(np.diff(smooth, axis=0)).max(axis=2) > EDGE_STEP
    edges = np.zeros(rgb.shape[:2], dtype=bool)
    edges[:, 1:] |= dx
    edges[:, :-1] |= dx
    edges[1:] |= dy
    edges[:-1] |= dy
    return edges


def _flood_background(passable: np.ndarray, distance: np.ndarray) -> np.ndarray:
    background = _reachable_from_border(passable)
    # The edge map stops the flood one pixel short of the outline; take those pixels back
    # when they are (almost) exactly the background colour, so no white rim remains.
    rim = cv2.dilate(background.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return background | (rim & (distance < RIM_DISTANCE))


def _reachable_from_border(passable: np.ndarray) -> np.ndarray:
    _, labels = cv2.connectedComponents(passable.astype(np.uint8), connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edge_labels[edge_labels != 0])  # label 0 = not passable


def _shadow_like(rgb: np.ndarray, bg: np.ndarray, product: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    ref = cv2.cvtColor(bg.reshape(1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
    chroma = np.linalg.norm(lab[..., 1:] - ref[1:], axis=2)
    darker = ref[0] - lab[..., 0]
    gray = lab[..., 0]
    gradient = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    ys = np.nonzero(product)[0]
    low = np.zeros_like(product)
    low[int(ys.min() + 0.75 * (ys.max() - ys.min())):] = True
    return (chroma < 5) & (darker >= -2) & (darker < 40) & (gradient < 40) & low


def _keep_significant(mask: np.ndarray, *, min_share: float) -> np.ndarray:
    """Drop specks (dust, JPEG noise) smaller than ``min_share`` of the image."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_share * mask.size
    return keep[labels].astype(np.uint8)


def _soft_alpha(mask: np.ndarray) -> np.ndarray:
    """Anti-aliased edge feathered *inwards*: the outermost product pixels of a photo are
    blends with the old background (a white fringe), so they fade out instead of halo-ing;
    nothing outside the mask is kept and the interior stays exactly 1."""
    blurred = cv2.GaussianBlur(mask.astype(np.float32), (5, 5), 1.0)
    alpha = np.clip((blurred - 0.5) * 2.0, 0.0, 1.0) * mask
    return alpha.astype(np.float32)


def _segment(image: Image.Image, model_dir: str) -> np.ndarray:
    from transformers import pipeline  # lazy: only when an operator configured a model

    segmenter = pipeline("image-segmentation", model=model_dir, local_files_only=True)
    masks = [np.asarray(r["mask"], dtype=np.uint8) > 127 for r in segmenter(image)]
    if not masks:
        raise ProductImageError("segmentation model found no product")
    return max(masks, key=lambda m: m.sum())


def cut_out(path: Path | str, *, segmentation_dir: str = "", margin: int = 2) -> Cutout:
    """Cut the product out of ``path`` (see module docstring for the order of methods)."""
    image = load_image(path)
    rgba = np.asarray(image.convert("RGBA"))
    rgb = np.ascontiguousarray(rgba[..., :3])
    bg = np.array([255, 255, 255])
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        mask, method = rgba[..., 3] >= 128, "alpha"
    else:
        keyed = key_plain_background(rgb)
        if keyed is not None:
            (mask, bg), method = keyed, "key"
        elif segmentation_dir:
            mask, method = _segment(image.convert("RGB"), segmentation_dir), "segmentation"
        else:
            mask, method = np.ones(rgb.shape[:2], dtype=bool), "full-frame"
    if not mask.any():
        raise ProductImageError(f"no product found in image: {path}")
    ys, xs = np.nonzero(mask)
    y0, y1 = max(0, ys.min() - margin), min(mask.shape[0], ys.max() + 1 + margin)
    x0, x1 = max(0, xs.min() - margin), min(mask.shape[1], xs.max() + 1 + margin)
    crop_mask = mask[y0:y1, x0:x1]
    return Cutout(rgb=np.ascontiguousarray(rgb[y0:y1, x0:x1]), alpha=_soft_alpha(crop_mask),
                  mask=crop_mask, background=tuple(int(c) for c in bg), method=method,
                  source=str(path))
