"""Text never covers the product: move a scene's text boxes into the free band above or below
the product in that scene's shot.

The shot's ``product_box`` (fractions of the picture, from ``make_shots``) is mapped onto the
shot layer's rect — shots are made at the ad's aspect, so ``cover`` maps fractions directly —
and grown by the Ken Burns zoom around its focus, so the text stays clear for the whole scene.
Pure geometry on resolved layers; nothing is read from disk.
"""
from __future__ import annotations

CAPTION_BAND = 0.17  # bottom share of the safe area kept for captions
MIN_BAND = 0.06  # a band thinner than this share of the frame height cannot hold text


def product_rect(shot_layer, shot, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The product's rect on the frame during ``shot_layer`` (None when unknown)."""
    box = getattr(shot, "product_box", None)
    if not box or shot_layer.rect is None:
        return None
    lx, ly, lw, lh = shot_layer.rect
    if abs((lw / lh) - (width / height)) > 0.05 * (width / height):
        return None  # a picture of another shape is contained, not covered: fractions do not map
    bx, by, bw, bh = box
    x0, y0, x1, y1 = lx + bx * lw, ly + by * lh, lx + (bx + bw) * lw, ly + (by + bh) * lh
    motion = getattr(shot_layer, "motion", None)
    if motion is not None and motion.kind == "ken_burns":
        z = max(motion.zoom)
        fx = lx + max(motion.focus[0][0], motion.focus[1][0]) * lw
        fy = ly + max(motion.focus[0][1], motion.focus[1][1]) * lh
        x0, x1 = fx + (x0 - fx) * z, fx + (x1 - fx) * z
        y0, y1 = fy + (y0 - fy) * z, fy + (y1 - fy) * z
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x1), min(height, y1)
    return (round(x0), round(y0), round(x1 - x0), round(y1 - y0)) if x1 > x0 and y1 > y0 else None


def _overlap(a, b) -> int:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def keep_text_off(text_layer, prod: tuple[int, int, int, int], safe: tuple[int, int, int, int], height: int):
    """``text_layer`` moved (and if need be made shorter) into a free band, or unchanged when
    it does not touch the product or no band can hold it."""
    rect = text_layer.rect
    if rect is None or not _overlap(rect, prod):
        return text_layer
    sx, sy, sw, sh = safe
    x, y, w, h = rect
    above = (sy, prod[1])
    below = (prod[1] + prod[3], sy + round(sh * (1 - CAPTION_BAND)))
    prefer_above = y + h / 2 <= prod[1] + prod[3] / 2
    bands = [above, below] if prefer_above else [below, above]
    for top, bottom in bands:  # a band that holds the box nearly as designed
        if bottom - top >= 0.6 * h:
            new_h = min(h, bottom - top)
            new_y = bottom - new_h if (top, bottom) == above else top
            return text_layer.model_copy(update={"rect": (x, int(new_y), w, int(new_h))})
    top, bottom = max(bands, key=lambda b: b[1] - b[0])  # else the larger band, text shrunk to fit
    if bottom - top >= MIN_BAND * height:
        return text_layer.model_copy(update={"rect": (x, int(top), w, int(bottom - top))})
    return text_layer
