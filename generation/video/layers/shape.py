"""`shape` layer: solid rect, a gradient scrim (keeps text legible over any shot), or a
progress bar that grows with the ad's timeline."""
from __future__ import annotations

import cv2
import numpy as np

from .. import text as tx
from .. import yuv
from .base import LayerRenderer, Plate, anim_state, blend_animated, register


def _blocks(lo: int, hi: int) -> tuple[int, int, list[int]]:
    """The chroma blocks [b0, b1) that pixels [lo, hi) cover whole, and the ones they cover
    half of (an odd start or end)."""
    return (lo + 1) // 2, hi // 2, ([lo // 2] if lo & 1 else []) + ([hi // 2] if hi & 1 else [])


def _mix(view: np.ndarray, value: int, share: float) -> None:
    view[...] = np.rint(view * (1 - share) + value * share).astype(np.uint8)


@register("shape")
class ShapeRenderer(LayerRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        x, y, w, h = layer.rect
        r, g, b, a = tx.rgba(ctx.color(layer.color), layer.opacity)
        self.rgb = (r, g, b, 255)
        self.ycc = yuv.ycc(self.rgb)
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[:, :, :3] = (r, g, b)
        if layer.shape == "gradient":
            ramp = np.linspace(0.0, 1.0, h) ** 1.6
            ramp = ramp if layer.direction == "up" else ramp[::-1]
            rgba[:, :, 3] = (ramp * a).astype(np.uint8)[:, None]
        else:
            rgba[:, :, 3] = a
        self.plate = Plate(rgba)

    def draw(self, frame, t):
        layer = self.layer
        x, y, w, h = layer.rect
        if layer.shape == "progress":
            p = (t - layer.start) / (layer.end - layer.start)
            bw = round(w * min(1.0, max(0.0, p)))
            if bw <= 0:
                return
            if isinstance(frame, yuv.Planes):
                self._bar_planes(frame, x, y, bw, h)
                return
            # drawn straight into the frame: a few hundred pixels per frame
            cv2.rectangle(frame, (x, y), (x + bw - 1, y + h - 1), self.rgb, thickness=-1)
            return
        blend_animated(frame, self.plate, x, y, anim_state(layer.anim, t, layer.start, layer.end))

    def _bar_planes(self, frame: yuv.Planes, x: int, y: int, w: int, h: int) -> None:
        """The bar into planes: Y exactly, and each chroma block mixed with the bar's colour by
        the share of its four pixels the bar covers (an odd edge covers half a block)."""
        fh, fw = frame.y.shape
        x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
        if x0 >= x1 or y0 >= y1:
            return
        frame.y[y0:y1, x0:x1] = self.ycc[0]
        (r0, r1, half_rows), (c0, c1, half_cols) = _blocks(y0, y1), _blocks(x0, x1)
        for plane, value in ((frame.u, self.ycc[1]), (frame.v, self.ycc[2])):
            plane[r0:r1, c0:c1] = value
            for r in half_rows:
                _mix(plane[r, c0:c1], value, 0.5)
                for c in half_cols:
                    _mix(plane[r, c:c + 1], value, 0.25)
            for c in half_cols:
                _mix(plane[r0:r1, c], value, 0.5)

    def planes_ok(self, t):
        return True

    def hold_key(self, t):
        if self.layer.shape == "progress":  # grows every frame
            return None
        return anim_state(self.layer.anim, t, self.layer.start, self.layer.end)
