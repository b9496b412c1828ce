"""Compositing primitives shared by the layer renderers: easing, animation state, RGBA plates.

A ``Plate`` is an RGBA image pre-multiplied once (when the layer is prepared), so blending it
per frame is two saturating uint8 operations on its own rectangle — static layers cost almost
nothing per frame, which is what keeps the renderer near the encoder's floor. Frames are RGBX
arrays or ``yuv.Planes`` (the encoder's I420, drawn into directly); ``blend`` takes either,
with the plate converted to Y'CbCr once per chroma alignment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .. import yuv
from ..schema import Anim, BrandKit


def ease(kind: str, p: float) -> float:
    p = min(1.0, max(0.0, p))
    if kind == "ease_in_out":
        return 0.5 - 0.5 * math.cos(math.pi * p)
    if kind == "ease_out":
        return 1 - (1 - p) ** 3
    if kind == "ease_in":
        return p ** 3
    return p


def back_out(p: float) -> float:
    """Overshooting ease for 'pop' entrances (a price tag that lands with a bounce)."""
    p = min(1.0, max(0.0, p))
    c = 1.70158
    return 1 + (c + 1) * (p - 1) ** 3 + c * (p - 1) ** 2


@dataclass(frozen=True)
class AnimState:
    opacity: float = 1.0
    dx: float = 0.0  # fractions of the plate size
    dy: float = 0.0
    scale: float = 1.0
    wipe: float = 1.0  # visible fraction of the width (left to right)

    @property
    def identity(self) -> bool:
        return self == AnimState()


def anim_state(anim: Anim, t: float, start: float, end: float) -> AnimState:
    """Where an overlay is in its entrance / hold / exit at time t (seconds, absolute)."""
    d = max(anim.duration, 1e-6)
    t_in = t - start - anim.delay
    if t_in < 0:
        return AnimState(opacity=0.0)
    opacity, dx, dy, scale, wipe = 1.0, 0.0, 0.0, 1.0, 1.0
    if anim.enter != "none" and t_in < d:
        p = t_in / d
        e = ease("ease_out", p)
        if anim.enter == "fade":
            opacity = e
        elif anim.enter == "slide_up":
            opacity, dy = e, 0.35 * (1 - e)
        elif anim.enter == "slide_left":
            opacity, dx = e, 0.25 * (1 - e)
        elif anim.enter == "pop":
            opacity, scale = min(1.0, 2 * p), 0.6 + 0.4 * back_out(p)
        elif anim.enter == "wipe":
            wipe = e
    t_out = end - t
    if anim.exit != "none" and t_out < d:
        e = ease("ease_in", 1 - t_out / d)
        if anim.exit == "fade":
            opacity *= 1 - e
        elif anim.exit == "slide_down":
            opacity, dy = opacity * (1 - e), dy + 0.25 * e
        elif anim.exit == "pop":
            opacity, scale = opacity * (1 - e), scale * (1 - 0.3 * e)
    if anim.pulse and t_in >= d:
        scale *= 1 + 0.035 * math.sin(2 * math.pi * (t_in - d) / 1.2)
    return AnimState(max(0.0, min(1.0, opacity)), dx, dy, scale, wipe)


class Plate:
    """A pre-multiplied RGBA image ready to blend onto 4-channel (RGBX) frames: ``premult``
    and the alpha replicated over 4 channels (so blending is plain per-channel SIMD)."""

    def __init__(self, rgba: np.ndarray):
        rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
        self.rgba = rgba
        alpha = np.ascontiguousarray(rgba[:, :, 3])
        self.alpha3 = cv2.merge([alpha] * 4)
        # round(c * a / 255) in one saturating cv2 pass: equal, value for value, to
        # (c * a + 127) // 255 in uint16 (checked over all 65,536 pairs), ~4x faster: caption
        # and pulse plates are built while frames stream.
        premult = cv2.multiply(rgba, self.alpha3, scale=1 / 255.0)
        premult[:, :, 3] = alpha
        self.premult = premult
        self.inv3 = cv2.bitwise_not(self.alpha3)
        self.black = not premult[:, :, :3].any()  # a pure darkening scrim: multiply only

    def scaled(self, w: int, h: int) -> "Plate":
        """This plate resized (pop entrances, pulsing price tags and CTAs). Sizes repeat —
        a pulse is periodic — so each size is built once and cached on the plate."""
        if (w, h) == self.size:
            return self
        cache = self.__dict__.setdefault("_scaled", {})
        if (w, h) not in cache:
            if len(cache) > 96:
                cache.clear()
            cache[(w, h)] = Plate(cv2.resize(self.rgba, (w, h), interpolation=cv2.INTER_LINEAR))
        return cache[(w, h)]

    @classmethod
    def from_pil(cls, img: Image.Image) -> "Plate":
        return cls(np.asarray(img.convert("RGBA")))

    @property
    def size(self) -> tuple[int, int]:
        return self.rgba.shape[1], self.rgba.shape[0]

    def planes(self, px: int, py: int) -> "PlatePlanes":
        """This plate in Y'CbCr for a frame position of parity (px, py) = (x & 1, y & 1):
        pre-multiplied Y with its alpha, and pre-multiplied Cb/Cr with the alpha averaged over
        the frame's 2×2 chroma blocks (an odd position shifts which pixels share a block)."""
        cache = self.__dict__.setdefault("_planes", {})
        if (px, py) not in cache:
            cache[(px, py)] = PlatePlanes.of(self.rgba, px, py, cache.get("y"))
            cache["y"] = cache[(px, py)].shared
        return cache[(px, py)]


@dataclass(frozen=True)
class PlatePlanes:
    y: np.ndarray  # pre-multiplied Y, its alpha and 255 - alpha (full size)
    y_alpha: np.ndarray
    y_inv: np.ndarray
    u: np.ndarray  # pre-multiplied Cb and Cr, their alpha and 255 - alpha (half size)
    v: np.ndarray
    c_alpha: np.ndarray
    c_inv: np.ndarray
    shared: tuple  # (y, y_alpha, y_inv): the same arrays in every parity's entry

    @classmethod
    def of(cls, rgba: np.ndarray, px: int, py: int, shared: tuple | None = None) -> "PlatePlanes":
        h, w = rgba.shape[:2]
        alpha = np.ascontiguousarray(rgba[:, :, 3])
        # round(c * a / 255) per channel, as the RGBX plate pre-multiplies
        pre = cv2.multiply(yuv.ycc_image(rgba), cv2.merge([alpha] * 3), scale=1 / 255.0)
        if shared is None:  # Y does not depend on the parity: one copy for all four entries
            shared = (cv2.extractChannel(pre, 0), alpha, cv2.bitwise_not(alpha))
        # Cb, Cr and alpha laid on the frame's chroma grid (a transparent border fills the
        # blocks the plate only half covers), then each 2×2 block averaged.
        grid = cv2.copyMakeBorder(cv2.merge([pre[:, :, 1], pre[:, :, 2], alpha]), py, (h + py) & 1, px,
                                  (w + px) & 1, cv2.BORDER_CONSTANT, value=0)
        half = cv2.resize(grid, (grid.shape[1] // 2, grid.shape[0] // 2), interpolation=cv2.INTER_AREA)
        u, v, c_alpha = cv2.split(half)
        return cls(*shared, u, v, c_alpha, cv2.bitwise_not(c_alpha), shared)


def _blend_into(frame: np.ndarray, premult: np.ndarray, alpha: np.ndarray, inv: np.ndarray, x: int, y: int,
                opacity: float, black: bool = False) -> None:
    """frame[y.., x..] = frame × (255 − alpha)/255 + premult, clipped to the frame, in place."""
    fh, fw = frame.shape[:2]
    ph, pw = premult.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + pw), min(fh, y + ph)
    if x0 >= x1 or y0 >= y1:
        return
    sl = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
    region = frame[y0:y1, x0:x1]
    premult, inv = premult[sl], inv[sl]
    if opacity < 0.997:
        premult = cv2.convertScaleAbs(premult, alpha=opacity)
        inv = cv2.bitwise_not(cv2.convertScaleAbs(alpha[sl], alpha=opacity))
    # In place, no temporaries: a fresh multi-100-KB temporary per blend is an mmap and its page
    # faults, ~1,700 times per 15 s ad. Same saturating arithmetic as multiply-then-add.
    cv2.multiply(region, inv, dst=region, scale=1 / 255.0)
    if not black:
        cv2.add(region, premult, dst=region)


def blend(frame: np.ndarray | yuv.Planes, plate: Plate, x: int, y: int, opacity: float = 1.0) -> None:
    """Alpha-blend a plate onto the frame buffer at (x, y), clipped to the frame.

    The frame is the renderer's scratch buffer for one output frame, so it is written in
    place; plates are never modified."""
    if opacity <= 0.003:
        return
    if isinstance(frame, yuv.Planes):
        pp = plate.planes(x & 1, y & 1)
        _blend_into(frame.y, pp.y, pp.y_alpha, pp.y_inv, x, y, opacity)
        for plane, pre in ((frame.u, pp.u), (frame.v, pp.v)):
            _blend_into(plane, pre, pp.c_alpha, pp.c_inv, x >> 1, y >> 1, opacity)
        return
    _blend_into(frame, plate.premult, plate.alpha3, plate.inv3, x, y, opacity, plate.black)


def blend_animated(frame: np.ndarray | yuv.Planes, plate: Plate, x: int, y: int, state: AnimState,
                   scaled_cache: dict | None = None) -> None:
    """Blend with an entrance/exit state: offset, scale about the centre, wipe, opacity."""
    if state.opacity <= 0.003:
        return
    pw, ph = plate.size
    if state.scale != 1.0 or state.wipe < 1.0:
        nw, nh = max(1, round(pw * state.scale)), max(1, round(ph * state.scale))
        scaled = plate.scaled(nw, nh)
        if state.wipe < 1.0:
            rgba = scaled.rgba.copy()
            rgba[:, max(0, round(nw * state.wipe)):, 3] = 0
            scaled = Plate(rgba)
        x, y = x + (pw - nw) // 2, y + (ph - nh) // 2
        plate = scaled
    blend(frame, plate, x + round(state.dx * pw), y + round(state.dy * ph), state.opacity)


def place(plate_size: tuple[int, int], rect: tuple[int, int, int, int], align: str = "center",
          valign: str = "center") -> tuple[int, int]:
    """Top-left corner that puts a plate inside a rect by alignment."""
    pw, ph = plate_size
    x, y, w, h = rect
    px = x if align == "left" else x + w - pw if align == "right" else x + (w - pw) // 2
    py = y if valign == "top" else y + h - ph if valign == "bottom" else y + (h - ph) // 2
    return px, py


class RenderContext:
    """What every layer renderer may read: frame geometry, brand, and a decoded-image cache
    (each asset decoded once per render, however many layers use it)."""

    def __init__(self, *, width: int, height: int, fps: int, brand: BrandKit, assets_dir: Path,
                 safe_rect: tuple[int, int, int, int], duration: float):
        self.width, self.height, self.fps, self.brand = width, height, fps, brand
        self.assets_dir, self.safe_rect, self.duration = Path(assets_dir), safe_rect, duration
        self.ref = min(width, height)  # font sizes are fractions of the short side
        self._images: dict[str, np.ndarray] = {}

    def color(self, value: str | None) -> str | None:
        if value and value.startswith("brand."):
            return getattr(self.brand, value.split(".", 1)[1])
        return value

    def path(self, asset: str) -> Path:
        p = Path(asset)
        return p if p.is_absolute() else self.assets_dir / p

    def image(self, asset: str) -> np.ndarray:
        """Decoded RGBA uint8 image (cached). Frames are RGBX too: OpenCV warps and blends
        4-channel images ~3× faster than 3-channel ones (measured: 7.8 vs 22 ms per 1080×1920 warp)."""
        if asset not in self._images:
            p = self.path(asset)
            if not p.is_file():
                raise FileNotFoundError(f"timeline asset not found: {p}")
            try:
                with Image.open(p) as im:
                    self._images[asset] = np.asarray(im.convert("RGBA")).copy()
            except (OSError, Image.DecompressionBombError) as exc:
                raise ValueError(f"timeline asset {p} is not a readable image: {exc}") from exc
        return self._images[asset]


RENDERERS: dict[str, type] = {}


def register(*types: str):
    """Register a renderer class for layer ``type`` names (editly-style sources)."""
    def deco(cls):
        for t in types:
            RENDERERS[t] = cls
        return cls
    return deco


class LayerRenderer:
    """Prepare once (decode, draw static plates) in ``__init__``; ``draw(frame, t)`` per frame."""

    def __init__(self, layer, ctx: RenderContext):
        self.layer, self.ctx = layer, ctx

    def active(self, t: float) -> bool:
        return self.layer.start <= t < self.layer.end

    def draw(self, frame: np.ndarray, t: float) -> None:  # pragma: no cover - interface
        """Paint the layer at t onto ``frame``: an RGBX array, or ``yuv.Planes`` when
        ``planes_ok(t)`` said so."""
        raise NotImplementedError

    def planes_ok(self, t: float) -> bool:
        """Whether ``draw`` can paint straight into ``yuv.Planes`` at t. A frame is drawn in
        planes only when every layer can; otherwise in RGBX and converted (always correct)."""
        return False

    def hold_key(self, t: float):
        """A hashable value such that equal keys mean ``draw`` paints identical pixels over an
        identical frame (the compositor then reuses the composed result); None when the layer
        moves at ``t``. Default: always redrawn."""
        return None


class AnimatedPlateRenderer(LayerRenderer):
    """A prepared ``plate`` at ``pos``, animated by the layer's ``anim`` (text, product, logo)."""

    plate: Plate
    pos: tuple[int, int]

    def draw(self, frame, t):
        blend_animated(frame, self.plate, *self.pos, anim_state(self.layer.anim, t, self.layer.start, self.layer.end))

    def planes_ok(self, t):
        return True

    def hold_key(self, t):
        return anim_state(self.layer.anim, t, self.layer.start, self.layer.end)  # frozen: same state, same pixels
