"""Scale-and-translate one image plane with ``cv2.resize``: the Ken Burns hot path.

``cv2.warpAffine`` computes a source coordinate for every pixel. A zoom's coordinates are
separable (a column's x is the same on every row), and ``cv2.resize`` computes them once per
row and once per column: a 1080×1920 Y plane takes ~1.5 ms instead of ~3.7 ms.

resize has no offset argument, though. Output pixel k of a crop that starts at source column
o samples ``o + (k + 0.5) / s - 0.5``. Dropping the first m output pixels adds ``m / s``,
whose fractional part moves by ``1/s - 1`` per step, so trying m = 0..SPAN usually finds an
integer crop origin and an output offset that land within ``TOLERANCE`` (1/32 px, the grid
warpAffine itself rounds source coordinates to) of the wanted offset; the smallest such m is
taken, and only m extra rows/columns are computed. When none does (1/s near a fraction with
a small denominator: at 6/5 the offsets come in steps of 0.2 px; ~1 plane in 12 of the bench
ad), near s = 1 where the step vanishes, and for enlargements, the plane goes to warpAffine.
"""
from __future__ import annotations

import functools
import math

import cv2
import numpy as np

SPAN = 64  # output offsets tried for the sub-pixel offset
S_MAX = 0.96  # above this scale (and for any enlargement) warpAffine does the zoom
TOLERANCE = 1 / 32  # source pixels
_M = np.arange(SPAN + 1)


@functools.lru_cache(maxsize=8)  # Cb and Cr ask the same question
def _origin(c: float, s: float, lo: int) -> tuple[int, int, float]:
    """Integer crop origin o >= lo and output offset m with o + (m + 0.5)/s - 0.5 within
    TOLERANCE of c, the smallest such m (else the closest), and how far from c that is."""
    base = (_M + 0.5) / s - 0.5
    o = np.round(c - base)
    err = np.where(o >= lo, np.abs(o + base - c), np.inf)
    within = np.flatnonzero(err <= TOLERANCE)
    m = int(within[0]) if within.size else int(np.argmin(err))
    return int(o[m]), m, float(err[m])


class Zoomer:
    """One uint8 plane, padded once by reflection, zoomed into destination planes:
    ``dst[j, i] = plane((i - tx) / s, (j - ty) / s)``, bilinear — ``cv2.warpAffine`` with the
    matrix ``[[s, 0, tx], [0, s, ty]]`` and ``BORDER_REFLECT``, to within 2 levels."""

    def __init__(self, plane: np.ndarray, *, s_min: float):
        if plane.ndim != 2 or plane.dtype != np.uint8:
            raise ValueError("Zoomer takes one uint8 plane")
        self.pad = math.ceil((SPAN + 4) / max(s_min, 0.05)) + 2
        p = self.pad
        self.padded = cv2.copyMakeBorder(plane, p, p, p, p, cv2.BORDER_REFLECT)
        self.plane = self.padded[p:-p, p:-p]
        self._scratch = np.empty(0, np.uint8)  # resize's output, reused (slides change its size per frame)

    def render(self, s: float, tx: float, ty: float, dst: np.ndarray) -> np.ndarray:
        h, w = dst.shape
        if s <= S_MAX:
            ox, mx, ex = _origin(-tx / s, s, -self.pad)
            oy, my, ey = _origin(-ty / s, s, -self.pad)
            # Two more than needed: resize replicates the crop's last pixel for its last outputs.
            W, H = w + mx + 2, h + my + 2
            nx, ny = round(W / s), round(H / s)  # resize gives exactly W×H from these (s < 1)
            x0, y0 = ox + self.pad, oy + self.pad
            if (max(ex, ey) <= TOLERANCE and x0 + nx <= self.padded.shape[1]
                    and y0 + ny <= self.padded.shape[0]):
                if self._scratch.size < H * W:
                    self._scratch = np.empty(H * W, np.uint8)
                out = self._scratch[:H * W].reshape(H, W)
                cv2.resize(self.padded[y0:y0 + ny, x0:x0 + nx], None, dst=out, fx=s, fy=s,
                           interpolation=cv2.INTER_LINEAR)
                np.copyto(dst, out[my:my + h, mx:mx + w])
                return dst
        m = np.float32([[s, 0, tx], [0, s, ty]])
        out = cv2.warpAffine(self.plane, m, (w, h), dst=dst, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if not np.may_share_memory(out, dst):  # OpenCV could not write into the view
            np.copyto(dst, out)
        return dst
