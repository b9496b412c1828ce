"""`text` layers: headline / body / badge / CTA / price tag / rating / quote, drawn once with
Pillow into a plate and animated (entrance, exit, pulse) at blend time."""
from __future__ import annotations

from PIL import Image, ImageDraw

from .. import text as tx
from .base import AnimatedPlateRenderer, Plate, place, register


def stack(images: list[Image.Image], gap: int, align: str = "center") -> Image.Image:
    w = max(im.width for im in images)
    h = sum(im.height for im in images) + gap * (len(images) - 1)
    out = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    y = 0
    for im in images:
        x = 0 if align == "left" else w - im.width if align == "right" else (w - im.width) // 2
        out.alpha_composite(im, (x, y))
        y += im.height + gap
    return out


def _block(ctx, text, style, w, h, *, size_mul=1.0, background=None, color=None):
    """Fit `text` into w×h with the style and draw it (optionally on a pill/card whose
    padding scales with the chosen font size)."""
    bg = ctx.color(background if background is not None else style.background)
    text = text.upper() if style.uppercase else text
    shrink_w, shrink_h = (0.86, 0.72) if bg else (0.98, 0.92)
    font, lines, line_h = tx.fit(text, max_size=round(style.size * ctx.ref * size_mul),
                                 max_w=max(8, round(w * shrink_w)), max_h=max(8, round(h * shrink_h)),
                                 max_lines=style.max_lines, weight=style.weight, family=ctx.brand.font_family)
    pad = (round(font.size * 0.5), round(font.size * 0.22)) if bg else (0, 0)
    return tx.text_block(lines, font, line_h, color=ctx.color(color or style.color),
                         outline=ctx.color(style.outline), align=style.align, pad=pad, background=bg,
                         radius=style.radius)


def price_tag(ctx, layer, w, h) -> Image.Image:
    """Sale price on an accent pill; the original price struck through above it and a
    discount badge when an original price exists (degrades to the price alone)."""
    v, st = layer.values, layer.style
    pill = _block(ctx, str(v.get("price") or layer.text), st, w, round(h * 0.7),
                  background=st.background or "brand.accent", color=st.color)
    parts = []
    if v.get("original_price"):
        old = _block(ctx, str(v["original_price"]), st.model_copy(update={"background": None}), round(w * 0.6),
                     round(h * 0.34), size_mul=0.6, background="#0B0F19B8", color="#FFFFFFE6")
        d = ImageDraw.Draw(old)
        y = old.height // 2
        d.line((old.width * 0.2, y, old.width * 0.8, y), fill=(235, 64, 52, 255), width=max(2, old.height // 10))
        parts.append(old)
    parts.append(pill)
    img = stack(parts, gap=max(2, pill.height // 12))
    if v.get("discount"):
        badge = _block(ctx, str(v["discount"]), st.model_copy(update={"background": None, "uppercase": False}),
                       round(w * 0.4), round(h * 0.3), size_mul=0.4, background="#E5352B", color="#FFFFFF")
        out = Image.new("RGBA", (img.width + badge.width // 2, img.height + badge.height // 3), (0, 0, 0, 0))
        out.alpha_composite(img, (0, badge.height // 3))
        out.alpha_composite(badge.rotate(8, expand=True, resample=Image.BICUBIC), (out.width - badge.width - 4, 0))
        img = out
    return img


def rating_block(ctx, layer, w, h) -> Image.Image:
    rating = float(layer.values.get("rating") or 0)
    size = min(round(layer.style.size * ctx.ref), round(h * 0.45), round(w / 6.2))
    star_img = tx.stars(rating, size, tx.rgba(ctx.color("brand.accent")))
    label = _block(ctx, layer.text, layer.style.model_copy(update={"background": None}), w, round(h * 0.4),
                   size_mul=0.55)
    block = stack([star_img, label], gap=round(size * 0.2))
    pad = round(size * 0.35)  # a dark glass card keeps gold stars legible on bright shots
    card = Image.new("RGBA", (block.width + 2 * pad, block.height + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(card).rounded_rectangle((0, 0, card.width - 1, card.height - 1), radius=pad,
                                           fill=tx.rgba("#0B0F19B8"))
    card.alpha_composite(block, (pad, pad))
    return card


def quote_card(ctx, layer, w, h) -> Image.Image:
    st = layer.style
    body = _block(ctx, layer.text, st, w, h, background=st.background or "#FFFFFFF0", color=st.color)
    mark = tx.load_font(round(body.height * 0.5 + 20), "black")
    out = Image.new("RGBA", (body.width, body.height + mark.size // 3), (0, 0, 0, 0))
    out.alpha_composite(body, (0, mark.size // 3))
    ImageDraw.Draw(out).text((round(ctx.ref * 0.03), -mark.size * 0.15), "\u201c", font=mark,
                             fill=tx.rgba(ctx.color("brand.accent")))
    return out


@register("text")
class TextRenderer(AnimatedPlateRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        x, y, w, h = layer.rect
        if layer.variant == "price":
            img = price_tag(ctx, layer, w, h)
        elif layer.variant == "rating":
            img = rating_block(ctx, layer, w, h)
        elif layer.variant == "quote":
            img = quote_card(ctx, layer, w, h)
        elif layer.variant == "cta":
            img = _block(ctx, f"{layer.text}  \u2192" if not tx.has_cjk(layer.text) else layer.text, layer.style, w, h,
                         background=layer.style.background or "brand.primary")
        else:
            img = _block(ctx, layer.text, layer.style, w, h)
        if img.width > w or img.height > h:  # never spill out of the (safe) rect
            img.thumbnail((w, h), Image.LANCZOS)
        self.plate = Plate.from_pil(img)
        self.pos = place(self.plate.size, layer.rect, layer.style.align)
