"""Product fidelity and simple quality scores for a finished shot.

``product_ssim`` is the SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1=0.01, K2=0.03)
between the shot's product region and the source cutout at the same scale, averaged over the
product mask eroded by the window radius, so the surroundings (shadow, generated scene) do
not enter the score. 1.0 means the shopper sees exactly the photographed product.
"""
from __future__ import annotations

import cv2
import numpy as np

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
WINDOW_RADIUS = 5  # 11x11 window with sigma 1.5, as in the reference implementation


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM of two same-sized uint8 images (colour images: mean over channels)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.ndim == 3:
        return np.mean([ssim_map(a[..., c], b[..., c]) for c in range(a.shape[2])], axis=0)
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + _C1) * (2 * cov + _C2)) / ((mu_a ** 2 + mu_b ** 2 + _C1) * (var_a + var_b + _C2))


def interior(mask: np.ndarray, radius: int = WINDOW_RADIUS) -> np.ndarray:
    """The mask eroded by ``radius``; falls back to the mask itself for tiny products."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    # Outside the crop counts as "not product": erode from the crop's border too.
    eroded = cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    return eroded if eroded.sum() >= 16 else mask.astype(bool)


def product_ssim(shot: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> float:
    """SSIM of ``shot`` vs ``reference`` (same-size crops) inside the product mask."""
    if shot.shape != reference.shape or shot.shape[:2] != mask.shape:
        raise ValueError(f"shape mismatch: {shot.shape} vs {reference.shape} vs mask {mask.shape}")
    inside = interior(mask)
    if not inside.any():
        return 0.0
    return float(np.clip(ssim_map(shot, reference)[inside].mean(), -1.0, 1.0))


def contrast_score(image: np.ndarray, mask: np.ndarray) -> float:
    """How well the product stands out: Lab distance between a ring just inside the product
    edge and a ring just outside, scaled to 0..1 (50 Lab units or more = 1)."""
    m = mask.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    inner = m.astype(bool) & ~cv2.erode(m, kernel).astype(bool)
    outer = cv2.dilate(m, kernel).astype(bool) & ~m.astype(bool)
    if not inner.any() or not outer.any():
        return 0.0
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    return float(min(1.0, np.linalg.norm(lab[inner].mean(0) - lab[outer].mean(0)) / 50.0))


def artefact_score(image: np.ndarray) -> float:
    """1.0 for a clean frame; lower for clipped highlights/shadows or a flat (failed) image."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    clipped = float(((gray <= 2) | (gray >= 253)).mean())
    flat = 1.0 if gray.std() > 4 else gray.std() / 4
    return float(max(0.0, 1.0 - 2 * clipped) * flat)
