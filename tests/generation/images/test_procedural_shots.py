"""The procedural backend: what every demo shows, checked pixel by pixel."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from generation.images import ProductImageError, make_shots
from generation.images.procedural import hex_to_rgb

SIZE = (216, 384)
KINDS = ["product", "detail", "lifestyle", "model"]


@pytest.fixture(scope="module")
def shots(photos, brand, tmp_path_factory):
    out = tmp_path_factory.mktemp("shots")
    requests = [{"kind": k, "prompt": f"{k} shot", "segment": i} for i, k in enumerate(KINDS)]
    return make_shots(product_images=[photos["bottle"], photos["box"]], requests=requests,
                      brand=brand, out_dir=out, n=3, seed=7, size=SIZE)


def _load(result):
    return np.asarray(Image.open(result.path).convert("RGB")).astype(int)


def test_one_portrait_png_and_config_per_request(shots):
    assert [r.kind for r in shots] == KINDS and [r.segment for r in shots] == [0, 1, 2, 3]
    for r in shots:
        assert Image.open(r.path).size == SIZE
        config = json.loads(r.config_path.read_text())
        assert config["size"] == list(SIZE) and config["backend"] == "procedural"
        assert config["prompt"] == f"{r.kind} shot" and config["scores"] == r.scores
        assert len(config["candidates"]) == 3  # best-of-N recorded every candidate
        assert r.scores["total"] == max(c["total"] for c in config["candidates"])


def test_product_pixels_are_the_source_pixels(shots):
    """Inside the (eroded) product mask the shot equals the resized source cutout."""
    from generation.images import composite
    from generation.images.cutout import cut_out

    r = shots[0]
    config = json.loads(r.config_path.read_text())
    p = composite.Placement(**config["details"]["placement"])
    placed = composite.resize_cutout(cut_out(config["source_image"]), p)
    shot = _load(r)
    region = shot[p.y:p.y + p.height, p.x:p.x + p.width]
    inside = placed.alpha >= 1.0
    assert inside.sum() > 1000
    assert np.abs(region[inside] - placed.rgb[inside].astype(int)).max() == 0


def test_background_is_brand_coloured_and_product_stands_on_a_shadow(shots, brand):
    shot = _load(shots[0])
    h, w = shot.shape[:2]
    top = shot[: h // 10].reshape(-1, 3).mean(0)
    primary, white = hex_to_rgb(brand["primary_color"]), np.array([255, 255, 255])
    # the wall is a tint of the primary colour: closer to it than white is, and bluish here
    assert np.linalg.norm(top - primary) < np.linalg.norm(white - primary)
    assert top[2] > top[0]
    config = json.loads(shots[0].config_path.read_text())
    p = config["details"]["placement"]
    base_y, cx = p["y"] + p["height"], p["x"] + p["width"] // 2
    under = shot[base_y + 1: base_y + 4, cx - 5: cx + 5].mean()
    beside = shot[base_y + 1: base_y + 4, 2:8].mean()  # same row, far left
    assert under < beside - 8  # contact shadow under the product


def test_detail_shots_are_dark_and_large(shots):
    detail = json.loads(shots[1].config_path.read_text())["details"]
    product = json.loads(shots[0].config_path.read_text())["details"]
    assert detail["placement"]["width"] > product["placement"]["width"]
    assert _load(shots[1])[:40].mean() < _load(shots[0])[:40].mean()


def test_same_seed_same_pixels_other_seed_other_scene(photos, brand, tmp_path):
    req = [{"kind": "product", "prompt": "", "segment": 0}]
    a = make_shots(product_images=[photos["mug"]], requests=req, brand=brand, out_dir=tmp_path / "a", seed=3, size=SIZE)
    b = make_shots(product_images=[photos["mug"]], requests=req, brand=brand, out_dir=tmp_path / "b", seed=3, size=SIZE)
    c = make_shots(product_images=[photos["mug"]], requests=req, brand=brand, out_dir=tmp_path / "c", seed=4, size=SIZE)
    assert np.array_equal(_load(a[0]), _load(b[0]))
    assert np.abs(_load(a[0]) - _load(c[0])).mean() > 1.0


def test_shots_made_two_at_a_time_are_the_shots_made_one_at_a_time(photos, brand, tmp_path, monkeypatch):
    from generation.images import shots as shots_module
    req = [{"kind": k, "prompt": "", "segment": i} for i, k in enumerate(("product", "lifestyle", "detail", "product", "lifestyle"))]
    images = [photos["bottle"], photos["box"], photos["mug"]]
    two = make_shots(product_images=images, requests=req, brand=brand, out_dir=tmp_path / "two", seed=5, size=SIZE)
    monkeypatch.setattr(shots_module, "PROCEDURAL_THREADS", 1)
    one = make_shots(product_images=images, requests=req, brand=brand, out_dir=tmp_path / "one", seed=5, size=SIZE)
    assert [r.path.name for r in two] == [f"shot_{i:02d}.png" for i in range(len(req))]  # request order kept
    assert [r.path.read_bytes() for r in two] == [r.path.read_bytes() for r in one]
    assert [(r.scores, r.kind, r.segment) for r in two] == [(r.scores, r.kind, r.segment) for r in one]


def test_bad_inputs_raise_clear_errors(photos, brand, tmp_path):
    ok = [{"kind": "product", "prompt": "", "segment": 0}]
    with pytest.raises(ProductImageError, match="not found"):
        make_shots(product_images=[tmp_path / "missing.jpg"], requests=ok, brand=brand, out_dir=tmp_path)
    with pytest.raises(ProductImageError, match="no product image"):
        make_shots(product_images=[], requests=ok, brand=brand, out_dir=tmp_path)
    with pytest.raises(ValueError, match="kind must be one of"):
        make_shots(product_images=[photos["box"]], requests=[{"kind": "selfie", "prompt": ""}],
                   brand=brand, out_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown shots backend"):
        make_shots(product_images=[photos["box"]], requests=ok, brand=brand, out_dir=tmp_path, backend="gan")


def test_garbage_brand_colours_fall_back_to_defaults(photos, tmp_path):
    results = make_shots(product_images=[photos["box"]], requests=[{"kind": "lifestyle", "prompt": "", "segment": 0}],
                         brand={"name": "x", "primary_color": "not-a-colour"}, out_dir=tmp_path, size=SIZE)
    assert results[0].fidelity >= 0.99
