"""`shot` / `image` layers: a picture filling its rect with Ken Burns motion and a transition in.

The source is resized once, a little beyond the largest size the motion needs, so each frame
only ever shrinks it slightly (scale <= ``S_TOP``): sub-pixel exact, no zoompan jitter. Into
RGBX that is one ``cv2.warpAffine``; into the encoder's planes it is one ``zoom.Zoomer`` per
plane (separable, ~3× cheaper, and no colour conversion after). A picture whose aspect is far
from the frame's (a portrait shot in 16:9) is shown whole over a blurred, darkened cover of
itself instead of being cropped to a sliver (drawn in RGBX).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .. import yuv
from ..zoom import Zoomer
from .base import LayerRenderer, ease, register

S_TOP = 0.92  # the largest scale a frame shows the prepared source at (see zoom.S_MAX)


def _slide_offset(w: int, e: float) -> int:
    """How far from the left a sliding picture's edge still is: whole chroma blocks (an even
    number of pixels), in RGBX and in planes alike."""
    return 2 * round(w * (1 - e) / 2)


def _cover_scale(src_w: int, src_h: int, w: int, h: int) -> float:
    return max(w / src_w, h / src_h)


class KenBurns:
    """Per-frame affine warp of one image into a w×h box (zoom about an eased focal point)."""

    def __init__(self, rgb: np.ndarray, w: int, h: int, motion):
        self.w, self.h, self.motion = w, h, motion
        zoom = motion.zoom if motion.kind == "ken_burns" else (1.0, 1.0)
        s = _cover_scale(rgb.shape[1], rgb.shape[0], w, h) * max(zoom) / S_TOP
        size = (max(1, math.ceil(rgb.shape[1] * s)), max(1, math.ceil(rgb.shape[0] * s)))
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
        self.src = np.ascontiguousarray(cv2.resize(rgb, size, interpolation=interp))
        self.base = _cover_scale(size[0], size[1], w, h)  # scale at zoom 1.0 (< 1)
        self.s_min = self.base * min(zoom)
        self._zoomers: tuple[Zoomer, Zoomer, Zoomer] | None = None

    def matrix(self, p: float) -> np.ndarray:
        m = self.motion
        e = ease(m.easing, p) if m.kind == "ken_burns" else 0.0
        zoom = m.zoom[0] + (m.zoom[1] - m.zoom[0]) * e if m.kind == "ken_burns" else 1.0
        (fx0, fy0), (fx1, fy1) = m.focus if m.kind == "ken_burns" else ((0.5, 0.5), (0.5, 0.5))
        fx, fy = fx0 + (fx1 - fx0) * e, fy0 + (fy1 - fy0) * e
        s = self.base * zoom
        sw, sh = self.src.shape[1] * s, self.src.shape[0] * s
        # Centre the focal point, then clamp so the picture always covers the box.
        tx = min(0.0, max(self.w - sw, self.w / 2 - fx * sw))
        ty = min(0.0, max(self.h - sh, self.h / 2 - fy * sh))
        return np.float32([[s, 0, tx], [0, s, ty]])

    def render(self, p: float, dst: np.ndarray | None = None, *, then: np.ndarray | None = None) -> np.ndarray:
        """The w×h picture at progress p, into ``dst`` when given; a narrower ``dst`` gets the
        picture's first columns only (the same pixels, less work). ``then`` (a 2×3 scale +
        translate in the box's pixels, e.g. a zoom transition) is folded into the same warp."""
        m = self.matrix(p)
        if then is not None:
            m = np.float32([[then[0, 0] * m[0, 0], 0, then[0, 0] * m[0, 2] + then[0, 2]],
                            [0, then[1, 1] * m[1, 1], then[1, 1] * m[1, 2] + then[1, 2]]])
        return cv2.warpAffine(self.src, m, (self.w if dst is None else dst.shape[1], self.h), dst=dst,
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def render_planes(self, p: float, dst: yuv.Planes, *, then: np.ndarray | None = None) -> yuv.Planes:
        """``render`` into Y'CbCr planes (the box's first columns when ``dst`` is narrower)."""
        m = self.matrix(p)
        s, tx, ty = float(m[0, 0]), float(m[0, 2]), float(m[1, 2])
        if then is not None:
            s, tx, ty = then[0, 0] * s, then[0, 0] * tx + then[0, 2], then[1, 1] * ty + then[1, 2]
        zy, zu, zv = self._planes()
        zy.render(s, tx, ty, dst.y)
        cx, cy = yuv.chroma_translation(tx, s), yuv.chroma_translation(ty, s)
        zu.render(s, cx, cy, dst.u)
        zv.render(s, cx, cy, dst.v)
        return dst

    def _planes(self) -> tuple[Zoomer, Zoomer, Zoomer]:
        """The prepared source as Y, Cb and Cr, built on first use (an odd side is extended by
        one replicated pixel so every chroma block is whole)."""
        if self._zoomers is None:
            h, w = self.src.shape[:2]
            even = cv2.copyMakeBorder(self.src, 0, h & 1, 0, w & 1, cv2.BORDER_REPLICATE)
            conv = yuv.I420(even.shape[1], even.shape[0])
            y, u, v = conv.planes(conv.convert(even))
            self._zoomers = tuple(Zoomer(c, s_min=self.s_min) for c in (y[:h, :w], u, v))
        return self._zoomers


@register("shot", "image")
class ShotRenderer(LayerRenderer):
    def __init__(self, layer, ctx):
        super().__init__(layer, ctx)
        rgb = ctx.image(layer.asset).copy()
        rgb[:, :, 3] = 255  # RGBX: opaque picture
        x, y, w, h = layer.rect
        fit = layer.fit
        if fit == "auto":
            ratio = (rgb.shape[1] / rgb.shape[0]) / (w / h)
            fit = "cover" if abs(math.log(ratio)) < math.log(1.35) else "contain_blur"
        self.background = self.static = None
        if fit == "blur":  # a soft, brand-tinted backdrop behind a product card: static, drawn once
            tint = [int(ctx.brand.secondary[i:i + 2], 16) for i in (1, 3, 5)] + [255]
            self.static = self._blurred_cover(rgb, w, h, dim=0.6, tint=(tint, 0.4))
            self.kb = None
        elif fit == "contain_blur":
            self.background = self._blurred_cover(rgb, w, h)
            fw, fh = self._contain(rgb.shape[1], rgb.shape[0], w, h)
            # Landscape frames keep the left side for text: the picture sits on the right.
            fx = w - fw - round(0.06 * w) if w > h else (w - fw) // 2
            self.fg_rect = (fx, (h - fh) // 2, fw, fh)
            self._frame_card(w, h)
            self.kb = KenBurns(rgb, fw, fh, layer.motion.model_copy(update={"zoom": (1.0, min(1.06, max(layer.motion.zoom)))}))
        else:
            self.fg_rect = (0, 0, w, h)
            self.kb = KenBurns(rgb, w, h, layer.motion)
        self.full = (x, y, w, h) == (0, 0, ctx.width, ctx.height)
        self._tmp = np.empty((h, w, 4), np.uint8)
        # Into planes: a picture (or a still backdrop) filling a rect on the chroma grid.
        self._planes_ok = self.background is None and not (x | y | w | h) & 1
        self._tmp_planes: yuv.Planes | None = None
        self._static_planes: yuv.Planes | None = None

    def _frame_card(self, w: int, h: int) -> None:
        """Bake a soft shadow under the contained picture into the static background, and
        remember its rounded-corner mask (applied per frame on the four corner patches only)."""
        fx, fy, fw, fh = self.fg_rect
        r = max(2, round(min(fw, fh) * 0.04))
        shadow = np.zeros((h, w), np.float32)
        off = max(1, r // 2)
        cv2.rectangle(shadow, (fx + off, fy + off * 2), (fx + fw - 1 + off, fy + fh - 1 + off * 2), 1.0, -1)
        shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, r * 1.2)) * 0.55
        self.background = np.ascontiguousarray((self.background * (1 - shadow[..., None])).astype(np.uint8))
        self.background[:, :, 3] = 255
        corner = np.zeros((r, r), np.uint8)
        cv2.circle(corner, (r, r), r, 255, -1, lineType=cv2.LINE_AA)
        self.corner = np.repeat(corner[..., None], 4, axis=2)  # alpha of the picture in the top-left patch
        self.radius = r

    def _round_corners(self, dst: np.ndarray) -> None:
        fx, fy, fw, fh = self.fg_rect
        r, a = self.radius, self.corner
        for flip_y, flip_x in ((False, False), (False, True), (True, False), (True, True)):
            ys = slice(fy + fh - r, fy + fh) if flip_y else slice(fy, fy + r)
            xs = slice(fx + fw - r, fx + fw) if flip_x else slice(fx, fx + r)
            m = a[::-1 if flip_y else 1, ::-1 if flip_x else 1]
            fg, bg = dst[ys, xs], self.background[ys, xs]
            dst[ys, xs] = ((fg.astype(np.uint16) * m + bg.astype(np.uint16) * (255 - m)) // 255).astype(np.uint8)

    @staticmethod
    def _contain(sw, sh, w, h, margin=0.9):
        s = min(w * margin / sw, h * margin / sh)
        return max(2, round(sw * s)), max(2, round(sh * s))

    @staticmethod
    def _blurred_cover(rgb, w, h, dim=0.55, tint=None):
        """The picture covering w×h, blurred, dimmed (and mixed with a ``(rgba, weight)`` tint).
        Dimming and tinting are linear, so they are done on the 1/8-size blurred image before
        the bilinear upscale: no full-size float pass (it cost ~0.1 s per shot)."""
        s = _cover_scale(rgb.shape[1], rgb.shape[0], w, h)
        small = cv2.resize(rgb, (max(1, round(rgb.shape[1] * s / 8)), max(1, round(rgb.shape[0] * s / 8))),
                           interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), 3).astype(np.float32) * dim
        if tint is not None:
            small += np.float32(tint[0]) * tint[1]
        small = np.clip(small, 0, 255).astype(np.uint8)
        small[:, :, 3] = 255
        big = cv2.resize(small, (math.ceil(rgb.shape[1] * s), math.ceil(rgb.shape[0] * s)), interpolation=cv2.INTER_LINEAR)
        ox, oy = (big.shape[1] - w) // 2, (big.shape[0] - h) // 2
        return np.ascontiguousarray(big[oy:oy + h, ox:ox + w])

    def _compose(self, p: float, dst: np.ndarray) -> np.ndarray:
        if self.static is not None:
            dst[:] = self.static
            return dst
        if self.background is None:
            return self.kb.render(p, dst)
        dst[:] = self.background
        fx, fy, fw, fh = self.fg_rect
        dst[fy:fy + fh, fx:fx + fw] = self.kb.render(p)
        self._round_corners(dst)
        return dst

    def planes_ok(self, t):
        return self._planes_ok

    def _scratch_planes(self) -> yuv.Planes:
        if self._tmp_planes is None:
            self._tmp_planes = yuv.Planes.empty(self.layer.rect[2], self.layer.rect[3])
        return self._tmp_planes

    def _still_planes(self) -> yuv.Planes:
        """The still backdrop (``fit="blur"``) converted once."""
        if self._static_planes is None:
            conv = yuv.I420(self.static.shape[1], self.static.shape[0])
            self._static_planes = conv.frame(conv.convert(self.static))
        return self._static_planes

    def _compose_planes(self, p: float, dst: yuv.Planes) -> yuv.Planes:
        if self.static is None:
            return self.kb.render_planes(p, dst)
        dst.copy_from(self._still_planes())
        return dst

    def _draw_planes(self, frame: yuv.Planes, t: float) -> None:
        """``draw`` into planes: the same paths, per plane."""
        layer = self.layer
        p = (t - layer.start) / (layer.end - layer.start)
        x, y, w, h = layer.rect
        region = frame if self.full else frame.region(x, y, w, h)
        tr = layer.transition
        q = (t - layer.start) / tr.duration if tr.type != "cut" and tr.duration > 0 else 1.0
        if q >= 1.0:
            self._compose_planes(p, region)
            return
        e = ease("ease_in_out", q)
        if tr.type == "slide":
            off = _slide_offset(w, e)
            if off < w:
                if self.kb is not None:
                    self.kb.render_planes(p, region.columns(off))
                else:
                    for (a, _), (b, _) in zip(region.columns(off).each(), self._still_planes().each()):
                        np.copyto(a, b[:, :a.shape[1]])
            return
        img = self._scratch_planes()
        if tr.type == "zoom":
            z = 1.0 + 0.25 * (1 - e)
            m = np.float32([[z, 0, w / 2 * (1 - z)], [0, z, h / 2 * (1 - z)]])
            if self.kb is not None:
                self.kb.render_planes(p, img, then=m)
            else:
                for (a, chroma), (b, _) in zip(img.each(), self._still_planes().each()):
                    c = m.copy()
                    if chroma:  # the same zoom about the same point, on the chroma grid
                        c[:, 2] = yuv.chroma_translation(c[:, 2], z)
                    cv2.warpAffine(b, c, (a.shape[1], a.shape[0]), dst=a, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT)
        else:
            self._compose_planes(p, img)
        for (a, _), (b, _) in zip(region.each(), img.each()):  # crossfade / zoom: fade in over what is there
            cv2.addWeighted(a, 1 - e, b, e, 0, dst=a)

    def hold_key(self, t):
        """Still once its transition is over: an end card's blurred backdrop, or no motion."""
        layer, tr = self.layer, self.layer.transition
        if tr.type != "cut" and tr.duration > 0 and t - layer.start < tr.duration:
            return None
        return "still" if self.static is not None or layer.motion.kind != "ken_burns" else None

    def draw(self, frame: np.ndarray | yuv.Planes, t: float) -> None:
        if isinstance(frame, yuv.Planes):
            self._draw_planes(frame, t)
            return
        layer = self.layer
        p = (t - layer.start) / (layer.end - layer.start)
        x, y, w, h = layer.rect
        tr = layer.transition
        q = (t - layer.start) / tr.duration if tr.type != "cut" and tr.duration > 0 else 1.0
        if q >= 1.0:
            if self.full:
                self._compose(p, frame)
            else:
                frame[y:y + h, x:x + w] = self._compose(p, self._tmp)
            return
        e = ease("ease_in_out", q)
        region = frame[y:y + h, x:x + w]
        if tr.type == "zoom":
            z = 1.0 + 0.25 * (1 - e)
            m = np.float32([[z, 0, w / 2 * (1 - z)], [0, z, h / 2 * (1 - z)]])
            if self.kb is not None and self.background is None:
                # Ken Burns then zoom is one scale + translate: a single warp of the source
                # (half the work, and one resampling instead of two).
                zoomed = self.kb.render(p, self._tmp, then=m)
            else:
                zoomed = cv2.warpAffine(self._compose(p, self._tmp), m, (w, h), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REFLECT)
            cv2.addWeighted(region, 1 - e, zoomed, e, 0, dst=region)
            return
        if tr.type == "slide" and self.kb is not None and self.background is None:
            # Only the part that has slid in is visible: warp just those columns, straight into
            # the frame (the same pixels as warping the whole box and copying its left part).
            off = _slide_offset(w, e)
            if off < w:
                shown = self.kb.render(p, region[:, off:])
                if not np.may_share_memory(shown, region):  # OpenCV could not write into the view
                    region[:, off:] = shown
            return
        img = self._compose(p, self._tmp)
        if tr.type == "crossfade":
            cv2.addWeighted(region, 1 - e, img, e, 0, dst=region)
        elif tr.type == "slide":
            off = _slide_offset(w, e)
            region[:, off:] = img[:, :w - off]
