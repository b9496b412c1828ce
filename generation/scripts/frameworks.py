"""Ad frameworks as data: the beats each one says, the facts it needs, where it falls back.

Fallback policy (documented in docs/scripts-and-voice.md): a framework whose required facts
are missing falls back along ``fallback`` until one fits; ``feature_tour`` needs nothing, so
writing never fails on a sparse product. The script records ``requested_framework``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .facts import ProductFacts


@dataclass(frozen=True)
class Framework:
    name: str
    core: tuple[str, ...]      # beats always attempted (skipped when their fact is missing)
    extra: tuple[str, ...]     # beats added, in order, when the target duration has room
    hook_shot: str = "product"
    fallback: str | None = None

    def missing(self, facts: ProductFacts) -> str | None:
        """Why this framework cannot be written for ``facts`` (None when it can)."""
        if self.name == "social_proof" and facts.rating is None:
            return "no rating"
        if self.name == "price_drop" and facts.discount_percent is None:
            return "no original price above the current price"
        if self.name == "three_reasons" and len(reason_sources(facts)) < 3:
            return "fewer than three reasons (features, price, rating, brand)"
        return None


FRAMEWORKS: dict[str, Framework] = {f.name: f for f in (
    Framework("problem_solution", core=("solution", "feature", "feature", "price"),
              extra=("feature", "brand", "feature", "in_stock", "filler", "feature", "filler", "filler"),
              hook_shot="lifestyle"),
    Framework("three_reasons", core=("reason", "reason", "reason"),
              extra=("price", "intro", "in_stock", "filler", "brand", "filler", "filler"), fallback="feature_tour"),
    Framework("social_proof", core=("reviews", "intro", "feature", "price"),
              extra=("feature", "feature", "brand", "filler", "feature", "in_stock", "filler", "filler"),
              hook_shot="lifestyle",
              fallback="three_reasons"),
    Framework("price_drop", core=("drop", "discount", "feature"),
              extra=("feature", "brand", "feature", "in_stock", "filler", "filler", "filler"), fallback="feature_tour"),
    Framework("feature_tour", core=("intro", "feature", "feature", "feature"),
              extra=("price", "feature", "brand", "feature", "filler", "in_stock", "filler", "rating", "filler")),
    Framework("ugc_testimonial", core=("ugc_feature", "ugc_feature", "price"),
              extra=("rating", "ugc_feature", "filler", "ugc_feature", "brand", "filler", "filler"), hook_shot="model"),
)}
FRAMEWORK_NAMES = tuple(FRAMEWORKS)


def reason_sources(facts: ProductFacts) -> list[str]:
    """What a "reason" beat can talk about, in order: features, then price, rating, brand."""
    sources = [key for key, _ in facts.features]
    sources += [name for name, present in (("price", facts.price is not None),
                                           ("rating", facts.rating is not None),
                                           ("brand", bool(facts.brand))) if present]
    return sources


def resolve_framework(name: str, facts: ProductFacts) -> tuple[Framework, list[str]]:
    """The framework to write and the notes explaining any fallback."""
    notes: list[str] = []
    framework = FRAMEWORKS[name]
    seen = set()
    while (why := framework.missing(facts)) and framework.fallback and framework.name not in seen:
        seen.add(framework.name)
        notes.append(f"framework {framework.name} needs facts this product lacks ({why}); "
                     f"fell back to {framework.fallback}")
        framework = FRAMEWORKS[framework.fallback]
    return framework, notes
