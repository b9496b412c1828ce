"""``ProductFacts``: the product as the video pipeline sees it — the first link of the typed
spine (ProductFacts → AdScript → Shot + VoiceTrack → Timeline → RenderResult).

Written by the ingest stage to the job folder as ``product.json`` and validated whenever it is
read back, so a renamed or mistyped field fails there, not silently in the video. Images refer
to stored files by *storage-relative key* (``workspaces/1/products/2/images/ab.jpg``), never by
an absolute server path; ``source_url`` keeps where the picture came from. ``rejected`` lists
what extraction found and refused, with the reason (a retailer as brand, a shipping line as a
feature, an "original price" ten times the price...).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FACTS_SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Money(_Model):
    """An amount in one currency. ``currency`` is None when the page did not say which: it is
    then never shown with a guessed symbol (an unknown currency is not "$")."""
    amount: Decimal = Field(gt=0)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class ProductImage(_Model):
    """One picture of the product. ``key`` is storage-relative in the job system (None while
    not downloaded); standalone tools (``render_template``) may name a local file instead."""
    key: str | None = None
    source_url: str | None = None
    width: int | None = None
    height: int | None = None

    @field_validator("key")
    @classmethod
    def _relative(cls, v: str | None) -> str | None:
        # A key names a stored file: no climbing out of storage, no URL (that is source_url).
        if v is not None and (".." in PurePosixPath(v).parts or "://" in v):
            raise ValueError(f"image key must be a storage key, got {v!r}")
        return v


class RejectedFact(_Model):
    """A value extraction found and refused, with the reason (shown in preview and API)."""
    field: str
    value: str
    reason: str


class ProductFacts(_Model):
    schema_version: Literal[1] = FACTS_SCHEMA_VERSION
    title: str = Field(min_length=1)
    brand: str | None = None
    price: Money | None = None
    original_price: Money | None = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    availability: str | None = None
    description: str | None = None
    features: list[str] = Field(default_factory=list)
    specs: dict[str, str] = Field(default_factory=dict)
    rating: float | None = Field(None, ge=0)
    rating_scale: float = 5.0
    review_count: int | None = Field(None, ge=0)
    sku: str | None = None
    mpn: str | None = None
    gtin: str | None = None
    canonical_url: str | None = None
    source_url: str | None = None
    variants: list[dict] = Field(default_factory=list)
    images: list[ProductImage] = Field(default_factory=list)  # main image first
    rejected: list[RejectedFact] = Field(default_factory=list)

    def image_files(self, root: Path | str) -> list[Path]:
        """Local files of the downloaded images under storage ``root``, main first."""
        files = [Path(root) / img.key for img in self.images if img.key]
        return [p for p in files if p.is_file()]

    def as_script_input(self) -> dict:
        """The plain facts dict the script writers and claim checker read (the
        ``Product.as_facts()`` / ``extract_product --jsonl`` shape): prices as strings,
        images as source URLs. Rejected facts are never in it."""
        return {
            "title": self.title, "brand": self.brand,
            "price": _text(self.price), "currency": self.currency,
            "original_price": _text(self.original_price),
            "availability": self.availability,
            "images": [img.source_url for img in self.images if img.source_url],
            "description": self.description, "features": list(self.features), "specs": dict(self.specs),
            "rating": self.rating, "review_count": self.review_count,
            "sku": self.sku, "gtin": self.gtin, "mpn": self.mpn,
            "variants": list(self.variants), "canonical_url": self.canonical_url,
        }

    @classmethod
    def from_facts_dict(cls, facts: dict, *, images: list[ProductImage] | None = None,
                        rejected: list[RejectedFact] | None = None) -> "ProductFacts":
        """Build from an extraction/``as_facts`` dict (image URLs become ``source_url``s
        unless ``images`` is given). Unknown keys are ignored; bad values raise."""
        currency = facts.get("currency") or None
        if images is None:
            images = [ProductImage(source_url=u) if isinstance(u, str) else ProductImage.model_validate(u)
                      for u in facts.get("images") or []]
        return cls(
            title=facts.get("title") or facts.get("brand") or "",
            brand=facts.get("brand") or None,
            price=_money(facts.get("price"), currency), original_price=_money(facts.get("original_price"), currency),
            currency=currency, availability=facts.get("availability") or None,
            description=facts.get("description") or None,
            features=[str(f) for f in facts.get("features") or []],
            specs={str(k): str(v) for k, v in (facts.get("specs") or {}).items()},
            rating=facts.get("rating"), review_count=facts.get("review_count"),
            sku=facts.get("sku") or None, mpn=facts.get("mpn") or None, gtin=facts.get("gtin") or None,
            canonical_url=facts.get("canonical_url") or None, source_url=facts.get("source_url") or None,
            variants=list(facts.get("variants") or []), images=images,
            rejected=rejected if rejected is not None else [RejectedFact.model_validate(r)
                                                           for r in facts.get("rejected") or []],
        )


def _money(value, currency: str | None) -> Money | None:
    if value in (None, ""):
        return None
    amount = Decimal(str(value))
    return Money(amount=amount, currency=currency) if amount > 0 else None


def _text(money: Money | None) -> str | None:
    if money is None:
        return None
    amount = money.amount
    return str(amount.quantize(Decimal("0.01"))) if amount != amount.to_integral_value() else f"{amount:.2f}"
