"""Product facts dicts for the shared corpus, built from manifest ``expected`` values.

The manifest holds the hand-checked facts of every page, which makes it the stable source for
script tests (the extractor has its own tests). ``extracted_products`` additionally runs the
real ``catalog.ingest.extract.extract_product`` on the pages (when it is importable, ~5 s for
the corpus), so scripts also meet the richer facts (features, specs, description) the
pipeline really sees.
"""
from __future__ import annotations

import json
from pathlib import Path

FACT_KEYS = ("title", "brand", "price", "currency", "original_price", "availability", "images",
             "description", "features", "specs", "rating", "review_count", "sku", "gtin", "mpn",
             "variants", "canonical_url")


def _num(value, kind):
    try:
        return kind(str(value).replace(",", "")) if value not in (None, "") else None
    except ValueError:
        return None


def manifest_products(corpus_dir: Path) -> list[tuple[str, dict]]:
    """(page file, facts dict) for every manifest entry."""
    out = []
    for entry in json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8")):
        x = entry["expected"]
        facts = {key: None for key in FACT_KEYS}
        facts.update({k: x.get(k) for k in ("title", "brand", "price", "currency", "original_price",
                                             "availability", "sku", "gtin", "mpn", "canonical_url")})
        facts["images"] = [x["image_main"]] if x.get("image_main") else []
        facts["features"] = list(x.get("features_sample") or [])
        facts["description"] = x.get("description_startswith")
        facts["specs"] = {}
        facts["rating"] = _num(x.get("rating"), float)
        facts["review_count"] = _num(x.get("review_count"), int)
        facts["variants"] = None
        out.append((entry["file"], facts))
    return out


def extracted_products(corpus_dir: Path, files: list[str]) -> list[tuple[str, dict]]:
    try:
        from catalog.ingest.extract import extract_product
    except ImportError:
        return []
    out = []
    for name in files:
        facts = extract_product((corpus_dir / name).read_bytes())
        facts.pop("provenance", None)
        out.append((name, facts))
    return out


def corpus_products(corpus_dir: Path) -> list[tuple[str, dict]]:
    """Manifest facts and extracted facts of every page (the tests' ``corpus_products``)."""
    if not (corpus_dir / "manifest.json").exists():
        raise FileNotFoundError(f"no manifest.json in {corpus_dir}")
    products = manifest_products(corpus_dir)
    pages = [name for name, _ in products if (corpus_dir / name).exists()]
    return products + [(f"extracted:{n}", p) for n, p in extracted_products(corpus_dir, pages)]
