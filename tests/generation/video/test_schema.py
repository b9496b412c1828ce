"""Templates and timelines as validated documents; layout stays inside platform safe zones."""
import json

import pytest

from generation.video import TemplateError, list_templates, load_template
from generation.video.layout import ASPECTS, box_rect, canvas_size, safe_rect
from generation.video.schema import Box

BUILT_INS = {"product_showcase", "problem_solution", "price_drop", "three_reasons", "social_proof", "unboxing"}
FRAMEWORKS = {"problem_solution", "three_reasons", "social_proof", "price_drop", "feature_tour", "ugc_testimonial"}


def test_built_ins_validate_with_framework_and_preview():
    assert set(list_templates()) == BUILT_INS
    for name in BUILT_INS:
        tpl = load_template(name)
        assert tpl.framework in FRAMEWORKS and tpl.schema_version == 1
        assert (load_template.__globals__["TEMPLATES_DIR"] / tpl.preview).is_file()


def test_invalid_template_error_names_the_field():
    doc = load_template("price_drop").model_dump()
    doc["scenes"]["hook"][1]["style"]["color"] = "reddish"
    with pytest.raises(TemplateError, match=r"scenes\.hook\.1\.text\.style\.color"):
        load_template(doc)
    doc = load_template("price_drop").model_dump()
    doc["scenes"]["body"].append({"type": "sparkles"})
    with pytest.raises(TemplateError, match=r"scenes\.body\.\d+.*sparkles|type"):
        load_template(doc)
    with pytest.raises(TemplateError, match="unknown template 'nope'"):
        load_template("nope")


@pytest.mark.parametrize("aspect", list(ASPECTS))
def test_canvas_even_and_boxes_inside_safe_zone(aspect):
    w, h = canvas_size(aspect, 0.25)
    assert w % 2 == 0 and h % 2 == 0
    sx, sy, sw, sh = safe_rect(aspect, w, h)
    for anchor in ("top_left", "center", "bottom_right", "bottom"):
        for land in ("same", "left", "right"):
            x, y, bw, bh = box_rect(Box(anchor=anchor, w=0.5, h=0.3, landscape=land), aspect=aspect, width=w, height=h)
            assert sx <= x and x + bw <= sx + sw + 1 and sy <= y and y + bh <= sy + sh + 1


def test_vertical_safe_zone_clears_platform_ui():
    x, y, w, h = safe_rect("9:16", 1080, 1920)
    assert y >= 200 and 1920 - (y + h) >= 380 and 1080 - (x + w) >= 140  # top bar, captions/username, buttons


@pytest.mark.parametrize("source", ["/etc/passwd", "../other_workspace/shot.png", "C:/x.png"])
def test_template_image_paths_stay_inside_the_assets_folder(source):
    doc = load_template("product_showcase").model_dump()
    doc["scenes"]["hook"][0].update(type="image", source=source)
    with pytest.raises(TemplateError, match=r"scenes\.hook\.0\.image\.source"):
        load_template(doc)
