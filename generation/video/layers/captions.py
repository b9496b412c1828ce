"""`captions` layer: word-highlight captions (TikTok style). Words are grouped in short
chunks; the word being spoken is drawn in the brand accent on a pill. One plate per
(chunk, active word) is drawn on first use and cached, so a frame costs one blend."""
from __future__ import annotations

from PIL import Image, ImageDraw

from .. import text as tx
from .base import LayerRenderer, Plate, anim_state, blend, place, register
from ..schema import Anim
from generation.voice.captions import join_tokens


def _spaced(left: str, right: str) -> bool:
    return join_tokens([left, right]) != left + right


@register("captions")
class CaptionsRenderer(LayerRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        self._plates: dict[tuple[int, int], tuple[Plate, tuple[int, int]]] = {}

    def _layout(self, words: list[str]):
        st, (_, _, w, h) = self.layer.style, self.layer.rect
        text = join_tokens(words)  # mixed-script text keeps its spaces between Latin words
        font, lines, line_h = tx.fit(text.upper() if st.uppercase else text, max_size=round(st.size * self.ctx.ref),
                                     max_w=round(w * 0.96), max_h=h, max_lines=st.max_lines, weight=st.weight,
                                     family=self.ctx.brand.font_family)
        return font, line_h

    def _plate(self, ci: int, wi: int):
        key = (ci, wi)
        if key not in self._plates:
            chunk = self.layer.chunks[ci]
            words = [w.word.upper() if self.layer.style.uppercase else w.word for w in chunk.words]
            self._plates[key] = self._draw(words, wi)
        return self._plates[key]

    def _draw(self, words, active):
        st, (_, _, w, h) = self.layer.style, self.layer.rect
        font, line_h = self._layout(words)
        space_w = font.getlength(" ")
        stroke = max(1, round(font.size * 0.08))
        pad = round(font.size * 0.18)
        # Greedy line layout of words, then each word drawn at its own x (for the highlight).
        rows, row, row_w = [], [], 0.0
        for i, word in enumerate(words):
            ww = font.getlength(word)
            # a space only between two Latin words: none between Han characters, kept in "Adidas Youth"
            space = space_w if i and _spaced(words[i - 1], word) else 0
            if row and row_w + space + ww > w * 0.96:
                rows.append((row, row_w))
                row, row_w = [], 0.0
            row.append((i, word, ww, space))
            row_w += (space if len(row) > 1 else 0) + ww
        rows.append((row, row_w))
        width = round(max(rw for _, rw in rows)) + 2 * (pad + stroke)
        img = Image.new("RGBA", (width, line_h * len(rows) + 2 * (pad + stroke)), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        hl, fg, outline = (tx.rgba(self.ctx.color(c)) for c in (self.layer.highlight, st.color, st.outline or "#000000"))
        for r, (row, rw) in enumerate(rows):
            x = (width - rw) / 2
            y = pad + stroke + r * line_h
            for n, (i, word, ww, space) in enumerate(row):
                x += space if n else 0
                if i == active:
                    d.rounded_rectangle((x - pad, y - pad * 0.3, x + ww + pad, y + line_h + pad * 0.1),
                                        radius=round(line_h * 0.22), fill=hl)
                    d.text((x, y + line_h / 2), word, font=font, fill=(16, 16, 16, 255), anchor="lm")
                else:
                    # Middle anchor: CJK fonts have much taller ascenders than Inter, and
                    # the highlight pill must sit on the glyphs in both.
                    d.text((x, y + line_h / 2), word, font=font, fill=fg, anchor="lm",
                           stroke_width=stroke, stroke_fill=outline)
                x += ww
        if img.width > w or img.height > h:
            img.thumbnail((w, h), Image.LANCZOS)
        plate = Plate.from_pil(img)
        return plate, place(plate.size, self.layer.rect, "center", "bottom")

    def _find(self, t: float):
        for ci, chunk in enumerate(self.layer.chunks):
            if chunk.start <= t < chunk.end:
                wi = 0
                for j, word in enumerate(chunk.words):
                    if word.start <= t:
                        wi = j
                return ci, wi
        return None

    def planes_ok(self, t):
        return True

    def hold_key(self, t):
        hit = self._find(t)
        if hit is None:
            return "none"
        chunk = self.layer.chunks[hit[0]]
        return hit, anim_state(Anim(enter="fade", exit="none", duration=0.08), t, chunk.start, chunk.end).opacity

    def draw(self, frame, t):
        hit = self._find(t)
        if hit is None:
            return
        plate, pos = self._plate(*hit)
        chunk = self.layer.chunks[hit[0]]
        # A quick fade on each chunk so captions don't strobe.
        opacity = anim_state(Anim(enter="fade", exit="none", duration=0.08), t, chunk.start, chunk.end).opacity
        blend(frame, plate, *pos, opacity)
