"""Corpus product facts for the script tests (shared with ``bench claims``)."""
from generation.scripts.bench.corpus import FACT_KEYS, extracted_products, manifest_products

__all__ = ["FACT_KEYS", "extracted_products", "manifest_products"]
