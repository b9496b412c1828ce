"""`product` layer: the product picture on a rounded card with a soft shadow (or bare when
the picture already has transparency), popping in and out with the scene."""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter

from .. import text as tx
from .base import AnimatedPlateRenderer, Plate, place, register


def product_card(img: Image.Image, w: int, h: int, *, card: bool, card_color: str) -> Image.Image:
    has_alpha = img.mode == "RGBA" and img.getchannel("A").getextrema()[0] < 250
    margin = max(2, round(min(w, h) * 0.06))
    inner_w, inner_h = w - 2 * margin, h - 2 * margin
    pad = round(min(inner_w, inner_h) * 0.06) if card and not has_alpha else 0
    pic = img.convert("RGBA")
    if has_alpha:  # packshots with transparent margins: frame the product itself
        pic = pic.crop(pic.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox() or (0, 0, *pic.size))
    pic.thumbnail((max(1, inner_w - 2 * pad), max(1, inner_h - 2 * pad)), Image.LANCZOS)
    cw, ch = pic.width + 2 * pad, pic.height + 2 * pad
    out = Image.new("RGBA", (cw + 2 * margin, ch + 2 * margin), (0, 0, 0, 0))
    radius = round(min(cw, ch) * 0.08)
    shadow = Image.new("RGBA", out.size, (0, 0, 0, 0))
    shape = (margin, margin + margin // 3, margin + cw, margin + ch + margin // 3)
    if card and not has_alpha:
        ImageDraw.Draw(shadow).rounded_rectangle(shape, radius=radius, fill=(0, 0, 0, 120))
    else:
        shadow.paste((0, 0, 0, 110), (margin, margin + margin // 3), pic.getchannel("A"))
    out.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(margin / 2)))
    if card and not has_alpha:
        ImageDraw.Draw(out).rounded_rectangle((margin, margin, margin + cw, margin + ch), radius=radius,
                                              fill=tx.rgba(card_color))
        mask = Image.new("L", pic.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, pic.width, pic.height), radius=max(0, radius - pad), fill=255)
        out.paste(pic, (margin + pad, margin + pad), mask)
    else:
        out.alpha_composite(pic, (margin, margin))
    return out


@register("product")
class ProductRenderer(AnimatedPlateRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        _, _, w, h = layer.rect
        img = Image.fromarray(ctx.image(layer.asset))
        self.plate = Plate.from_pil(product_card(img, w, h, card=layer.card, card_color=ctx.color(layer.card_color)))
        self.pos = place(self.plate.size, layer.rect)
