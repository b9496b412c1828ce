"""RGBX frames to the encoder's own format: BT.709 TV-range yuv420p (I420), in-process.

The compositor draws RGBX (OpenCV warps and blends 4-channel images fastest). ffmpeg's
swscale (Debian's 5.1) turns one 1080×1920 rgb0 frame into yuv420p in ~8.5 ms of plain C;
the same conversion with OpenCV's fixed-point SIMD kernels takes ~2.6 ms, and the pipe then
carries 3 MiB per frame instead of 8. Measured on 450 frames of the bench ad: the encoder
alone spent 15.1 CPU-s on rgb0 input and 11.0 on yuv420p.

Steps per frame: RGBX → RGB (drop the padding), one 3×4 affine colour transform to full-size
Y'CbCr (Y within 0.61 of the exact value), Y copied out, and Cb/Cr averaged over each 2×2
block (``INTER_AREA``). Averaging puts each chroma sample at the centre of its block, so the
stream says ``chroma_sample_location=center``.
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
        self._matrix = bt709_tv_matrix().astype(np.float32)
        self._rgb = np.empty((height, width, 3), np.uint8)
        self._ycc = np.empty((height, width, 3), np.uint8)
        self._half = np.empty((height // 2, width // 2, 3), np.uint8)

    def buffer(self) -> np.ndarray:
        return np.empty(self.frame_bytes, np.uint8)

    def planes(self, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of a buffer's Y, Cb and Cr planes."""
        w, h = self.width, self.height
        n = w * h
        return (buf[:n].reshape(h, w), buf[n:n + n // 4].reshape(h // 2, w // 2),
                buf[n + n // 4:].reshape(h // 2, w // 2))

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
