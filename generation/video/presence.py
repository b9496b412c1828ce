"""Product presence on the final frames: the render stage's quality gate.

The frames are the encoded ones: a ``FrameSampler`` given to ``render(on_frame=...)`` keeps
small copies of the sampled frames as they stream to the encoder (no second composition after
the encode; without one, the same compositor draws them again), and the product's own photo is
looked for in each, on two threads (OpenCV's matcher releases the GIL): the cut-out product
(its mask, so a new backdrop does not matter) is matched at several scales with masked
normalised cross-correlation. Scaling (Ken Burns, cards) keeps its aspect, so a scale sweep
finds it; text over the product lowers the score, which is the point. A job whose product is
visible for less than ``threshold`` of its duration fails its gate with a readable reason.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

WORK_SHORT_SIDE = 112  # frames are matched at this size: fast, and plenty for a product
MIN_SCORE = 0.6
THRESHOLD = 0.8


@dataclass
class Presence:
    ok: bool
    share: float  # fraction of sampled frames where the product was found
    threshold: float
    samples: int
    reason: str = ""
    scores: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _gray_small(rgb: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)


class ProductMatcher:
    """Finds one picture (cut out by its mask) in frames, at any scale it fits."""

    def __init__(self, image: Path | str, *, scales: int = 14):
        from generation.images.cutout import cut_out

        cut = cut_out(image)
        self.rgb, self.mask = cut.rgb, cut.mask
        self.scales = scales
        self._templates: dict[tuple[int, int], tuple] = {}

    def _template(self, tw: int, th: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The product and its mask at one size (None: match unmasked). A video's frames all
        have one size, so each scale is resized once, not once per frame (~20 % of the gate's
        matching time). Two threads may build the same entry: both get equal arrays."""
        key = (tw, th)
        if key not in self._templates:
            import cv2

            tmpl = cv2.resize(self.rgb, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32)
            mask = cv2.resize(self.mask.astype(np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST)
            if mask.sum() < 0.2 * tw * th:
                mask = np.ones_like(mask)
            # a rectangular picture: the unmasked (FFT) path is much faster
            mask3 = None if mask.mean() > 0.97 else np.repeat(mask[:, :, None], 3, axis=2).astype(np.float32)
            self._templates[key] = (tmpl, mask3)
        return self._templates[key]

    def score(self, frame: np.ndarray, *, stop_at: float | None = None) -> float:
        """Best masked correlation (−1..1) of the product anywhere in ``frame`` (HxWx3, any
        size; one already at WORK_SHORT_SIDE is used as is); returns as soon as a scale
        reaches ``stop_at``."""
        import cv2

        small = shrink(frame)
        sh, sw = small.shape[:2]
        ph, pw = self.rgb.shape[:2]
        best = -1.0
        for s in np.geomspace(1.0, 0.12, self.scales):  # large first: shots and cards show the product big
            k = s * min(sh / ph, sw / pw)  # the product's height (or width) as a share of the frame's
            th, tw = round(ph * k), round(pw * k)
            if th < 8 or tw < 8 or th > sh or tw > sw:
                continue
            tmpl, mask3 = self._template(tw, th)
            if mask3 is None:
                res = cv2.matchTemplate(small, tmpl, cv2.TM_CCOEFF_NORMED)
            else:
                res = cv2.matchTemplate(small, tmpl, cv2.TM_CCOEFF_NORMED, mask=mask3)
            res = np.nan_to_num(res, nan=-1.0, posinf=-1.0, neginf=-1.0)
            best = max(best, float(res.max()))
            if stop_at is not None and best >= stop_at:
                break
        return best


def shrink(frame) -> np.ndarray:
    """A frame (RGB, RGBX or ``yuv.Planes``) at the matching size (short side
    WORK_SHORT_SIDE), float32 RGB."""
    from .yuv import Planes

    fh, fw = frame.shape[:2]
    if isinstance(frame, Planes):  # shrunk plane by plane, converted at the small size
        f = WORK_SHORT_SIDE / min(fh, fw)
        return frame.to_rgb((max(1, round(fw * f)), max(1, round(fh * f)))).astype(np.float32)
    if min(fh, fw) == WORK_SHORT_SIDE and frame.dtype == np.float32:
        return frame[:, :, :3]
    if frame.ndim == 3 and frame.shape[2] == 4 and frame.flags.c_contiguous:
        # An RGBX frame is averaged as it is and X dropped after: the same pixels as shrinking
        # its RGB view, without OpenCV first copying that strided view (17 -> 7 ms a frame).
        return np.ascontiguousarray(_gray_small(frame, WORK_SHORT_SIDE / min(fh, fw))[:, :, :3])
    return _gray_small(frame[:, :, :3], WORK_SHORT_SIDE / min(fh, fw))


def sample_times(duration: float, fps: float) -> list[float]:
    n = max(3, int(duration * fps))
    return [round((k + 0.5) * duration / n, 3) for k in range(n)]


def sample_frames(timeline, fps: float = 2.0) -> list[int]:
    """Indices of the video frames shown at the sample times."""
    last = timeline.n_frames - 1
    return sorted({min(last, int(t * timeline.fps)) for t in sample_times(timeline.duration, fps)})


class FrameSampler:
    """``render(..., on_frame=sampler)``: keeps shrunk copies of the sampled frames as they
    stream to the encoder, for ``product_presence(..., frames=sampler.frames)``."""

    def __init__(self, timeline, fps: float = 2.0):
        self.wanted = set(sample_frames(timeline, fps))
        self.frames: dict[int, np.ndarray] = {}

    def __call__(self, k: int, frame: np.ndarray) -> None:
        if k in self.wanted:
            self.frames[k] = shrink(frame)


def presence_image(assets_dir: Path, product) -> Path | None:
    """The photo the gate looks for: the product's main image, if it has one on disk."""
    keys = [img.key for img in product.images if img.key] if product is not None else []
    image = Path(assets_dir) / keys[0] if keys else None
    return image if image is not None and image.is_file() else None


def product_presence(timeline, assets_dir: Path, *, product=None, image: Path | None = None,
                     threshold: float = THRESHOLD, fps: float = 2.0, min_score: float = MIN_SCORE,
                     frames: dict[int, np.ndarray] | None = None,
                     matcher: ProductMatcher | None = None) -> Presence:
    """Share of the video in which the product's main photo is visible; ``ok`` when it is at
    least ``threshold``. ``image`` (a path) or ``product`` (ProductFacts: its main image key,
    under ``assets_dir``) names the photo. ``frames`` (a ``FrameSampler``'s, index -> frame)
    are used as given; otherwise the sampled frames are composed again. ``matcher``: one
    already built for that photo (the render stage builds it while the first frames are
    prepared)."""
    from .render import Compositor

    if image is None:
        image = presence_image(assets_dir, product)
    if image is None or not Path(image).is_file():
        return Presence(ok=False, share=0.0, threshold=threshold, samples=0,
                        reason="the product has no photo to look for in the video")
    matcher = ProductMatcher(image) if matcher is None else matcher
    indices = sample_frames(timeline, fps)
    if frames is None or not set(indices) <= set(frames):
        comp = Compositor(timeline, assets_dir)
        frames = {k: shrink(comp.frame(k / timeline.fps)) for k in indices}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="presence") as pool:
        scores = [round(s, 3) for s in pool.map(lambda k: matcher.score(frames[k], stop_at=min_score), indices)]
    share = round(sum(s >= min_score for s in scores) / len(scores), 3)
    ok = share >= threshold
    reason = "" if ok else (f"the product is visible in only {share:.0%} of the video "
                            f"(at least {threshold:.0%} is required)")
    return Presence(ok=ok, share=share, threshold=threshold, samples=len(indices), reason=reason,
                    scores=scores, times=[round(k / timeline.fps, 3) for k in indices])
