"""Frames drawn straight into I420 planes match the RGBX frames converted (``yuv.I420``)."""
import cv2
import numpy as np
import pytest

from generation.video import demo, yuv
from generation.video.layers import RENDERERS, RenderContext
from generation.video.layers.base import Plate, blend
from generation.video.layers.shot import KenBurns
from generation.video.presence import shrink
from generation.video.render import Compositor
from generation.video.schema import BrandKit, Motion, ShapeLayer
from generation.video.timeline import timeline_build

BG = (40, 90, 160)


def _pair(w=64, h=64, rgb=BG):
    rgbx = np.zeros((h, w, 4), np.uint8)
    rgbx[:] = (*rgb, 255)
    planes = yuv.Planes.empty(w, h)
    planes.fill(rgb)
    return rgbx, planes


def _diff(planes: yuv.Planes, rgbx: np.ndarray):
    conv = yuv.I420(rgbx.shape[1], rgbx.shape[0])
    y, u, v = conv.planes(conv.convert(rgbx))
    return (np.abs(planes.y.astype(int) - y),
            np.maximum(np.abs(planes.u.astype(int) - u), np.abs(planes.v.astype(int) - v)))


def _plate(seed=0, w=21, h=13):
    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, (h, w, 4), np.uint8)
    rgba[:2, :, 3] = 0  # transparent and opaque parts, and everything between
    rgba[-2:, :, 3] = 255
    return Plate(rgba)


@pytest.mark.parametrize("x, y", [(10, 12), (11, 12), (10, 13), (11, 13), (-5, -3), (50, 57)])
@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_a_plate_blends_into_planes_like_into_rgbx(x, y, opacity):
    """Every chroma alignment (odd x, odd y), clipped at the frame's edges, faded. Over a flat
    background the only differences are rounding."""
    plate = _plate()
    rgbx, planes = _pair()
    blend(rgbx, plate, x, y, opacity)
    blend(planes, plate, x, y, opacity)
    dy, dc = _diff(planes, rgbx)
    assert dy.max() <= 2 and dc.max() <= 2


def test_plate_planes_are_built_once_per_alignment_and_share_their_luma():
    plate = _plate(1)
    a, b = plate.planes(0, 1), plate.planes(1, 1)
    assert plate.planes(0, 1) is a and a.y is b.y
    assert a.u.shape == (7, 11) and b.u.shape == (7, 11)  # 13 rows from an odd row: 7 blocks


@pytest.mark.parametrize("rect, t", [((0, 0, 64, 4), 1.0), ((3, 5, 61, 3), 0.77), ((0, 0, 64, 2), 0.01)])
def test_the_progress_bar_in_planes_covers_what_it_covers_in_rgbx(tmp_path, rect, t):
    ctx = RenderContext(width=64, height=64, fps=30, brand=BrandKit(), assets_dir=tmp_path,
                        safe_rect=(0, 0, 64, 64), duration=2.0)
    layer = ShapeLayer(type="shape", shape="progress", color="#FFD400", start=0, end=2, rect=rect)
    r = RENDERERS["shape"](layer, ctx)
    assert r.planes_ok(t)
    rgbx, planes = _pair()
    r.draw(rgbx, t)
    r.draw(planes, t)
    dy, dc = _diff(planes, rgbx)
    assert dy.max() <= 1 and dc.max() <= 1  # half-covered chroma blocks are mixed, not painted


def _smooth_rgba(h, w, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 24 + 2, w // 24 + 2, 4), np.uint8)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img[:, :, 3] = 255
    return img


@pytest.mark.parametrize("p", [0.0, 0.37, 1.0])
def test_ken_burns_into_planes_matches_the_rgbx_warp_converted(p):
    motion = Motion(kind="ken_burns", zoom=(1.0, 1.15), focus=((0.3, 0.6), (0.6, 0.4)))
    kb = KenBurns(_smooth_rgba(300, 210), 180, 320, motion)
    rgbx = kb.render(p)
    planes = kb.render_planes(p, yuv.Planes.empty(180, 320))
    dy, dc = _diff(planes, rgbx)
    assert dy.max() <= 2 and dc.max() <= 3
    # a narrower destination gets the box's first columns
    part = kb.render_planes(p, yuv.Planes.empty(180, 320).columns(120))
    assert np.abs(part.y.astype(int) - planes.y[:, :60]).max() <= 1


@pytest.fixture(scope="module")
def landscape_shots(short_inputs, tmp_path_factory):
    work = tmp_path_factory.mktemp("landscape")
    shots, _ = demo.procedural_shots(work, product=demo.DEMO_PRODUCT, brand=demo.DEMO_BRAND, n=2, size=(480, 270))
    return shots


def _compare_frames(tl, work, every=3):
    """Draw the whole timeline twice, as the renderer (draw_i420) and in RGBX then converted;
    returns the per-frame difference statistics and how many frames were drawn in planes."""
    conv = yuv.I420(tl.width, tl.height)
    fast, ref = Compositor(tl, work), Compositor(tl, work)
    stats, in_planes = [], 0
    for k in range(0, tl.n_frames, every):
        out = conv.buffer()
        in_planes += isinstance(fast.draw_i420(k / tl.fps, out), yuv.Planes)
        want = conv.convert(ref.draw(k / tl.fps, ref.buffer()))
        y, u, v = conv.planes(out)
        wy, wu, wv = conv.planes(want)
        dy = np.abs(y.astype(int) - wy)
        dc = np.concatenate([np.abs(u.astype(int) - wu).ravel(), np.abs(v.astype(int) - wv).ravel()])
        stats.append((dy.mean(), np.percentile(dy, 99.9), dy.max(), dc.mean(), np.percentile(dc, 99)))
    return np.array(stats), in_planes


@pytest.mark.render
@pytest.mark.parametrize("template", ["price_drop", "problem_solution", "product_showcase", "social_proof",
                                      "three_reasons", "unboxing"])
def test_every_template_draws_in_planes_what_it_draws_in_rgbx(short_inputs, landscape_shots, template):
    """Ken Burns by resize instead of warpAffine, plates blended per plane, transitions per
    plane: the frames agree to rounding in Y (mean < 0.6 levels, 99.9 % within 4); chroma
    differs only along sharp coloured edges, where blending after the 2×2 average is not
    the same as averaging after blending (99 % within 6)."""
    inputs, work = short_inputs
    for aspect, shots in (("9:16", inputs["shots"]), ("16:9", landscape_shots)):
        tl = timeline_build(template=template, aspect=aspect, scale=0.25, **{**inputs, "shots": shots})
        stats, in_planes = _compare_frames(tl, work)
        assert in_planes == len(stats), (aspect, in_planes, len(stats))  # shots of the frame's shape: all planes
        assert stats[:, 0].max() < 0.6 and stats[:, 1].max() <= 4 and stats[:, 2].max() <= 8, (aspect, stats.max(0))
        assert stats[:, 3].max() < 0.8 and stats[:, 4].max() <= 6, (aspect, stats.max(0))


@pytest.mark.render
def test_a_layer_that_cannot_draw_planes_sends_its_frames_through_rgbx(short_inputs):
    """Portrait shots in a square frame are contained over a blurred cover (RGBX only): those
    frames are drawn in RGBX and converted, exactly; the end card is drawn in planes; and a
    compositor switching between the two keeps its held layers right (every frame equals the
    same frame drawn by a fresh compositor)."""
    inputs, work = short_inputs
    tl = timeline_build(template="price_drop", aspect="1:1", scale=0.25, **inputs)
    conv = yuv.I420(tl.width, tl.height)
    seq = Compositor(tl, work)
    kinds = []
    for k in range(tl.n_frames):
        out = conv.buffer()
        frame = seq.draw_i420(k / tl.fps, out)
        kinds.append(isinstance(frame, yuv.Planes))
        if not kinds[-1]:
            assert np.array_equal(out, conv.convert(frame))
        if k % 5 == 0 or (k and kinds[-1] != kinds[-2]):
            fresh = conv.buffer()
            Compositor(tl, work).draw_i420(k / tl.fps, fresh)
            assert np.array_equal(out, fresh), k
    assert any(kinds) and not all(kinds)


def test_presence_shrinks_planes_like_the_rgb_frame():
    rgb = _smooth_rgba(480, 270, seed=7)
    conv = yuv.I420(270, 480)
    planes = conv.frame(conv.convert(rgb))
    a, b = shrink(planes), shrink(np.ascontiguousarray(rgb[:, :, :3]))
    assert a.shape == b.shape and a.dtype == np.float32
    assert np.abs(a - b).mean() < 1.5 and np.abs(a - b).max() <= 6
