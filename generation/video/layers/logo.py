"""`logo` layer: the brand logo contained in its box, or a wordmark pill of the brand name
when the brand kit has no logo file."""
from __future__ import annotations

from PIL import Image

from .base import AnimatedPlateRenderer, Plate, place, register
from .text import _block


@register("logo")
class LogoRenderer(AnimatedPlateRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        x, y, w, h = layer.rect
        if layer.asset:
            img = Image.fromarray(ctx.image(layer.asset))
            img.thumbnail((w, h), Image.LANCZOS)
        else:
            from ..schema import TextStyle
            style = TextStyle(size=0.045, weight="extrabold", color="#FFFFFF", background="brand.primary",
                              max_lines=1, radius=0.5)
            img = _block(ctx, layer.label or ctx.brand.name or "", style, w, h)
            img.thumbnail((w, h), Image.LANCZOS)
        align = "left" if "left" in layer.box.anchor else "right" if "right" in layer.box.anchor else "center"
        self.plate = Plate.from_pil(img)
        self.pos = place(self.plate.size, layer.rect, align)
