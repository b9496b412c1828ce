"""The renderer's own colour conversion: RGBX to BT.709 TV-range I420, as ffmpeg's swscale
makes it, and what ffmpeg encodes from it decodes back to the colours drawn; the final mux
only copies streams."""
import subprocess

import cv2
import numpy as np
import pytest

from generation.video import ffmpeg as ff
from generation.video import yuv


def _rgbx(rgb: np.ndarray) -> np.ndarray:
    out = np.full((*rgb.shape[:2], 4), 255, np.uint8)
    out[:, :, :3] = rgb
    return out


def _smooth(h: int, w: int, seed: int) -> np.ndarray:
    """A photo-like picture: random colours blurred, no edges sharper than a few pixels."""
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 4)


@pytest.mark.parametrize("rgb, want", [
    ((255, 255, 255), (235, 128, 128)),
    ((0, 0, 0), (16, 128, 128)),
    ((255, 0, 0), (63, 102, 240)),  # BT.709, not BT.601's (81, 90, 240)
    ((0, 255, 0), (173, 42, 26)),
    ((0, 0, 255), (32, 240, 118)),
])
def test_flat_colours_get_the_bt709_tv_range_values(rgb, want):
    conv = yuv.I420(8, 6)
    y, cb, cr = conv.planes(conv.convert(_rgbx(np.full((6, 8, 3), rgb, np.uint8))))
    assert (y == want[0]).all() and (cb == want[1]).all() and (cr == want[2]).all()


def test_conversion_equals_swscale_within_rounding():
    """The same frame through ffmpeg's rgb0 → yuv420p (the renderer's path before): luma
    within one step, chroma within two (the 2×2 chroma filters differ slightly)."""
    h, w = 96, 160
    frame = _rgbx(_smooth(h, w, 3))
    conv = yuv.I420(w, h)
    ours = conv.convert(frame)
    proc = subprocess.run([ff.ffmpeg_bin(), "-v", "error", *ff.raw_input_args(w, h, 30, "-", "rgb0"),
                           "-vf", "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic,format=yuv420p",
                           "-f", "rawvideo", "-"], input=frame.tobytes(), capture_output=True, check=True)
    theirs = np.frombuffer(proc.stdout, np.uint8)
    assert theirs.size == ours.size
    diff = np.abs(ours.astype(int) - theirs)
    assert diff[:w * h].max() <= 1
    assert diff[w * h:].max() <= 2


def test_encoded_video_decodes_to_the_drawn_colours(tmp_path):
    h, w = 64, 96
    frames = [_rgbx(np.full((h, w, 3), c, np.uint8)) for c in ((230, 40, 60), (20, 120, 200), (11, 15, 25))]
    frames.append(_rgbx(_smooth(h, w, 5)))
    conv = yuv.I420(w, h)
    out = tmp_path / "v.mp4"
    cmd = ff.encode_command(width=w, height=h, fps=30, audio=None, out=out, preset="veryfast", crf=8,
                            platform="generic")
    subprocess.run(cmd, input=b"".join(conv.convert(f).tobytes() for f in frames), check=True)
    stream = ff.probe(out)["streams"][0]
    assert (stream["pix_fmt"], stream["color_range"], stream["color_space"], stream["chroma_location"]) == (
        "yuv420p", "tv", "bt709", "center")
    raw = subprocess.run([ff.ffmpeg_bin(), "-v", "error", "-i", str(out), "-vf",
                          "scale=in_color_matrix=bt709:in_range=tv,format=rgb24", "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    decoded = np.frombuffer(raw, np.uint8).reshape(len(frames), h, w, 3)
    for want, got in zip(frames[:3], decoded[:3]):
        assert np.abs(got[8:-8, 8:-8].astype(int) - want[8:-8, 8:-8, :3]).max() <= 2
    assert np.abs(decoded[3].astype(int) - frames[3][:, :, :3]).mean() < 2.5  # lossy, but the same picture


def test_odd_sizes_and_wrong_frames_are_refused():
    with pytest.raises(ValueError, match="even"):
        yuv.I420(15, 8)
    with pytest.raises(ValueError, match="expected"):
        yuv.I420(16, 8).convert(np.zeros((8, 16, 3), np.uint8))


@pytest.mark.parametrize("rgb", [(255, 255, 255), (0, 0, 0), (255, 0, 0), (12, 200, 90), (30, 60, 250)])
def test_planes_fill_with_a_colour_and_convert_back_to_it(rgb):
    planes = yuv.Planes.empty(8, 6)
    planes.fill(rgb)
    conv = yuv.I420(8, 6)
    # exact rounding here, OpenCV's fixed point in the converter: within 1
    assert np.abs(planes.buf.astype(int) - conv.convert(_rgbx(np.full((6, 8, 3), rgb, np.uint8)))).max() <= 1
    assert np.abs(planes.to_rgb().astype(int) - rgb).max() <= 2


def test_planes_regions_are_views_on_the_chroma_grid():
    planes = yuv.Planes.empty(16, 8)
    planes.fill((0, 0, 0))
    planes.region(4, 2, 6, 4).fill((255, 255, 255))
    assert (planes.y[2:6, 4:10] == 235).all() and planes.y[:2].max() == 16 and planes.y[:, 10:].max() == 16
    assert (planes.u[1:3, 2:5] == 128).all() and planes.u.shape == (4, 8)
    assert planes.columns(10).y.shape == (8, 6) and planes.columns(10).u.shape == (4, 3)
    with pytest.raises(ValueError, match="even"):
        planes.region(3, 2, 6, 4)
    with pytest.raises(ValueError, match="even"):
        planes.columns(5)


def test_converting_into_a_buffer_reuses_it():
    conv = yuv.I420(16, 8)
    buf = conv.buffer()
    assert conv.convert(_rgbx(np.full((8, 16, 3), 200, np.uint8)), buf) is buf


def test_the_final_mux_only_copies_aac():
    cmd = ff.mux_command(video="v.mp4", audio="mix.m4a", out="out.mp4")
    assert cmd[cmd.index("-c:a") + 1] == "copy" and cmd[cmd.index("-c:v") + 1] == "copy"
    with pytest.raises(ValueError, match="AAC"):
        ff.mux_command(video="v.mp4", audio="mix.wav", out="out.mp4")
