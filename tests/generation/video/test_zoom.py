"""zoom.Zoomer: warpAffine's scale-and-translate, by cv2.resize, to within 1/32 px."""
import cv2
import numpy as np
import pytest

from generation.video import zoom
from generation.video.zoom import Zoomer


def _smooth(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 16 + 2, w // 16 + 2), np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _warp(plane, s, tx, ty, w, h):
    return cv2.warpAffine(plane, np.float32([[s, 0, tx], [0, s, ty]]), (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("s", [0.70, 0.7699, 0.8329, 0.85, 0.9, 0.92, 0.95])
def test_zoom_equals_warp_affine_within_two_levels(s):
    src = _smooth(900, 560)
    w, h = 360, 600
    z = Zoomer(src, s_min=0.7)
    rng = np.random.default_rng(1)
    sw, sh = src.shape[1] * s, src.shape[0] * s
    # Both ends of the pan (the picture's edges touch the box's) and offsets in between.
    for tx, ty in [(0.0, 0.0), (w - sw, h - sh)] + [(rng.uniform(w - sw, 0), rng.uniform(h - sh, 0)) for _ in range(6)]:
        out = z.render(s, tx, ty, np.empty((h, w), np.uint8))
        diff = np.abs(out.astype(int) - _warp(src, s, tx, ty, w, h))
        assert diff.max() <= 2, (s, tx, ty, diff.max())
        assert diff.mean() < 0.5


# 1/0.7 = 10/7, 1/0.8 = 5/4 and 1/0.8333 = 6/5: resize reaches offsets only in steps of 1/7, 1/4 and 1/5 px, so
# most of those frames fall back to warpAffine; exact either way.
@pytest.mark.parametrize("s, mostly_resized", [(0.7071, True), (0.7, False), (0.8, False), (0.8333, False), (0.88, True), (0.95, True)])
def test_a_sharp_edge_lands_within_a_32nd_of_a_pixel_of_where_it_belongs(s, mostly_resized):
    """Sub-pixel exact: a hard step edge, panned in 0.27 px steps, is sampled where the matrix
    puts it. Bilinear sampling of the step at source x is 255 * clamp(x - 299, 0, 1), so a
    position error of d source pixels shows as up to 255 * d levels: 1/32 px is 8 levels (an
    error of 0.1 px would be 25)."""
    src = np.zeros((64, 600), np.uint8)
    src[:, 300:] = 255
    w, h = 400, 32
    z = Zoomer(src, s_min=0.7)
    used_resize = 0
    for k in range(40):
        tx = -40.0 - 0.27 * k
        out = z.render(s, tx, -3.0, np.empty((h, w), np.uint8))
        exact = 255 * np.clip((np.arange(w) - tx) / s - 299, 0, 1)
        assert np.abs(out[h // 2] - exact).max() <= 255 / 32 + 1.5, (s, tx)
        base = (zoom._M + 0.5) / s - 0.5
        used_resize += np.abs(np.round(-tx / s - base) + base + tx / s).min() <= zoom.TOLERANCE
    assert (used_resize >= 30) == mostly_resized, used_resize


def test_narrow_destinations_get_the_first_columns():
    src = _smooth(500, 400, seed=3)
    z = Zoomer(src, s_min=0.8)
    full = z.render(0.86, -7.3, -11.6, np.empty((400, 300), np.uint8))
    part = z.render(0.86, -7.3, -11.6, np.empty((400, 120), np.uint8))
    assert np.abs(part.astype(int) - full[:, :120]).max() <= 1


def test_enlargements_and_scales_near_one_go_to_warp_affine():
    src = _smooth(300, 300, seed=4)
    z = Zoomer(src, s_min=0.9)
    for s in (0.97, 1.0, 1.2):
        out = z.render(s, -5.5, -2.25, np.empty((200, 200), np.uint8))
        assert np.array_equal(out, _warp(src, s, -5.5, -2.25, 200, 200))


def test_writes_into_a_view_of_a_bigger_plane():
    src = _smooth(400, 400, seed=5)
    z = Zoomer(src, s_min=0.8)
    canvas = np.zeros((300, 300), np.uint8)
    view = canvas[10:210, 20:220]
    z.render(0.9, -3.1, -4.7, view)
    assert np.abs(view.astype(int) - _warp(src, 0.9, -3.1, -4.7, 200, 200)).max() <= 2
    assert not canvas[:10].any() and not canvas[:, :20].any()


def test_refuses_what_is_not_one_uint8_plane():
    with pytest.raises(ValueError):
        Zoomer(np.zeros((10, 10, 3), np.uint8), s_min=0.9)
    with pytest.raises(ValueError):
        Zoomer(np.zeros((10, 10), np.float32), s_min=0.9)
