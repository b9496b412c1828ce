"""Product-true pictures: the hook text never covers the product, the end card shows the real
product photo large, shots are made at the ad's own aspect."""
import numpy as np
import pytest

from generation.video import timeline_build
from generation.video.placement import product_rect
from generation.video.render import Compositor

pytestmark = pytest.mark.render


def _overlap(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


@pytest.mark.parametrize("aspect", ["9:16", "1:1", "16:9"])
def test_hook_text_moves_off_the_product(aspect, short_inputs):
    inputs, work = short_inputs
    # The product stands high in the hook's shot, where the template puts the hook text.
    shots = [dict(s, product_box=(0.25, 0.12, 0.5, 0.35)) for s in inputs["shots"]]
    plain = timeline_build(template="product_showcase", aspect=aspect, scale=0.25, **inputs)
    tl = timeline_build(template="product_showcase", aspect=aspect, scale=0.25, **{**inputs, "shots": shots})
    hook = [ly for ly in tl.layers if ly.type == "text" and ly.end <= tl.scenes[0].end + 0.5 and ly.start == 0]
    backdrop = next(ly for ly in tl.layers if ly.type == "shot" and ly.start == 0)
    from generation.images import Shot
    prod = product_rect(backdrop, Shot.model_validate(shots[0]), tl.width, tl.height)
    if aspect == "9:16":  # the design put them on top of each other
        before = [ly for ly in plain.layers if ly.type == "text" and ly.start == 0]
        assert any(_overlap(ly.rect, prod) for ly in before)
    assert hook and prod and all(_overlap(ly.rect, prod) == 0 for ly in hook)
    # And in pixels: what the hook text draws lies outside the product's rect.
    t = min(tl.scenes[0].end - 0.05, 0.9)
    with_text = Compositor(tl, work).frame(t).astype(int)
    without = Compositor(tl.model_copy(update={"layers": [ly for ly in tl.layers if ly not in hook]}), work).frame(t)
    ys, xs = np.nonzero(np.abs(with_text - without).max(axis=2) > 40)
    assert len(ys) > 20
    x, y, w, h = prod
    inside = ((xs >= x) & (xs < x + w) & (ys >= y) & (ys < y + h)).sum()
    assert inside <= 0.02 * len(ys)


def test_end_card_shows_the_real_product_photo_large(short_inputs):
    inputs, _ = short_inputs
    tl = timeline_build(template="product_showcase", aspect="9:16", scale=0.25, **inputs)
    card = [ly for ly in tl.layers if ly.type == "product" and ly.end > tl.scenes[-1].start]
    assert card and all(ly.asset == inputs["product"]["images"][0]["key"] for ly in card)
    assert max(ly.rect[2] for ly in card) >= 0.6 * tl.width


@pytest.mark.parametrize("aspect,size", [("9:16", (528, 960)), ("1:1", (528, 528)), ("16:9", (960, 528))])
def test_shots_are_made_at_the_ads_aspect(aspect, size):
    from generation.jobs.pipeline import _shot_size
    assert _shot_size(aspect, 0.25) == size
