"""`manage.py bench claims [--corpus DIR] [--limit N]`: the claim checker on the seeded-error set.

Prints per-kind recall, then one JSON line: recall per language, false alarms on true
rewordings and on untouched writer scripts, and the number of kinds. Bench code only: the
runtime never imports this package.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from django.conf import settings


def default_corpus() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "corpus" / "product_pages"


def run(args: list[str], out) -> dict:
    from .corpus import corpus_products
    from .evaluate import evaluate

    parser = argparse.ArgumentParser(prog="bench claims")
    parser.add_argument("--corpus", default=str(default_corpus()), help="folder with manifest.json and pages/")
    parser.add_argument("--limit", type=int, default=0, help="only the first N products (0 = all)")
    opts = parser.parse_args(args)
    products = corpus_products(Path(opts.corpus))
    if opts.limit:
        products = products[: opts.limit]
    result = evaluate(products)
    for kind, (caught, total) in sorted(result.pop("per_kind").items()):
        out.write(f"{kind:55s} {caught:4d}/{total:<4d} {caught / total:.3f}\n")
    for miss in result.pop("missed")[:15]:
        out.write(f"missed: {miss}\n")
    for alarm in result.pop("alarms")[:15]:
        out.write(f"false alarm: {alarm}\n")
    return result
