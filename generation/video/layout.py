"""Aspect ratios, platform safe zones and anchor layout: one template, three frames.

Safe margins (fractions of the frame) keep text and captions clear of the TikTok / Reels /
Shorts UI: the top bar, the right-hand action buttons and the bottom caption/username area
(the strictest of the three platforms is used). Square and landscape frames have only small
margins (feed crops, YouTube player controls at the bottom).
"""
from __future__ import annotations

from .schema import Box

ASPECTS: dict[str, tuple[int, int]] = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}
# left, top, right, bottom
SAFE_MARGINS: dict[str, tuple[float, float, float, float]] = {
    "9:16": (0.06, 0.11, 0.14, 0.21),
    "1:1": (0.06, 0.06, 0.06, 0.08),
    "16:9": (0.05, 0.07, 0.05, 0.12),
}
GUTTER = 0.04  # between the two columns of a landscape split, fraction of the safe width


def canvas_size(aspect: str, scale: float = 1.0) -> tuple[int, int]:
    """Output size for an aspect at a scale; both sides even (yuv420p needs it)."""
    if aspect not in ASPECTS:
        raise ValueError(f"aspect {aspect!r}: use one of {', '.join(ASPECTS)}")
    if not 0.05 <= scale <= 1.0:
        raise ValueError(f"scale {scale}: use 0.05..1.0")
    w, h = ASPECTS[aspect]
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def safe_rect(aspect: str, width: int, height: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = SAFE_MARGINS[aspect]
    x, y = round(width * left), round(height * top)
    return x, y, width - x - round(width * right), height - y - round(height * bottom)


def box_rect(box: Box, *, aspect: str, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel rect (x, y, w, h) for a layout box in a frame of this aspect."""
    rx, ry, rw, rh = (0, 0, width, height) if box.region == "frame" else safe_rect(aspect, width, height)
    if aspect == "16:9" and box.landscape != "same":
        col = round(rw * (1 - GUTTER) / 2)
        rx = rx if box.landscape == "left" else rx + rw - col
        rw = col
    w, h = max(1, round(rw * box.w)), max(1, round(rh * box.h))
    a = box.anchor
    x = rx if "left" in a else rx + rw - w if "right" in a else rx + (rw - w) // 2
    y = ry if a.startswith("top") else ry + rh - h if a.startswith("bottom") else ry + (rh - h) // 2
    return x + round(box.dx * rw), y + round(box.dy * rh), w, h
