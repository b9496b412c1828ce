"""Ground-truth corrections for `bench scrape`, each proven by the page itself.

A manifest is written by people and can be wrong. When a miss turns out to be the manifest's
error, it is recorded here with the exact text on the saved page that settles it. The bench
prints its figures twice: ``fields`` against the manifest as shipped (the headline, never
changed by this file) and ``fields_adjudicated`` with these corrections applied.

A correction is applied only while it still holds:

- the manifest still says what the correction disputes (fix the manifest and the correction
  drops out by itself);
- the evidence string is on the saved page, byte for byte.

Only factual errors belong here. Judgement calls (which of two prices a shop prints is "the"
price) stay counted as misses: 032 (a store-card price, not the price everyone pays) and 059
(Etsy's JSON-LD and og tags disagree on both amount and currency) are therefore not listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Adjudication:
    page: str           # the manifest's file name, without the folder
    field: str
    manifest: object    # what the manifest says; the correction applies only while it still does
    value: str          # the correct value
    evidence: str       # text on the saved page that shows it
    why: str


ADJUDICATIONS: tuple[Adjudication, ...] = (
    Adjudication(
        page="067_custom_globalindustrial-benchtop.html",
        field="price",
        manifest=None,
        value="165.95",
        evidence='<p class="price main">Price: $165.95</p>',
        why="The manifest's note says the price is not rendered in the saved HTML; the buy box "
            "renders it (and the sticky header repeats it).",
    ),
)


def adjudicate(entry: dict, page: bytes) -> tuple[dict, list[dict]]:
    """The entry with every correction that still holds applied, and the list of those applied."""
    name = Path(entry["file"]).name
    expected = dict(entry.get("expected") or {})
    applied = []
    for fix in ADJUDICATIONS:
        if fix.page != name or fix.field not in expected or expected[fix.field] != fix.manifest:
            continue
        if fix.evidence.encode("utf-8") not in page:
            continue
        expected[fix.field] = fix.value
        applied.append({"page": name, "field": fix.field, "manifest": fix.manifest,
                        "value": fix.value, "why": fix.why})
    return {**entry, "expected": expected}, applied
