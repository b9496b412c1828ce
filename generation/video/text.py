"""Text drawn with Pillow into RGBA plates (moviepy's TextClip clips descenders).

Inter for Latin scripts, Noto Sans CJK SC (``index=2`` in the .ttc) whenever the text holds
CJK characters (it carries Latin glyphs too, so mixed strings stay in one font). A brand
``font_family`` is honoured when fontconfig finds it and it is not CJK text.
"""
from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

INTER_DIRS = (Path("/usr/share/fonts/opentype/inter"), Path("/usr/share/fonts/truetype/inter"))
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
WEIGHTS = {"regular": "Regular", "medium": "Medium", "semibold": "SemiBold", "bold": "Bold",
           "extrabold": "ExtraBold", "black": "Black"}
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


@functools.lru_cache(maxsize=64)
def _family_file(family: str, weight: str) -> str | None:
    """A font file for a brand family via fontconfig, or None when it is not installed."""
    if not family or family.lower() == "inter":
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}|%{file}", f"{family}:style={WEIGHTS[weight]}"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found, _, path = out.partition("|")
    return path if family.lower() in found.lower() and path else None


@functools.lru_cache(maxsize=32)
def _inter_file(weight: str) -> str:
    for d in INTER_DIRS:
        for name in (f"Inter-{WEIGHTS[weight]}.otf", f"Inter-{WEIGHTS[weight]}.ttf", "Inter-Bold.otf"):
            if (d / name).exists():
                return str(d / name)
    out = subprocess.run(["fc-match", "-f", "%{file}", f"Inter:style={WEIGHTS[weight]}"],
                         capture_output=True, text=True, timeout=5).stdout
    if not out:
        raise FileNotFoundError("no Inter font: apt-get install fonts-inter")
    return out


@functools.lru_cache(maxsize=256)
def load_font(size: int, weight: str = "bold", cjk: bool = False, family: str = "Inter"):
    size = max(4, int(size))
    if cjk:
        bold = weight in ("bold", "extrabold", "black", "semibold")
        path = NOTO_CJK / ("NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc")
        if path.exists():
            return ImageFont.truetype(str(path), size, index=2)  # index 2 = Simplified Chinese
    path = _family_file(family, weight) or _inter_file(weight)
    return ImageFont.truetype(path, size)


def _tokens(text: str, cjk: bool) -> list[str]:
    if not cjk:
        return text.split()
    # CJK breaks between any two characters; keep Latin runs whole.
    return re.findall(r"[A-Za-z0-9$€£¥%.,!?'’\-]+|\S", text)


def wrap(text: str, font, max_w: int) -> list[str]:
    cjk = has_cjk(text)
    sep = "" if cjk else " "
    lines: list[str] = []
    line = ""
    for tok in _tokens(text, cjk):
        trial = f"{line}{sep}{tok}" if line else tok
        if line and font.getlength(trial) > max_w:
            lines.append(line)
            line = tok
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


def fit(text: str, *, max_size: int, max_w: int, max_h: int, max_lines: int, weight: str,
        family: str = "Inter", line_gap: float = 0.18):
    """Largest font (<= max_size) whose wrapped text fits the box: (font, lines, line_h)."""
    cjk = has_cjk(text)
    size = max_size
    while True:
        font = load_font(size, weight, cjk, family)
        lines = wrap(text, font, max_w)
        line_h = round(size * (1 + line_gap))
        widest = max((font.getlength(ln) for ln in lines), default=0)
        if len(lines) <= max_lines and line_h * len(lines) <= max_h and widest <= max_w:
            return font, lines, line_h
        if size <= 8:
            return font, _keep_whole_words(lines, font, max_w=max_w, max_lines=max(max_lines, max_h // line_h)), line_h
        size = int(size * 0.92)


def _keep_whole_words(lines: list[str], font, *, max_w: int, max_lines: int) -> list[str]:
    """At the smallest size, text that still does not fit is shortened at a word boundary and
    marked with an ellipsis — never cut inside a word, never silently missing its end."""
    max_lines = max(1, max_lines)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    words = kept[-1].split(" ")
    while len(words) > 1 and font.getlength(" ".join(words) + " …") > max_w:
        words.pop()
    kept[-1] = " ".join(words) + " …"
    return kept


def rgba(color: str, alpha: float = 1.0) -> tuple[int, int, int, int]:
    """'#RRGGBB[AA]' or 'transparent' → RGBA tuple (brand.* must be resolved before)."""
    if color == "transparent":
        return (0, 0, 0, 0)
    c = color.lstrip("#")
    a = int(c[6:8], 16) if len(c) == 8 else 255
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), round(a * alpha)


def text_block(lines: list[str], font, line_h: int, *, color, outline=None, align="center",
               pad: tuple[int, int] = (0, 0), background=None, radius: float = 0.25,
               shadow: bool = True) -> Image.Image:
    """Lines of text on an optional rounded background, with a soft shadow for legibility."""
    widths = [font.getlength(ln) for ln in lines] or [0]
    stroke = max(1, round(font.size * 0.09)) if outline else 0
    w = int(max(widths)) + 2 * pad[0] + 2 * stroke
    h = line_h * len(lines) + 2 * pad[1] + 2 * stroke
    margin = max(2, round(font.size * 0.25)) if shadow else 0
    img = Image.new("RGBA", (w + 2 * margin, h + 2 * margin), (0, 0, 0, 0))
    if background and rgba(background)[3]:
        if shadow:
            sh = Image.new("RGBA", img.size, (0, 0, 0, 0))
            ImageDraw.Draw(sh).rounded_rectangle((margin, margin + margin // 3, margin + w, margin + h + margin // 3),
                                                 radius=round(h * radius if len(lines) == 1 else font.size * radius),
                                                 fill=(0, 0, 0, 110))
            img = Image.alpha_composite(img, sh.filter(ImageFilter.GaussianBlur(margin / 2)))
        ImageDraw.Draw(img).rounded_rectangle((margin, margin, margin + w, margin + h),
                                              radius=round(h * radius if len(lines) == 1 else font.size * radius),
                                              fill=rgba(background))
    elif shadow and not outline:
        sh = Image.new("RGBA", img.size, (0, 0, 0, 0))
        _draw_lines(ImageDraw.Draw(sh), lines, widths, font, line_h, margin + pad[0] + stroke,
                    margin + pad[1] + stroke + max(1, font.size // 20), w - 2 * pad[0] - 2 * stroke,
                    align, (0, 0, 0, 150), None, 0)
        img = Image.alpha_composite(img, sh.filter(ImageFilter.GaussianBlur(max(1, font.size / 14))))
    _draw_lines(ImageDraw.Draw(img), lines, widths, font, line_h, margin + pad[0] + stroke,
                margin + pad[1] + stroke, w - 2 * pad[0] - 2 * stroke, align, rgba(color),
                rgba(outline) if outline else None, stroke)
    return img


def _draw_lines(draw, lines, widths, font, line_h, x0, y0, inner_w, align, fill, stroke_fill, stroke):
    for i, (ln, lw) in enumerate(zip(lines, widths)):
        x = x0 if align == "left" else x0 + inner_w - lw if align == "right" else x0 + (inner_w - lw) / 2
        # Middle anchor centres Latin (Inter) and CJK (taller ascenders) alike in the line box,
        # with descenders (g, y, p) inside the plate.
        draw.text((x, y0 + i * line_h + line_h / 2), ln, font=font, fill=fill, anchor="lm",
                  stroke_width=stroke, stroke_fill=stroke_fill)


def star_polygon(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    import math
    pts = []
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        rr = r if k % 2 == 0 else r * 0.45
        pts.append((cx + rr * math.cos(ang), cy + rr * math.sin(ang)))
    return pts


def stars(rating: float, size: int, color, empty=(255, 255, 255, 90)) -> Image.Image:
    """Five stars, the last one partially filled to the rating's fraction."""
    gap = round(size * 0.18)
    img = Image.new("RGBA", (5 * size + 4 * gap, size), (0, 0, 0, 0))
    full = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d_empty, d_full = ImageDraw.Draw(img), ImageDraw.Draw(full)
    for i in range(5):
        poly = star_polygon(i * (size + gap) + size / 2, size / 2 + size * 0.04, size / 2)
        d_empty.polygon(poly, fill=empty)
        d_full.polygon(poly, fill=color)
    filled = max(0.0, min(5.0, rating))
    cut = int(int(filled) * (size + gap) + (filled - int(filled)) * size)
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).rectangle((0, 0, cut, size), fill=255)
    img.paste(full, (0, 0), Image.composite(full, Image.new("RGBA", img.size), mask).getchannel("A"))
    return img
