"""`render_template --product` renders the given product's own picture, not the sample bottle."""
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from generation.jobs.bench.truth import standin_picture
from generation.video.presence import ProductMatcher

pytestmark = pytest.mark.render


def test_render_template_uses_the_products_own_image(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(standin_picture(7))
    product = {"title": "Grid Lamp", "brand": "Acme", "price": "19.99", "currency": "EUR",
               "features": ["Bright grid light"], "images": [str(photo)]}
    (tmp_path / "p.json").write_text(json.dumps(product))
    out = tmp_path / "ad.mp4"
    call_command("render_template", "product_showcase", "--product", str(tmp_path / "p.json"), "--out", str(out),
                 "--scale", "0.25", "--duration", "6", "--preset", "ultrafast", "--keep", str(tmp_path / "work"))
    timeline = json.loads(out.with_suffix(".timeline.json").read_text())
    assets = {ly.get("asset") for ly in timeline["layers"] if ly["type"] == "product"}
    assert assets == {str(photo)}
    from PIL import Image
    thumb = np.asarray(Image.open(out.with_suffix(".jpg")).convert("RGB"))
    assert ProductMatcher(photo).score(thumb) >= 0.6  # the grid itself is on screen


def test_render_template_refuses_a_product_whose_images_cannot_be_used(tmp_path, settings):
    settings.CATALOG_SSRF_ALLOWED_HOSTS = []
    (tmp_path / "p.json").write_text(json.dumps({"title": "X", "images": ["http://127.0.0.1:9/x.jpg"]}))
    with pytest.raises(CommandError, match="none of the product's images"):
        call_command("render_template", "product_showcase", "--product", str(tmp_path / "p.json"),
                     "--out", str(tmp_path / "o.mp4"), "--scale", "0.25")
