"""`shape` layer: solid rect, a gradient scrim (keeps text legible over any shot), or a
progress bar that grows with the ad's timeline."""
from __future__ import annotations

import cv2
import numpy as np

from .. import text as tx
from .base import LayerRenderer, Plate, anim_state, blend_animated, register


@register("shape")
class ShapeRenderer(LayerRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        x, y, w, h = layer.rect
        r, g, b, a = tx.rgba(ctx.color(layer.color), layer.opacity)
        self.rgb = (r, g, b, 255)
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
            if bw > 0:  # drawn straight into the frame: a few hundred pixels per frame
                cv2.rectangle(frame, (x, y), (x + bw - 1, y + h - 1), self.rgb, thickness=-1)
            return
        blend_animated(frame, self.plate, x, y, anim_state(layer.anim, t, layer.start, layer.end))

    def hold_key(self, t):
        if self.layer.shape == "progress":  # grows every frame
            return None
        return anim_state(self.layer.anim, t, self.layer.start, self.layer.end)
