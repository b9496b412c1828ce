"""The whole pipeline on a shop page whose pictures are unique stand-ins: the product's own
photo reaches the video (found in the encoded frames), a carousel picture of another product
never does, artifacts name files by storage key, and a renamed field stops the job at
validation with a readable reason. This is `bench truth` bounded to one page."""
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from catalog.facts import ProductFacts
from catalog.sample_shop import SHOP_DIR
from generation.jobs import pipeline
from generation.jobs.bench.truth import StandinPage, run_product, summarise
from generation.jobs.errors import StageError
from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tests.factories import BrandFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]
CAROUSEL = ('<div class="related-products carousel"><a href="/products/other-thing.html">'
            '<img src="/images/other-thing.jpg" alt="Other thing" width="600" height="600"></a></div></body>')


@pytest.fixture
def shop_page():
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    html = (SHOP_DIR / "products" / "aurora-bottle.html").read_text()
    return html.replace("</body>", CAROUSEL)


def test_product_photo_reaches_the_video_and_nothing_foreign_does(shop_page, tmp_path):
    ws, other = WorkspaceFactory(), WorkspaceFactory()
    brand = BrandFactory(workspace=ws, name="Northwind")
    entry = {"file": "pages/aurora-bottle.html", "expected": {"image_main": "/images/aurora-bottle.png"}}
    row = run_product(entry, shop_page, workspace=ws, brand=brand, duration=6, template="product_showcase",
                      aspect="9:16", work=tmp_path)
    assert row["ok"], row
    assert row["main_known"] and row["main_photo_visible"] >= 0.8, row
    assert row["foreign_picture_frames"] == 0, row
    assert row["gate_share"] >= 0.8 and row["rejected_facts_used"] == 0
    assert set(row["timings"]) == {"ingest", "script", "voice", "shots", "render"}
    summary = summarise([row])
    assert summary["videos"] == 1 and summary["foreign_picture_frames"] == 0

    with tenant_context(ws):
        job = VideoJob.objects.get()
    folder = Path(settings.MEDIA_ROOT) / job.media_dir()
    facts = ProductFacts.model_validate_json((folder / "product.json").read_text())
    page = StandinPage(shop_page)
    assert facts.images[0].source_url.endswith(f"/img/{page.number_of('/images/aurora-bottle.png')}.png")
    root = str(Path(settings.MEDIA_ROOT).resolve())
    for name in ("product.json", "shots.json", "render/timeline.json"):
        text = (folder / name).read_text()
        assert root not in text and '"/' not in text.replace('"/img', ''), f"absolute path in {name}"
    timeline = json.loads((folder / "render/timeline.json").read_text())
    product_layers = [ly for ly in timeline["layers"] if ly["type"] == "product"]
    assert product_layers and all(ly["asset"] == facts.images[0].key for ly in product_layers)
    with tenant_context(other):
        assert not VideoJob.objects.exists()

    # A renamed field in a stage document stops the next stage at validation, readably.
    data = json.loads((folder / "product.json").read_text())
    data["image_files"] = data.pop("images")
    (folder / "product.json").write_text(json.dumps(data))
    with tenant_context(ws), pytest.raises(StageError, match="product.json is not a valid ProductFacts: image_files"):
        pipeline.stage_shots(job)


def test_only_good_pictures_make_shots(settings, tmp_path):
    """The main photo always; a thumbnail-sized extra never (fewer shots, not unrelated ones)."""
    from catalog.facts import ProductImage
    from generation.jobs.pipeline import good_images
    from generation.jobs.bench.truth import standin_picture

    settings.MEDIA_ROOT = str(tmp_path)
    for name in ("main.png", "gallery.png", "swatch.png", "carousel.png"):
        (tmp_path / name).write_bytes(standin_picture(len(name)))
    facts = ProductFacts(title="Thing", images=[
        ProductImage(key="main.png", width=480, height=480), ProductImage(key="swatch.png", width=120, height=120, source="json-ld"),
        ProductImage(key="carousel.png", width=600, height=600, source="heuristics"),
        ProductImage(key="gone.png", width=900, height=900, source="json-ld"),
        ProductImage(key="gallery.png", width=800, height=600, source="opengraph")])
    assert [p.name for p in good_images(facts)] == ["main.png", "gallery.png"]
