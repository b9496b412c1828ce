"""The product-presence gate judges the frames that were encoded: sampled as they stream
(``FrameSampler``), with the same verdict as composing them again; a missing product fails."""
import numpy as np
import pytest

from generation.video import render, timeline_build
from generation.video.presence import FrameSampler, product_presence, sample_frames

pytestmark = pytest.mark.render


def test_streamed_samples_are_the_encoded_frames_and_give_the_same_verdict(short_inputs, tmp_path):
    inputs, work = short_inputs
    tl = timeline_build(template="product_showcase", aspect="9:16", scale=0.25, **inputs)
    sampler = FrameSampler(tl)
    render(tl, work, tmp_path, preset="ultrafast", on_frame=sampler)
    assert sorted(sampler.frames) == sample_frames(tl) and len(sampler.frames) >= 3
    pack = work / inputs["product"]["images"][0]["key"]
    streamed = product_presence(tl, work, image=pack, frames=sampler.frames)
    again = product_presence(tl, work, image=pack)
    assert streamed.ok and streamed.share == again.share >= 0.8
    assert streamed.samples == len(sampler.frames)
    from generation.video.presence import ProductMatcher
    prebuilt = product_presence(tl, work, image=pack, frames=sampler.frames, matcher=ProductMatcher(pack))
    assert prebuilt.scores == streamed.scores  # the render stage builds the matcher beforehand


def test_a_video_without_the_product_fails_the_gate(short_inputs, tmp_path):
    inputs, work = short_inputs
    tl = timeline_build(template="product_showcase", aspect="9:16", scale=0.25, **inputs)
    stranger = tmp_path / "stranger.png"
    rng = np.random.default_rng(3)
    from PIL import Image
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(stranger)
    sampler = FrameSampler(tl)
    render(tl, work, tmp_path / "out", preset="ultrafast", on_frame=sampler)
    gate = product_presence(tl, work, image=stranger, frames=sampler.frames)
    assert not gate.ok and gate.share < 0.8 and "visible in only" in gate.reason


def test_a_matcher_scores_each_frame_as_a_fresh_one_does(short_inputs, tmp_path):
    """The matcher keeps the product resized per scale across frames: every frame after the
    first scores exactly as a matcher that never saw another frame."""
    from generation.video.presence import ProductMatcher

    inputs, work = short_inputs
    tl = timeline_build(template="product_showcase", aspect="9:16", scale=0.25, **inputs)
    sampler = FrameSampler(tl)
    render(tl, work, tmp_path, preset="ultrafast", on_frame=sampler)
    pack = work / inputs["product"]["images"][0]["key"]
    warm = ProductMatcher(pack)
    for k in sorted(sampler.frames)[:6]:
        assert warm.score(sampler.frames[k]) == ProductMatcher(pack).score(sampler.frames[k])
