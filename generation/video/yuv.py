"""RGBX frames to the encoder's own format: BT.709 TV-range yuv420p (I420), in-process.

A frame the compositor draws in RGBX (a layer that cannot draw planes) is converted here. ffmpeg's
swscale (Debian's 5.1) turns one 1080×1920 rgb0 frame into yuv420p in ~8.5 ms of plain C;
the same conversion with OpenCV's fixed-point SIMD kernels takes ~2.6 ms, and the pipe then
carries 3 MiB per frame instead of 8. Measured on 450 frames of the bench ad: the encoder
alone spent 15.1 CPU-s on rgb0 input and 11.0 on yuv420p.

Steps per frame: RGBX → RGB (drop the padding), one 3×4 affine colour transform to full-size
Y'CbCr (Y within 0.61 of the exact value), Y copied out, and Cb/Cr averaged over each 2×2
block (``INTER_AREA``). Averaging puts each chroma sample at the centre of its block, so the
stream says ``chroma_sample_location=center``.

Most frames never exist in RGBX at all: the compositor draws them straight into ``Planes``
(views of one I420 buffer). The colour transform is affine, so a picture zoomed, faded or
alpha-blended in Y'CbCr is the transform of the same operation in RGB; only chroma differs
at sharp edges, where blending happens after the 2×2 average instead of before it.
"""
from __future__ import annotations

import cv2
import numpy as np

KR, KB = 0.2126, 0.0722  # BT.709 luma weights of R and B
KG = 1.0 - KR - KB


def bt709_tv_matrix() -> np.ndarray:
    """The 3×4 affine map from 8-bit R'G'B' to 8-bit TV-range Y'CbCr (BT.709):
    Y' in 16..235, Cb and Cr in 16..240 around 128."""
    m = np.array([
        [KR, KG, KB],
        [-KR / (2 * (1 - KB)), -KG / (2 * (1 - KB)), 0.5],
        [0.5, -KG / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
    ])
    m[0] *= 219 / 255
    m[1:] *= 224 / 255
    return np.hstack([m, [[16.0], [128.0], [128.0]]])


class I420:
    """Converts RGBX frames of one size into I420 frames: flat uint8 buffers holding the Y
    plane, then Cb, then Cr (the layout of ffmpeg's ``-pix_fmt yuv420p`` raw input).
    Keeps its scratch buffers, so converting allocates nothing; one converter per thread."""

    def __init__(self, width: int, height: int):
        if width % 2 or height % 2:
            raise ValueError(f"I420 needs even sides, got {width}x{height}")
        self.width, self.height = width, height
        self.frame_bytes = width * height * 3 // 2
        self._matrix = _MATRIX
        self._rgb = np.empty((height, width, 3), np.uint8)
        self._ycc = np.empty((height, width, 3), np.uint8)
        self._half = np.empty((height // 2, width // 2, 3), np.uint8)

    def buffer(self) -> np.ndarray:
        return np.empty(self.frame_bytes, np.uint8)

    def planes(self, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of a buffer's Y, Cb and Cr planes."""
        return split(buf, self.width, self.height)

    def convert(self, rgbx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``rgbx`` (H×W×4, the 4th channel ignored) as I420, written into ``out``."""
        if rgbx.shape != (self.height, self.width, 4):
            raise ValueError(f"frame is {rgbx.shape}, expected {(self.height, self.width, 4)}")
        out = self.buffer() if out is None else out
        y, cb, cr = self.planes(out)
        cv2.cvtColor(rgbx, cv2.COLOR_RGBA2RGB, dst=self._rgb)
        cv2.transform(self._rgb, self._matrix, dst=self._ycc)  # 3-channel uint8: the SIMD path
        cv2.extractChannel(self._ycc, 0, dst=y)
        cv2.resize(self._ycc, (self.width // 2, self.height // 2), dst=self._half, interpolation=cv2.INTER_AREA)
        cv2.extractChannel(self._half, 1, dst=cb)
        cv2.extractChannel(self._half, 2, dst=cr)
        return out

    def frame(self, buf: np.ndarray) -> "Planes":
        return Planes(*self.planes(buf), buf=buf)


class Planes:
    """A frame (or a rectangle of one) as three writable planes: full-size Y, half-size Cb and
    Cr whose sample (i, j) covers pixels (2i..2i+1, 2j..2j+1). ``buf`` is the flat I420 buffer
    behind a whole frame (None for a region)."""

    __slots__ = ("y", "u", "v", "buf")

    def __init__(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, buf: np.ndarray | None = None):
        self.y, self.u, self.v, self.buf = y, u, v, buf

    @classmethod
    def empty(cls, width: int, height: int) -> "Planes":
        buf = np.empty(width * height * 3 // 2, np.uint8)
        return cls(*split(buf, width, height), buf=buf)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y.shape

    def region(self, x: int, y: int, w: int, h: int) -> "Planes":
        """Views of the rectangle (x, y, w, h); every side must be even."""
        if (x | y | w | h) & 1:
            raise ValueError(f"a plane region needs even coordinates, got {(x, y, w, h)}")
        return Planes(self.y[y:y + h, x:x + w], self.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2],
                      self.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2])

    def columns(self, x0: int) -> "Planes":
        """Views of columns x0.. (x0 even)."""
        h, w = self.y.shape
        return self.region(x0, 0, w - x0, h)

    def each(self):
        """(plane, is_chroma) pairs."""
        return ((self.y, False), (self.u, True), (self.v, True))

    def fill(self, rgb) -> None:
        yy, cb, cr = ycc(rgb)
        self.y.fill(yy)
        self.u.fill(cb)
        self.v.fill(cr)

    def copy_from(self, other: "Planes") -> None:
        if self.buf is not None and other.buf is not None:
            np.copyto(self.buf, other.buf)
            return
        for dst, src in zip((self.y, self.u, self.v), (other.y, other.u, other.v)):
            np.copyto(dst, src)

    def to_rgb(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """The RGB picture (H×W×3 uint8), or resized to ``size`` (w, h) on the way: each plane
        brought to that size (averaged down, bilinear up), then the inverse BT.709 TV-range
        transform."""
        h, w = self.y.shape
        size = size or (w, h)

        def fit(plane):  # averaged down, bilinear up
            if plane.shape[::-1] == size:
                return plane
            shrinking = size[0] < plane.shape[1]
            return cv2.resize(plane, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)

        return cv2.transform(cv2.merge([fit(self.y), fit(self.u), fit(self.v)]), _INVERSE)


def split(buf: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a flat I420 buffer's Y, Cb and Cr planes."""
    n = width * height
    return (buf[:n].reshape(height, width), buf[n:n + n // 4].reshape(height // 2, width // 2),
            buf[n + n // 4:].reshape(height // 2, width // 2))


def chroma_translation(t: float, s: float) -> float:
    """The translation on the half-size chroma grid of a warp that scales by s and translates
    the full-size picture by t: chroma sample i stands for pixel 2i + 0.5, in the frame and in
    the source alike."""
    return t / 2 - 0.25 + 0.25 * s


def ycc(rgb) -> tuple[int, int, int]:
    """An 8-bit R'G'B' colour as 8-bit TV-range Y'CbCr (BT.709), rounded."""
    y, cb, cr = _MATRIX64 @ np.array([*rgb[:3], 1.0])
    return tuple(int(min(255, max(0, round(c)))) for c in (y, cb, cr))


def _inverse(m: np.ndarray) -> np.ndarray:
    a = np.linalg.inv(m[:, :3])
    return np.hstack([a, -(a @ m[:, 3:])]).astype(np.float32)


_MATRIX64 = bt709_tv_matrix()
_MATRIX = _MATRIX64.astype(np.float32)
_INVERSE = _inverse(_MATRIX64)


def ycc_image(rgb: np.ndarray) -> np.ndarray:
    """An RGB (or RGBA/RGBX: the 4th channel is ignored) image as full-size 8-bit Y'CbCr
    (H×W×3 uint8; OpenCV's fixed-point SIMD transform, as in ``I420.convert``)."""
    if rgb.shape[2] == 4:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_RGBA2RGB)
    return cv2.transform(np.ascontiguousarray(rgb), _MATRIX)
