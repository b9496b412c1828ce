"""Regressions for copywriting naturalness: names keep their head noun, on-screen phrases end at
natural boundaries, feature templates fit the phrase's grammar (issue 4, round 2)."""
import pytest

from generation.scripts import write_script
from generation.scripts.facts import clip_words, screen_phrase, short_name, shorten_name
from generation.scripts.frameworks import FRAMEWORK_NAMES

DEMO = {"title": "Aurora Insulated Water Bottle 750 ml", "brand": "Northwind", "price": "29.99",
        "currency": "USD", "original_price": "39.99", "availability": "InStock",
        "description": "Double-wall vacuum insulated stainless steel bottle that keeps drinks cold.",
        "features": ["Keeps drinks cold for 24 hours and hot for 12 hours", "Leak-proof lid with a carry loop",
                     "18/8 stainless steel, BPA-free", "Fits most car cup holders"],
        "specs": {"Capacity": "750 ml"}, "rating": 4.7, "review_count": 1289}
_ENDINGS = {"a", "an", "the", "with", "for", "of", "and", "to", "in", "on", "at", "by", "or"}


@pytest.mark.parametrize("title, short", [
    ("Aurora Insulated Water Bottle 750 ml", "Aurora Insulated Water Bottle"),
    ("Stanley Quencher Tumbler 40 oz, Black", "Stanley Quencher Tumbler"),
    ("Ceramic Coffee Mug 2-Pack", "Ceramic Coffee Mug"),
    ("Apple iPhone 15", "Apple iPhone 15"),  # a trailing number is a model, not a size
])
def test_short_name_drops_size_and_pack_details_not_the_noun(title, short):
    assert short_name(title, None) == short


def test_shortened_name_keeps_the_head_noun():
    assert shorten_name("Aurora Insulated Water Bottle", 3) == "Aurora Insulated Bottle"
    assert shorten_name("Aurora Insulated Water Bottle", 2) == "Aurora Bottle"
    assert shorten_name("Ninja Air Fryer Pro", 2) == "Ninja Air"  # model tails are not head nouns


@pytest.mark.parametrize("text, shown", [
    ("Leak-proof lid with a carry loop", "Leak-proof lid with a carry loop"),  # short: kept whole
    ("Keeps drinks cold for 24 hours and hot for 12 hours", "Keeps drinks cold for 24 hours"),
    ("Double-wall vacuum insulated stainless steel bottle that keeps drinks cold",
     "Double-wall vacuum insulated stainless steel bottle"),
])
def test_screen_phrase_cuts_at_natural_boundaries(text, shown):
    assert screen_phrase(text) == shown


def test_voice_clip_prefers_a_natural_boundary():
    assert clip_words("Keeps drinks cold for 24 hours and hot for 12 hours", 10) == "Keeps drinks cold for 24 hours"


@pytest.mark.parametrize("framework", FRAMEWORK_NAMES)
def test_demo_product_reads_naturally(framework):
    for seed in range(3):
        script = write_script(DEMO, framework=framework, language="en", duration=15, seed=seed)
        for seg in script.segments():
            assert "Insulated Water." not in seg.voice_line and "Aurora Insulated." not in seg.voice_line
            assert " / " not in seg.voice_line, seg.voice_line
            last = seg.on_screen_text.rstrip(".!?").split()[-1].lower()
            assert last not in _ENDINGS, seg.on_screen_text
            assert "carry." not in seg.voice_line and not seg.on_screen_text.endswith("a carry")
