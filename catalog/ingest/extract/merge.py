"""Merge raw candidates from every extractor into one product-facts dict with provenance.

For each field the highest-priority source with a *valid* value wins (invalid values, such as
an unrendered template variable as a brand, fall through to the next source). Each winning
field records ``{source, confidence}``: the source's base confidence, raised when another
source agrees and lowered when one disagrees.
"""
from __future__ import annotations

import re
from catalog.ingest.extract.codes import clean_code
from catalog.ingest.normalise import (
    absolute_url, availability_name, image_identity, clean_text, currency_code, parse_decimal, parse_price_text, price_text,
)

SOURCE_CONFIDENCE = {"platform": 0.95, "json-ld": 0.9, "microdata": 0.85, "rdfa": 0.8,
                     "opengraph": 0.7, "heuristics": 0.55}
_TEMPLATE = re.compile(r"^\$\w+$|\{\{|\}\}|<%|%>|\$\{|^\[.*\]$|^null$|^undefined$|^none$", re.I)


def _valid_text(value, *, max_len: int) -> str | None:
    text = clean_text(value, limit=max_len * 2)
    if not text or len(text) > max_len or _TEMPLATE.search(text):
        return None
    return text


def _brand(value) -> str | None:
    text = _valid_text(value, max_len=120)
    if text and ":" in text and len(text) > 30:  # 'See more from brand: X'
        text = text.rsplit(":", 1)[1].strip()
    return text if text and len(text) <= 60 else None


_IMAGE_PATH = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp)$", re.I)


def _page_url(url: str | None) -> str | None:
    """A page address, not a picture's: some shops put the image URL in og:url."""
    if not url or _IMAGE_PATH.search(url.split("?", 1)[0].split("#", 1)[0]):
        return None
    return url


def _int(value) -> int | None:
    digits = re.sub(r"[^\d]", "", str(value)) if value is not None else ""
    return int(digits) if digits and len(digits) < 10 else None


def _rating(value) -> float | None:
    try:
        rating = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return rating if 0 < rating <= 10 else None


_THUMB_PATH = re.compile(r"/(small|thumbs?|thumbnails?|mini|tiny)/|[_-](thumb|small|tn)\.\w+$", re.I)


def _better_lead(images: list[str]) -> str | None:
    """A fuller URL of the same picture ('…/Crate/Item' vs '…/Crate/Item/$hero$/item.jpg'), or,
    when the first image is a thumbnail rendition (a 'small/' folder), the next one that is not."""
    first = images[0].split("?", 1)[0]
    for url in images[1:]:
        if url.startswith(first + "/"):
            return url
    if _THUMB_PATH.search(first):
        return next((u for u in images[1:] if not _THUMB_PATH.search(u.split("?", 1)[0])), None)
    return None


class Merger:
    """Collects ``(source, candidates)`` in priority order and resolves each field."""

    def __init__(self, *, base_url: str | None, hints: list[str], visible_prices: list[str] | None = None):
        self.base_url = base_url
        self.hints = hints
        # Amounts the page shows near the product: a structured price that the buyer does not
        # see (pre-tax, smallest size, stale) loses to one that they do.
        self.visible = {a for a in (parse_price_text(t, hints=hints)[0] for t in visible_prices or []) if a}
        self.sources: list[tuple[str, dict]] = []

    def add(self, source: str, candidates: dict) -> None:
        if candidates:
            self.sources.append((source, candidates))

    def _pick(self, field: str, validate):
        values = [(src, validate(c[field])) for src, c in self.sources if c.get(field) not in (None, "", [])]
        values = [(src, v) for src, v in values if v not in (None, "", [])]
        if not values:
            return None, None
        source, value = values[0]
        confidence = SOURCE_CONFIDENCE[source]
        others = [v for s, v in values[1:] if s != source]
        if others:
            confidence += 0.05 if value in others else -0.1
        return value, {"source": source, "confidence": round(min(confidence, 0.99), 2)}

    def _price_pair(self, field: str):
        """Price and the currency stated *with it* (same source) when there is one; a value
        also visible on the page is preferred over a higher-priority invisible one."""
        found = list(self._price_values(field))
        if field == "price" and len(found) > 1:
            # A source stating both a sale and a regular price, whose regular price is what a
            # higher-priority source calls the price: that source saw the sale (og sale vs
            # JSON-LD list price).
            regular = {src: amt for amt, _, src in self._price_values("original_price")}
            for amount, currency, source in found[1:]:
                if source != found[0][2] and regular.get(source) == found[0][0] and amount < found[0][0]:
                    return amount, currency, source
        if field == "price" and self.visible:
            for amount, currency, source in found:
                if amount in self.visible and source != "heuristics":
                    return amount, currency, source
            # og:price is often a different figure (pre-tax, smallest size); when only meta tags
            # state a price and the buy box shows another, the buy box wins.
            if found and found[0][2] == "opengraph" and found[-1][2] == "heuristics" and found[-1][1]:
                return found[-1]
        return found[0] if found else (None, None, None)

    def _price_values(self, field: str):
        for source, cand in self.sources:
            raw = cand.get(field)
            if raw in (None, ""):
                continue
            currency = currency_code(cand.get("currency"), hints=self.hints)
            if isinstance(raw, str) and not re.fullmatch(r"[\d.,\s]+", raw.strip()):
                amount, text_currency = parse_price_text(raw, hints=self.hints)
                currency = currency or text_currency
            else:
                amount = parse_decimal(raw, currency=currency)
            if amount is not None:
                yield amount, currency, source

    def facts(self) -> dict:
        out: dict = {}
        prov: dict = {}

        def put(field, value, p):
            out[field] = value
            if p and value not in (None, [], {}):
                prov[field] = p

        put("title", *self._pick("title", lambda v: _valid_text(v, max_len=500)))
        put("brand", *self._pick("brand", _brand))
        amount, currency, source = self._price_pair("price")
        put("price", price_text(amount), {"source": source, "confidence": SOURCE_CONFIDENCE.get(source, 0)})
        if currency is None:
            currency, p = self._pick("currency", lambda v: currency_code(v, hints=self.hints))
        else:
            p = {"source": source, "confidence": SOURCE_CONFIDENCE[source]}
        put("currency", currency, p)
        old, _, old_source = self._price_pair("original_price")
        if old is not None and amount is not None and old <= amount:
            old = None
        put("original_price", price_text(old), {"source": old_source, "confidence": SOURCE_CONFIDENCE.get(old_source, 0)})
        put("availability", *self._pick("availability", availability_name))
        put("images", *self._images())
        put("description", *self._pick("description", lambda v: clean_text(v, limit=5000)))
        put("features", *self._pick("features", lambda v: [t for t in (clean_text(x, limit=500) for x in v) if t]))
        put("specs", *self._pick("specs", lambda v: {clean_text(k): clean_text(x) for k, x in v.items()
                                                     if clean_text(k) and clean_text(x)}))
        put("rating", *self._pick("rating", _rating))
        put("review_count", *self._pick("review_count", _int))
        for field in ("sku", "gtin", "mpn"):
            put(field, *self._pick(field, lambda v: clean_code(_valid_text(v, max_len=64))))
        put("variants", *self._pick("variants", self._variants))
        put("canonical_url", *self._pick("canonical_url", lambda v: _page_url(absolute_url(v, self.base_url))))
        for field in ("images", "features", "variants"):
            out[field] = out.get(field) or []
        out["specs"] = out.get("specs") or {}
        out["provenance"] = prov
        return out

    def _images(self):
        seen, images, sources = set(), [], []
        for source, cand in self.sources:
            for raw in cand.get("images") or []:
                url = absolute_url(raw, self.base_url)
                if not url:
                    continue
                key = image_identity(url)
                if key not in seen:
                    seen.add(key)
                    images.append(url)
                    sources.append(source)
        if not images:
            return [], None
        lead = _better_lead(images)
        if lead:
            k = images.index(lead)
            images.insert(0, images.pop(k))
            sources.insert(0, "heuristics")
            sources.pop(k + 1)
        first_source = sources[0]
        # Per image, which extractor named it: structured data names this product's own gallery;
        # heuristics may also have picked up pictures of other things.
        return images[:30], {"source": first_source, "confidence": SOURCE_CONFIDENCE[first_source],
                             "sources": sources[:30]}

    def _variants(self, variants) -> list[dict]:
        out = []
        for v in variants[:200]:
            currency = currency_code(v.get("currency"), hints=self.hints)
            out.append({
                "name": clean_text(v.get("name"), limit=300), "sku": clean_text(v.get("sku"), limit=120),
                "price": price_text(parse_decimal(v.get("price"), currency=currency)),
                "currency": currency, "availability": availability_name(v.get("availability")),
                "attributes": {str(k): str(x) for k, x in (v.get("attributes") or {}).items() if x},
            })
        return out

