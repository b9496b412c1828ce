import pytest

from generation.scripts.frameworks import FRAMEWORK_NAMES
from generation.scripts.offline import write_offline

from .corpus_products import extracted_products, manifest_products

LANGUAGES = ("en", "zh")

SAMPLE_PRODUCT = {
    "title": "Gothamite 36-inch Rolling Duffle Bag with Wheels, Luggage Bag", "brand": "Gothamite",
    "price": "87.11", "currency": "USD", "original_price": "99.00", "availability": "InStock",
    "images": ["https://example.com/a.jpg"], "description": "A rolling duffle bag for hockey gear and travel.",
    "features": ["LARGE CAPACITY: Measuring at 36 x 17 x 15 inches", "Heavy duty 600D polyester, 2 handles"],
    "specs": {"Weight": "2.5 kg"}, "rating": 4.2, "review_count": 471, "sku": "B01GOH7PKA", "gtin": None,
    "mpn": None, "variants": None, "canonical_url": "https://example.com/p"}


@pytest.fixture(scope="session")
def corpus_products(corpus_dir):
    """(file, facts) for every corpus page twice: hand-checked manifest facts, and the facts
    ``extract_product`` really extracts (richer: features, specs, descriptions)."""
    products = manifest_products(corpus_dir)
    pages = [name for name, _ in products if (corpus_dir / name).exists()]
    return products + [(f"extracted:{n}", p) for n, p in extracted_products(corpus_dir, pages)]


@pytest.fixture(scope="session")
def clean_scripts(corpus_products):
    """Every corpus product x framework x language, 15 s, written offline (seed varies)."""
    out = []
    for i, (name, product) in enumerate(corpus_products):
        for framework in FRAMEWORK_NAMES:
            for language in LANGUAGES:
                script = write_offline(product, framework=framework, language=language, duration=15, seed=i)
                out.append((name, product, script))
    return out
