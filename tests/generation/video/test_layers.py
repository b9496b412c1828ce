"""Layer renderers on 64×64 canvases, checked pixel by pixel."""
import numpy as np
import pytest
from PIL import Image

from generation.video.layers import RENDERERS, RenderContext
from generation.video.layers.base import Plate, anim_state, blend
from generation.video.schema import Anim, BrandKit, ShapeLayer, ShotLayer, TextLayer


def ctx(tmp_path, w=64, h=64):
    return RenderContext(width=w, height=h, fps=30, brand=BrandKit(accent="#FFC83D"), assets_dir=tmp_path,
                         safe_rect=(0, 0, w, h), duration=2.0)


def test_blend_half_alpha_mixes_and_clips_to_the_frame():
    frame = np.zeros((64, 64, 4), np.uint8)
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[...] = (255, 0, 0, 128)
    blend(frame, Plate(rgba), 58, -3)  # partly outside: must clip, not raise
    assert abs(int(frame[0, 60, 0]) - 128) <= 1 and frame[0, 60, 1] == 0
    assert frame[20, 20].sum() == 0 and frame[7, 60].sum() == 0


def test_shape_rect_fills_only_its_rect(tmp_path):
    layer = ShapeLayer(type="shape", color="brand.accent", start=0, end=2, rect=(8, 16, 20, 10))
    frame = np.zeros((64, 64, 4), np.uint8)
    RENDERERS["shape"](layer, ctx(tmp_path)).draw(frame, 1.0)
    assert tuple(frame[20, 10, :3]) == (255, 200, 61)
    assert frame[:16].sum() == 0 and frame[26:].sum() == 0 and frame[:, 28:].sum() == 0


def test_progress_bar_grows_with_time(tmp_path):
    layer = ShapeLayer(type="shape", shape="progress", color="#FFFFFF", start=0, end=2, rect=(0, 0, 64, 2))
    r = RENDERERS["shape"](layer, ctx(tmp_path))
    widths = []
    for t in (0.5, 1.0, 1.5):
        frame = np.zeros((64, 64, 4), np.uint8)
        r.draw(frame, t)
        widths.append(int((frame[0, :, 0] == 255).sum()))
    assert widths == [16, 32, 48]


def test_text_draws_inside_its_rect_only(tmp_path):
    layer = TextLayer(type="text", text="Hi g", start=0, end=2, rect=(4, 20, 56, 24), anim=Anim(enter="none", exit="none"),
                      style={"size": 0.3, "color": "#FFFFFF"})
    frame = np.zeros((64, 64, 4), np.uint8)
    RENDERERS["text"](layer, ctx(tmp_path)).draw(frame, 1.0)
    ys, xs = np.nonzero(frame[:, :, :3].max(axis=2) > 200)
    assert len(ys) > 20
    assert ys.min() >= 20 and ys.max() < 44 and xs.min() >= 4 and xs.max() < 60


def test_ken_burns_covers_the_frame_and_zooms(tmp_path):
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, :32] = (255, 0, 0)
    img[:, 32:] = (0, 0, 255)
    Image.fromarray(img).save(tmp_path / "split.png")
    layer = ShotLayer(type="shot", asset="split.png", start=0, end=2, rect=(0, 0, 64, 64),
                      motion={"zoom": (1.0, 2.0), "focus": ((0.5, 0.5), (0.25, 0.5)), "easing": "linear"},
                      transition={"type": "cut"})
    r = RENDERERS["shot"](layer, ctx(tmp_path))
    start, end = np.zeros((64, 64, 4), np.uint8), np.zeros((64, 64, 4), np.uint8)
    r.draw(start, 0.0)
    r.draw(end, 1.999)
    assert start[32, 5, 0] > 200 and start[32, 60, 2] > 200  # whole image at zoom 1
    assert (end[:, :, 0] > 200).mean() > 0.95  # zoomed 2x onto the red left half
    assert start[:, :, :3].min(axis=2).max() < 255  # never a blank (unfilled) border


def test_crossfade_transition_blends_old_and_new(tmp_path):
    Image.new("RGB", (64, 64), (200, 0, 0)).save(tmp_path / "new.png")
    layer = ShotLayer(type="shot", asset="new.png", start=1.0, end=2, rect=(0, 0, 64, 64),
                      motion={"kind": "none"}, transition={"type": "crossfade", "duration": 0.5})
    r = RENDERERS["shot"](layer, ctx(tmp_path))
    frame = np.zeros((64, 64, 4), np.uint8)
    r.draw(frame, 1.25)  # half-way: ease_in_out(0.5) = 0.5
    assert abs(int(frame[10, 10, 0]) - 100) <= 2


@pytest.mark.parametrize("enter", ["fade", "slide_up", "pop", "wipe"])
def test_entrance_starts_hidden_and_ends_at_rest(enter):
    anim = Anim(enter=enter, exit="fade", duration=0.4)
    first, rest = anim_state(anim, 0.0, 0.0, 3.0), anim_state(anim, 1.0, 0.0, 3.0)
    assert rest.identity
    assert first.opacity < 0.05 or first.wipe < 0.05 or first.scale < 0.7
    assert anim_state(anim, 2.999, 0.0, 3.0).opacity < 0.05  # exit fade


def test_chinese_text_uses_noto_cjk_and_wraps_between_characters(tmp_path):
    from generation.video import text as tx
    font = tx.load_font(20, "bold", cjk=tx.has_cjk("保温杯"))
    assert font.getname()[0] == "Noto Sans CJK SC"
    assert len(tx.wrap("二十四小时保冷不漏水的保温杯", font, 90)) >= 3
    layer = TextLayer(type="text", text="限时特价", start=0, end=2, rect=(2, 16, 60, 32),
                      anim=Anim(enter="none", exit="none"), style={"size": 0.25, "color": "#FFFFFF"})
    frame = np.zeros((64, 64, 4), np.uint8)
    RENDERERS["text"](layer, ctx(tmp_path)).draw(frame, 1.0)
    ys, xs = np.nonzero(frame[:, :, :3].max(axis=2) > 200)
    assert len(ys) > 40 and ys.min() >= 16 and ys.max() < 48
