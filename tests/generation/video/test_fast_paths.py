"""The renderer's speed paths give the pixels of their plain references: frames handed to
ffmpeg's pipe by vmsplice arrive intact while buffers are recycled, a zoom transition folded
into the Ken Burns warp matches warping twice, and cv2 plate maths equals the uint16 maths."""
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from generation.video import ffmpeg as ff
from generation.video import timeline_build, yuv
from generation.video.layers import RENDERERS, RenderContext
from generation.video.layers.base import Plate
from generation.video.render import Compositor, stream_frames
from generation.video.schema import BrandKit, ShotLayer


def test_frame_writer_delivers_every_byte_through_a_slow_reader(tmp_path):
    """Buffers are rewritten right after ``write`` returns beyond the in-flight bound: a reader
    that starts late (the pipe full, pages still shared) must still get the original bytes."""
    out = tmp_path / "out.raw"
    frames = [np.random.default_rng(k).integers(0, 256, (48, 64, 4), np.uint8) for k in range(40)]
    proc = subprocess.Popen(["sh", "-c", f"sleep 0.3; cat > {out}"], stdin=subprocess.PIPE)
    fd = proc.stdin.fileno()
    ff.widen_pipe(fd)
    write = ff.frame_writer(fd)
    keep = ff.spliced_frames_in_flight(pipe_bytes=ff.pipe_size(fd), frame_bytes=frames[0].nbytes)
    pool = [np.empty_like(frames[0]) for _ in range(keep + 1)]
    for k, f in enumerate(frames):
        buf = pool[k % len(pool)]
        np.copyto(buf, f)  # recycles a buffer written `len(pool)` frames ago
        write(buf)
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert out.read_bytes() == b"".join(f.tobytes() for f in frames)


def test_frame_writer_without_splice_writes_the_same(tmp_path):
    out = tmp_path / "out.raw"
    frame = np.arange(64 * 32 * 4, dtype=np.uint32).astype(np.uint8).reshape(32, 64, 4)
    with open(out, "wb") as fh:  # a regular file: vmsplice refuses it, plain writes take over
        write = ff.frame_writer(fh.fileno())
        write(frame)
        write(frame[::-1].copy())
    assert out.read_bytes() == frame.tobytes() + frame[::-1].tobytes()


def test_frame_writer_reports_a_dead_reader():
    proc = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    proc.wait()
    with pytest.raises(OSError):
        ff.frame_writer(proc.stdin.fileno())(np.zeros((512, 512, 4), np.uint8))
    proc.stdin.close()


def _drawn(comp: Compositor, t: float) -> np.ndarray:
    out = yuv.I420(comp.tl.width, comp.tl.height).buffer()
    comp.draw_i420(t, out)
    return out


@pytest.mark.render
def test_streamed_frames_equal_freshly_drawn_frames(short_inputs, tmp_path):
    """The renderer's own loop (buffer pool, writer thread, vmsplice) into a reader that lags:
    every frame ffmpeg would read equals the frame drawn from scratch (into its I420 planes,
    as the renderer draws it)."""
    inputs, work = short_inputs
    tl = timeline_build(template="price_drop", aspect="9:16", scale=0.125, **inputs)
    out = tmp_path / "frames.raw"
    proc = subprocess.Popen(["sh", "-c", f"sleep 0.5; cat > {out}"], stdin=subprocess.PIPE)
    ff.widen_pipe(proc.stdin.fileno())
    n = stream_frames(Compositor(tl, work), proc)
    assert proc.wait(timeout=60) == 0
    i420 = yuv.I420(tl.width, tl.height)
    data = np.frombuffer(out.read_bytes(), np.uint8).reshape(n, i420.frame_bytes)
    fresh = Compositor(tl, work)
    for k in range(0, n, 7):
        assert np.array_equal(data[k], _drawn(fresh, k / tl.fps)), f"frame {k} differs"


@pytest.mark.render
@pytest.mark.parametrize("hold", [True, False], ids=["caller-holds-pages", "waits-for-reader"])
def test_the_last_frames_survive_the_allocator_reusing_memory_while_the_reader_lags(short_inputs, tmp_path, hold):
    """When stream_frames returns, the pipe still shares the last frames' pages. Work done
    meanwhile (the thumbnail, the quality gate) allocates frame-sized arrays; were the buffers
    freed, the allocator would hand those very pages out and the video's last frames would be
    overwritten (they were: frames 106-111 of 112 came out as 0xAB)."""
    inputs, work = short_inputs
    tl = timeline_build(template="price_drop", aspect="9:16", scale=0.125, **inputs)
    out = tmp_path / "frames.raw"
    # A reader slower than the renderer (64 KiB per 20 ms): the pipe is full when it returns.
    reader = ("import sys, time\nwith open(sys.argv[1], 'wb') as fh:\n"
              "    while chunk := sys.stdin.buffer.read(65536):\n        fh.write(chunk)\n        time.sleep(0.02)\n")
    proc = subprocess.Popen([sys.executable, "-c", reader, str(out)], stdin=subprocess.PIPE)
    ff.widen_pipe(proc.stdin.fileno())
    pages: list | None = [] if hold else None
    i420 = yuv.I420(tl.width, tl.height)
    n = stream_frames(Compositor(tl, work), proc, pages=pages)
    churn = [np.full(i420.frame_bytes, 0xAB, np.uint8) for _ in range(60)]  # noqa: F841 - frame-sized
    assert proc.wait(timeout=60) == 0
    data = np.frombuffer(out.read_bytes(), np.uint8).reshape(n, i420.frame_bytes)
    fresh = Compositor(tl, work)
    assert [k for k in range(n - 10, n)
            if not np.array_equal(data[k], _drawn(fresh, k / tl.fps))] == []


def test_zoom_transition_in_one_warp_matches_two_warps(tmp_path):
    rng = np.random.default_rng(3)
    img = cv2.GaussianBlur(rng.integers(0, 256, (80, 72, 3), np.uint8), (0, 0), 2)
    Image.fromarray(img).save(tmp_path / "pic.png")
    ctx = RenderContext(width=64, height=64, fps=30, brand=BrandKit(), assets_dir=tmp_path,
                        safe_rect=(0, 0, 64, 64), duration=2.0)
    layer = ShotLayer(type="shot", asset="pic.png", start=0.0, end=2.0, rect=(0, 0, 64, 64), fit="cover",
                      motion={"zoom": (1.0, 1.1), "focus": ((0.4, 0.5), (0.6, 0.4))},
                      transition={"type": "zoom", "duration": 0.5})
    r = RENDERERS["shot"](layer, ctx)
    for t in (0.05, 0.2, 0.4):
        frame = np.zeros((64, 64, 4), np.uint8)
        r.draw(frame, t)
        # The reference: the Ken Burns picture, then the transition's zoom warped over it.
        q = t / 0.5
        e = 0.5 - 0.5 * np.cos(np.pi * q)
        z = 1.0 + 0.25 * (1 - e)
        kb = r.kb.render((t - 0.0) / 2.0)
        m = np.float32([[z, 0, 32 * (1 - z)], [0, z, 32 * (1 - z)]])
        zoomed = cv2.warpAffine(kb, m, (64, 64), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        ref = cv2.addWeighted(np.zeros_like(zoomed), 1 - e, zoomed, e, 0)
        diff = np.abs(frame[:, :, :3].astype(int) - ref[:, :, :3].astype(int))
        # one resampling instead of two: a little sharper, never a different picture
        assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 12, (t, diff.mean(), diff.max())


@pytest.mark.parametrize("rect", [(0, 0, 64, 64), (6, 10, 40, 48)], ids=["full", "inset"])
def test_slide_transition_warps_only_what_has_slid_in(tmp_path, rect):
    """The sliding shot warps just its visible columns straight into the frame: the very pixels
    of warping the whole box and copying its left part over what was below."""
    rng = np.random.default_rng(4)
    Image.fromarray(cv2.GaussianBlur(rng.integers(0, 256, (80, 72, 3), np.uint8), (0, 0), 2)).save(tmp_path / "pic.png")
    ctx = RenderContext(width=64, height=64, fps=30, brand=BrandKit(), assets_dir=tmp_path,
                        safe_rect=(0, 0, 64, 64), duration=2.0)
    layer = ShotLayer(type="shot", asset="pic.png", start=0.0, end=2.0, rect=rect, fit="cover",
                      motion={"zoom": (1.0, 1.1), "focus": ((0.4, 0.5), (0.6, 0.4))},
                      transition={"type": "slide", "duration": 0.5})
    r = RENDERERS["shot"](layer, ctx)
    x, y, w, h = rect
    below = rng.integers(0, 256, (64, 64, 4), np.uint8)
    for t in (0.0, 0.05, 0.2, 0.45):
        frame = below.copy()
        r.draw(frame, t)
        e = 0.5 - 0.5 * np.cos(np.pi * t / 0.5)
        off = 2 * round(w * (1 - e) / 2)  # whole chroma blocks, as in planes
        ref = below.copy()
        ref[y:y + h, x + off:x + w] = r.kb.render(t / 2.0)[:, :w - off]
        assert np.array_equal(frame, ref), t


def test_plate_premultiplies_like_integer_maths():
    rgba = np.random.default_rng(5).integers(0, 256, (33, 17, 4), np.uint8)
    p = Plate(rgba)
    a = rgba[:, :, 3:4].astype(np.uint16)
    ref = ((rgba.astype(np.uint16) * a + 127) // 255).astype(np.uint8)
    ref[:, :, 3] = rgba[:, :, 3]
    assert np.array_equal(p.premult, ref)
    assert np.array_equal(p.alpha3, np.repeat(rgba[:, :, 3:4], 4, axis=2))
    assert np.array_equal(p.inv3, 255 - p.alpha3)
    assert not p.black and Plate(np.dstack([np.zeros((4, 4, 3), np.uint8), np.full((4, 4), 90, np.uint8)])).black


def test_clear_fills_with_the_brand_dark_colour(short_inputs):
    inputs, work = short_inputs
    tl = timeline_build(template="price_drop", aspect="9:16", scale=0.125, **inputs)
    comp = Compositor(tl, work)
    buf = comp.buffer()
    comp._clear(buf)
    assert (buf == np.array(comp.fill, np.uint8)).all()


def test_blurred_cover_dims_and_tints_before_the_upscale_like_after_it():
    from generation.video.layers.shot import ShotRenderer
    rng = np.random.default_rng(7)
    rgb = cv2.resize(rng.integers(0, 256, (12, 9, 4), np.uint8), (90, 120), interpolation=cv2.INTER_CUBIC)
    small = cv2.GaussianBlur(cv2.resize(rgb, (8, 11), interpolation=cv2.INTER_AREA), (0, 0), 3)  # cover scale 64/90
    ref = cv2.resize(small, (64, 86), interpolation=cv2.INTER_LINEAR)[11:75, :64].astype(np.float32)
    tint = np.float32([10, 200, 30, 255])
    for dim, mix, want in ((0.55, None, ref * 0.55), (0.6, ([10, 200, 30, 255], 0.4), ref * 0.6 + tint * 0.4)):
        got = ShotRenderer._blurred_cover(rgb, 64, 64, dim=dim, tint=mix)
        assert got.shape == (64, 64, 4) and (got[:, :, 3] == 255).all()
        assert np.abs(got[:, :, :3].astype(np.float32) - want[:, :, :3]).max() <= 2


def test_shrinking_an_rgbx_frame_equals_shrinking_its_rgb():
    from generation.video.presence import _gray_small, shrink
    frame = cv2.GaussianBlur(np.random.default_rng(9).integers(0, 256, (400, 240, 4), np.uint8), (0, 0), 2)
    fast = shrink(frame)
    assert fast.shape == (187, 112, 3) and fast.flags.c_contiguous
    assert np.array_equal(fast, _gray_small(np.ascontiguousarray(frame[:, :, :3]), 112 / 240))


def test_frame_writer_copies_a_strided_frame(tmp_path):
    out = tmp_path / "out.raw"
    frame = np.random.default_rng(1).integers(0, 256, (40, 64, 4), np.uint8)
    proc = subprocess.Popen(["sh", "-c", f"sleep 0.2; cat > {out}"], stdin=subprocess.PIPE)
    ff.frame_writer(proc.stdin.fileno())(frame[:, ::2])  # not contiguous: written as a copy
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0 and out.read_bytes() == np.ascontiguousarray(frame[:, ::2]).tobytes()
