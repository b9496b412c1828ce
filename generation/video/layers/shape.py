"""`shape` layer: solid rect, a gradient scrim (keeps text legible over any shot), or a
progress bar that grows with the ad's timeline."""
from __future__ import annotations

import cv2
import numpy as np

from .. import text as tx
from .. import yuv
from .base import LayerRenderer, Plate, anim_state, blend_animated, register


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
        cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2

        def share(lo, hi, c0, c1):  # pixels of each block inside [lo, hi), out of 2
            edges = np.arange(c0, c1) * 2
            return (np.minimum(edges + 2, hi) - np.maximum(edges, lo)) / 2.0

        cover = np.outer(share(y0, y1, cy0, cy1), share(x0, x1, cx0, cx1))
        for plane, value in ((frame.u, self.ycc[1]), (frame.v, self.ycc[2])):
            block = plane[cy0:cy1, cx0:cx1]
            block[:] = np.rint(block * (1 - cover) + value * cover).astype(np.uint8)

    def planes_ok(self, t):
        return True

    def hold_key(self, t):
        if self.layer.shape == "progress":  # grows every frame
            return None
        return anim_state(self.layer.anim, t, self.layer.start, self.layer.end)
