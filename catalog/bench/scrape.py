"""`manage.py bench scrape --corpus DIR`: score the extractor against a corpus manifest.

Every page is extracted twice in the same run: with the full chain and with the extruct-only
baseline (structured data, no heuristics), so the two are compared on the same loaded box.
Scoring rules (kept simple and stated, since they decide the numbers):

- a field is scored on a page when the manifest's ``expected`` has it; ``expected_alternatives``
  values are accepted too. A null expected value is scored ("must be absent") only for
  ``price``: the manifest uses null there for pages whose only visible price is a trap;
  elsewhere null means "not annotated".
- text compares case-insensitively with whitespace collapsed; SKU/MPN/GTIN also ignoring
  separators ('466/7999' = '4667999'); prices and ratings numerically;
  URLs without scheme; ``image_main`` against the first image, as the same picture
  (``normalise.image_identity``: scheme, query and CDN size tokens ignored, a resized-cache copy
  equals its original), or against another URL the page itself gives for that same picture
  (``provenance.images.lead_aliases``: the zoom link wrapping the main ``<img>``, or the
  ``<img>`` inside the zoom link that structured data names), never against other gallery
  pictures; ``description_startswith``,
  ``features_sample`` (each sample starts some feature) and ``images_min`` as named.
- ``fields`` score against the manifest as shipped. ``fields_adjudicated`` score the same
  extraction with the manifest errors listed in ``adjudications.py`` corrected, each applied
  only while its evidence is on the saved page and the manifest still says the disputed value.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from catalog.bench.adjudications import adjudicate
from catalog.ingest.extract import extract_product
from catalog.ingest.normalise import image_identity

FIELDS = ("title", "brand", "price", "currency", "original_price", "availability", "image_main",
          "rating", "review_count", "sku", "gtin", "mpn", "canonical_url", "description_startswith",
          "features_sample", "images_min")
_NULL_SCORED = {"price"}


def _norm(text) -> str:
    """Case, whitespace and typographic apostrophes (’ = ') do not count."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold().replace("’", "'")


def _code(text) -> str:
    """A product code without its printed separators: '466/7999' is the code 4667999 (the page
    that prints it says so in its own microdata: ``content="4667999"``)."""
    return re.sub(r"[\W_]+", "", str(text)).casefold()


def _url(text) -> str:
    return re.sub(r"^https?://", "", str(text or "")).rstrip("/")


def _num(value) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ".")) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _match(field: str, expected, facts: dict) -> bool:
    images = facts.get("images") or []
    if expected is None:
        return facts.get(field) in (None, "", [])
    if field in ("price", "original_price"):
        return _num(facts.get(field)) == _num(expected)
    if field == "rating":
        got = _num(facts.get("rating"))
        return got is not None and abs(got - _num(expected)) < Decimal("0.051")
    if field == "review_count":
        return _num(facts.get("review_count")) == _num(expected)
    if field == "image_main":
        lead = [images[0], *((facts.get("provenance") or {}).get("images") or {}).get("lead_aliases", [])] if images else []
        return image_identity(expected) in {image_identity(u) for u in lead}
    if field == "canonical_url":
        return _url(facts.get("canonical_url")) == _url(expected)
    if field == "description_startswith":
        return _norm(facts.get("description") or "").startswith(_norm(expected)[:60])
    if field == "features_sample":
        feats = [_norm(f) for f in facts.get("features") or []]
        return all(any(f.startswith(_norm(s)[:40]) for f in feats) for s in expected)
    if field == "images_min":
        return len(images) >= int(expected)
    if field in ("sku", "mpn", "gtin"):
        return facts.get(field) is not None and _code(facts[field]) == _code(expected)
    return facts.get(field) is not None and _norm(facts.get(field)) == _norm(expected)


def score_page(entry: dict, facts: dict) -> dict[str, bool]:
    expected = entry.get("expected") or {}
    alternatives = entry.get("expected_alternatives") or {}
    scores = {}
    for field in FIELDS:
        if field not in expected or (expected[field] is None and field not in _NULL_SCORED):
            continue
        options = [expected[field]] + list(alternatives.get(field) or [])
        scores[field] = any(_match(field, option, facts) for option in options)
    return scores


def _summarise(per_page: list[dict[str, bool]]) -> tuple[dict, float]:
    fields = {}
    for field in FIELDS:
        hits = [s[field] for s in per_page if field in s]
        if hits:
            fields[field] = round(sum(hits) / len(hits), 3)
    total = [v for s in per_page for v in s.values()]
    return fields, round(sum(total) / max(len(total), 1), 3)


def run(args: list[str], out) -> dict:
    parser = argparse.ArgumentParser(prog="bench scrape")
    parser.add_argument("--corpus", required=True, help="folder holding manifest.json and pages/")
    parser.add_argument("--verbose", action="store_true", help="list every failing field")
    opts = parser.parse_args(args)
    corpus = Path(opts.corpus)
    manifest_path = corpus / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"no manifest.json in {corpus}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pages = [(entry, (corpus / entry["file"]).read_bytes()) for entry in manifest]

    results = {}
    for mode in ("full", "baseline"):
        started, cpu_started = time.perf_counter(), time.process_time()
        facts = [extract_product(data, baseline=(mode == "baseline")) for _, data in pages]
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # less sensitive than wall time to a loaded box
        per_page = [score_page(entry, f) for (entry, _), f in zip(pages, facts)]
        fields, overall = _summarise(per_page)
        results[mode] = {"fields": fields, "overall": overall,
                         "pages_per_s": round(len(pages) / elapsed, 1),
                         "pages_per_cpu_s": round(len(pages) / max(cpu, 1e-6), 1), "per_page": per_page, "facts": facts}

    full, base = results["full"], results["baseline"]
    adjudicated, corrections = [], []
    for (entry, data), facts in zip(pages, full["facts"]):
        corrected, applied = adjudicate(entry, data)
        adjudicated.append(score_page(corrected, facts))
        corrections.extend(applied)
    fields_adjudicated, overall_adjudicated = _summarise(adjudicated)
    out.write(f"{'field':24} {'full':>6} {'extruct':>8} {'n':>4}\n")
    for field in FIELDS:
        if field in full["fields"]:
            n = sum(1 for s in full["per_page"] if field in s)
            out.write(f"{field:24} {full['fields'][field]:6.1%} {base['fields'].get(field, 0):8.1%} {n:4d}\n")
    out.write(f"{'overall':24} {full['overall']:6.1%} {base['overall']:8.1%}\n")
    for fix in corrections:
        out.write(f"ground-truth correction: {fix['page']} {fix['field']}: manifest {fix['manifest']!r}"
                  f" -> {fix['value']!r} ({fix['why']})\n")
    out.write(f"pages/s (wall): full {full['pages_per_s']}, extruct-only {base['pages_per_s']}; "
              f"pages per CPU-second: full {full['pages_per_cpu_s']}, extruct-only {base['pages_per_cpu_s']}\n")
    failures = {}
    for (entry, _), scores, facts in zip(pages, full["per_page"], full["facts"]):
        missed = [f for f, ok in scores.items() if not ok]
        if missed:
            failures[Path(entry["file"]).name] = missed
            if opts.verbose:
                for f in missed:
                    got = facts.get("images", [None])[:1] if f == "image_main" else facts.get(
                        {"description_startswith": "description", "features_sample": "features",
                         "images_min": "images"}.get(f, f))
                    out.write(f"  {Path(entry['file']).name[:40]:40} {f:14} want={str(entry['expected'].get(f))[:60]!r}"
                              f" got={str(got)[:60]!r} via={facts['provenance'].get(f, {}).get('source')}\n")
    return {"pages": len(pages), "fields": full["fields"], "overall": full["overall"],
            "pages_per_s": full["pages_per_s"], "pages_per_cpu_s": full["pages_per_cpu_s"],
            "baseline_extruct": {"fields": base["fields"], "overall": base["overall"],
                                 "pages_per_s": base["pages_per_s"], "pages_per_cpu_s": base["pages_per_cpu_s"]},
            "failures": failures,
            # the same run scored with the corrections in adjudications.py that the saved pages prove
            "fields_adjudicated": fields_adjudicated, "overall_adjudicated": overall_adjudicated,
            "ground_truth_corrections": corrections}
