"""Heuristics for pages without (or with poor) structured data.

Works on the parsed DOM only, by generic cues any shop theme uses: the product h1 matched
against the document title, price-like elements near that h1 outside recommendation widgets,
buy-box wording, gallery images near the title, bullet lists and spec tables. Positions are
``sourceline`` numbers (cheap document order). Nothing here keys on a shop or domain.
"""
from __future__ import annotations

import re

from catalog.ingest.extract.brand import brand_beside_title, find_brand
from catalog.ingest.extract.codes import _LABEL_ONLY as LABEL_ONLY, _valid as valid_code, code_from_markup, codes_from_text
from catalog.ingest.extract.details import find_features, find_images, find_rating, find_specs
from catalog.ingest.extract.dom import (
    _NUMBER, _cls, _in_widget, _line, _text, _words, classify, visible_text, widget_scope,
)
from catalog.ingest.normalise import clean_text

_TITLE_XPATH = "//h1 | //h2[contains(@class,'itle')]"
_OLD_PRICE = re.compile(r"old|was|strike|regular|list|original|compare|rrp|before|crossed|msrp|"
                        r"retail|basis|uvp|normal|previous|reference|markdown", re.I)
_PRICE_NOISE = re.compile(r"shipping|per[-_ ]?unit|unit[-_ ]?price|installment|monthly|save|saving|"
                          r"percent|discount|off\b|ppu|delivery|points|filter|range|price-?_?slider|"
                          r"bulk|total", re.I)
# Split prices ('<span class=price-whole>4.</span><span class=price-fraction>45</span>'): the
# parts are not prices; their container is.
_PRICE_PART = re.compile(r"whole|fraction|decimal|cents|integer|symbol", re.I)
_OUT_OF_STOCK = re.compile(
    r"out of stock|sold out|(currently|temporarily) unavailable|no longer available|item is unavailable|"
    r"not available (for|to) (order|purchase|buy)|this item is (currently )?unavailable|discontinued|"
    r"ausverkauft|derzeit nicht verfügbar|nicht lieferbar|épuisé|rupture de stock|indisponible|agotado|"
    r"no disponible|esaurito|non disponibile|esgotado|indisponível|uitverkocht|нет в наличии|"
    r"品切れ|在庫切れ|缺货|售罄|無貨|품절", re.I)
_IN_STOCK = re.compile(
    r"\bin stock\b|add to (cart|bag|basket)|buy now|auf lager|in den warenkorb|lieferbar|en stock|"
    r"ajouter au panier|disponible|in magazzino|aggiungi al carrello|añadir al carrito|"
    r"adicionar ao carrinho|em estoque|в наличии|в корзину|dobavljivo|na zalogi|"
    r"カートに入れる|在庫あり|加入购物车|立即购买|장바구니|구매하기", re.I)
def find_title(doc, references: list[str], buckets: dict) -> tuple[str | None, object, bool]:
    """The visible product title: the title-like element that best matches the page's other
    names for the product (structured name, og:title, <title>). Returns (title, element,
    confident)."""
    reference = _words(" ".join(references))
    joined = " ".join(r.casefold() for r in references)
    best, best_score, best_el = None, 0.0, None
    candidates = sorted(doc.xpath(_TITLE_XPATH)[:150] + buckets["title"][:50], key=_line)
    for el in candidates:
        if el.tag in ("meta", "link", "img", "a", "option", "body", "html") or _in_widget(el, 5):
            continue
        if el.tag == "h1" and any(b in buckets["title"] for b in el.iterdescendants()):
            continue  # the inner title span is a candidate itself (the h1 adds subtitles)
        text = visible_text(el, 300)
        if not text or len(text) < 3:
            continue
        words = _words(text)
        overlap = len(words & reference) / max(len(words), 1) if reference else 0.3
        score = overlap + min(len(words), 8) * 0.02 + {"h1": 0.15, "h2": 0.0}.get(el.tag, 0.1)
        if text.casefold().rstrip(".…") in joined:  # verbatim in another name: strong, if not tiny
            score += 0.3 * min(1.0, len(words) / 5)
        if score > best_score:
            best, best_score, best_el = text, score, el
    if best is None or best_score < 0.45:
        if (best_el is not None and best_el.tag == "h1" and len(best.split()) >= 3 and reference
                and not _words(best) & reference):
            # The best content h1 shares no word with the <title>: the <title> is the site's
            # own ('Shop - slogan'), the h1 names the thing on sale.
            return best, best_el, False
        fallback = next((r for r in references[-2:] if r), None)
        return (_strip_site(fallback) if fallback else best), best_el, False
    for ref in references[:-1]:
        if not ref or len(ref) < 8:
            continue
        folded, ref_folded = best.casefold(), ref.casefold()
        suffix = best[len(ref):].strip()
        if folded.startswith(ref_folded) and suffix and (":" in suffix or len(suffix.split()) == 1):
            best = ref  # the h1 also holds a label or a code ('Details', 'Code: 73556')
            break
        rest = ref[len(best):].lstrip()
        if (ref_folded.startswith(folded) and len(rest) > 3 and len(best.split()) <= 4
                and not re.match(r"[|\-–—,/(]", rest)):
            best = _strip_site(ref) if _strip_site(ref).casefold().startswith(folded) else ref
            break  # the page splits the name over h1 + subtitle
    if best.endswith(("...", "…")):  # truncated on the page: a fuller reference wins
        stem = best.rstrip(".…").strip().casefold()
        full = next((r for r in references if r and r.casefold().startswith(stem) and len(r) > len(stem)
                     and not r.endswith(("...", "…"))), None)
        if full:
            best = _strip_site(full) if _strip_site(full).casefold().startswith(stem) else full
    elif len(best.split()) <= 2:  # h1 holding only the brand: the title's first segment says more
        for ref in references:
            segment = re.split(r"\s+[|\-–—]\s+", ref or "")[0].strip()
            if segment.casefold().startswith(best.casefold()) and len(segment) > len(best) + 3:
                buckets["brand_hint"] = best  # the h1 was the brand line above the name
                best = segment
                break
    return best, best_el, best_score >= 0.7


def _strip_site(title: str) -> str | None:
    if not title:
        return None
    parts = re.split(r"\s+[|\-–—:]{1,2}\s+|\s+at\s+", title)
    return max(parts, key=len).strip() if parts else title


_AMOUNT = re.compile(r"\d{1,3}(?:[ \u00a0\u202f.,'’]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)")
_CURRENCY_HINT = re.compile(r"[$€£¥₩₽₹₪₺₴₸฿₫]|\b[A-Z]{3}\b|kr\b|zł|kč|kn\b|тг|руб|грн|元|円|원|лв|lei|ft\b|"
                            r"r\$|chf|ر\.س", re.I)


_PRICE_WORDS = re.compile(r"\b(off|save|saving|after|shipping|delivery|versand|livraison|envío|bonus)\b|^\+|/\s*(month|mo)\b",
                          re.I)


def _range_low(text: str) -> str:
    """'¥149.00 - 159.00' → '¥149.00': a price range reads as its low end (what schema.org's
    AggregateOffer calls lowPrice, and what 'from' prices show); other texts unchanged."""
    amounts = list(_AMOUNT.finditer(text))
    if len(amounts) == 2:
        between = text[amounts[0].end():amounts[1].start()]
        if re.fullmatch(r"\D{0,8}", between) and re.search(r"[-–—~]", between):
            return text[: amounts[0].end() + between.index(next(c for c in between if c in "-–—~"))].strip()
    return text


def _amount_count(text: str) -> int:
    return len(_AMOUNT.findall(text))


def find_prices(doc, title_el, buckets) -> tuple[str | None, str | None, list[str]]:
    """(price_text, original_price_text, visible_price_texts) from price-classed elements near
    the title, recommendation widgets skipped. Containers showing several amounts are skipped
    in favour of their single-amount children (a sale block shows 'was' and 'now')."""
    anchor = _line(title_el) if title_el is not None else 0
    scored, old = [], None
    for el in (buckets["price"] + doc.xpath("//*[@itemprop='price']"))[:400]:
        cls = _cls(el)
        if _PRICE_NOISE.search(cls) or _PRICE_PART.search(el.get("class", "")) or el.tag in ("script", "style", "option", "select", "input", "form"):
            continue
        text = _range_low(_text(el, 80) or el.get("content") or el.get("data-price") or "")
        if not text or len(text) > 60 or not _NUMBER.search(text) or "%" in text or _amount_count(text) != 1:
            continue
        if el.xpath("ancestor::*[self::s or self::del or self::strike]") or _OLD_PRICE.search(cls):
            if old is None and not _in_widget(el):
                old = text
            continue
        if _in_widget(el):
            continue
        distance = _line(el) - anchor
        has_currency = bool(_CURRENCY_HINT.search(text)) or el.get("itemprop") == "price"
        if _PRICE_WORDS.search(text):
            continue
        key = (distance < -40, abs(distance) if distance > -40 else -distance, not has_currency, len(el))
        scored.append((key, text))
    scored.sort(key=lambda item: item[0])
    visible = [text for _, text in scored[:8]]
    if not scored:
        text, struck = _price_after_title(title_el)
        return text, old or struck, [text] if text else []
    return scored[0][1], old, visible


_PRICE_TEXT = re.compile(r"(?:[$€£¥₩₽]|\b(?:EUR|USD|GBP|CHF)\b)\s?\d[\d.,\u00a0 ]*\d|\d[\d.,\u00a0 ]*\d\s?(?:[$€£¥₩₽]|"
                         r"\b(?:EUR|USD|GBP|CHF|kr|zł|Kč|kn|Ft|lei|тг|руб|грн)\b|元|円|원)", re.I)


_PROMO_TEXT = re.compile(r"\b(earn|back|rewards?|spent|spend|financ\w*|credit|gift|over|orders?|free|save|"
                         r"off|shipping|delivery|month|points)\b", re.I)
_BARE_AMOUNT = re.compile(r"\d{1,3}(?:[.,]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?")
_CURRENCY_TOKEN = re.compile(r"[$€£¥₩₽]|EUR|USD|GBP|CHF|kr|zł|Kč|kn|Ft|lei|тг|руб|грн|元|円|원", re.I)


def _price_after_title(title_el) -> tuple[str | None, str | None]:
    """Last resort for unstyled (table-layout) pages: (price, struck-through price) from the
    first currency amounts after the title. Struck-through text is the old price; promotional
    lines ('Earn $25 back for every $250 spent') and texts with several amounts are skipped; a
    bare figure followed by a currency word ('2320' '元') is joined with it."""
    if title_el is None:
        return None, None
    old = None
    texts = title_el.xpath("following::text()[normalize-space()][position() <= 150]")
    for i, text in enumerate(texts):
        parent = text.getparent()
        holder = parent.getparent() if text.is_tail and parent is not None else parent
        if holder is None or holder.tag in ("script", "style", "option") or _in_widget(holder):
            continue
        if holder.tag in ("s", "del", "strike") or holder.xpath("ancestor::*[self::s or self::del or self::strike]"):
            old = old or (_PRICE_TEXT.search(text) or _BARE_AMOUNT.search(text) or [None])[0]
            continue
        if len(text) >= 120 or _PROMO_TEXT.search(text) or _amount_count(text) > 1:
            continue
        match = _PRICE_TEXT.search(text)
        if match:
            return match.group(0), old
        following = texts[i + 1].strip() if i + 1 < len(texts) else ""
        if _BARE_AMOUNT.fullmatch(text.strip()) and _CURRENCY_TOKEN.fullmatch(following):
            return f"{text.strip()} {following}", old
    return None, old


def find_availability(doc, title_el, buckets) -> str | None:
    """Buy-box wording: an out-of-stock phrase near the title beats an add-to-cart button."""
    anchor = _line(title_el) if title_el is not None else 0
    for link in doc.xpath("//link[contains(@href,'schema.org/')] | //meta[contains(@content,'schema.org/')]"):
        value = link.get("href") or link.get("content") or ""
        if "Stock" in value or "Order" in value or "Discontinued" in value:
            from catalog.ingest.normalise import availability_name
            return availability_name(value)
    # Elements named for availability first, then other stock-ish ones, each nearest the title.
    elements = sorted(buckets["stock"][:80], key=lambda e: ("vailab" not in _cls(e), abs(_line(e) - anchor)))
    for el in elements:
        if _in_widget(el):
            continue
        text = _text(el, 200)
        if re.search(r"\b(image|bild|imagen|immagine|photo|foto)\b", text, re.I):
            continue  # 'image not available' is about a picture, not the product
        if _OUT_OF_STOCK.search(text):
            return "OutOfStock"
        if _IN_STOCK.search(text):
            return "InStock"
    for el in (doc.xpath("//button | //input[@type='submit']") + buckets["cart"])[:80]:
        text = _text(el, 60) or el.get("value") or ""
        if _IN_STOCK.search(text) and not _in_widget(el) and el.get("disabled") is None:
            return "InStock"
    return None


def heuristic_candidates(doc, *, references: list[str]) -> dict:
    with widget_scope():
        return _heuristic_candidates(doc, references=references)


def _heuristic_candidates(doc, *, references: list[str]) -> dict:
    buckets = classify(doc)
    title, title_el, confident = find_title(doc, references, buckets)
    if title_el is not None and not buckets.get("brand_hint"):
        buckets["brand_hint"] = brand_beside_title(title_el, title, references)
    price, old, visible_prices = find_prices(doc, title_el, buckets)
    specs = find_specs(doc)
    rating, reviews = find_rating(doc, buckets)
    codes = {field: next((v for k, v in specs.items() if LABEL_ONLY[field].match(k) and len(v) <= 40
                          and valid_code(field, v)), None) for field in ("sku", "mpn", "gtin")}
    if not all(codes.values()):
        codes = {f: codes[f] or v for f, v in {**dict.fromkeys(codes), **codes_from_text(doc)}.items()}
    sku, gtin, mpn = codes.get("sku"), codes.get("gtin"), codes.get("mpn")
    desc = doc.xpath("//meta[@name='description']/@content")
    out = {
        "title": title, "title_confident": confident, "price": price, "original_price": old, "specs": specs,
        "availability": find_availability(doc, title_el, buckets), "brand": find_brand(doc, specs, buckets, title_el),
        "features": find_features(doc, buckets, title_el), "rating": rating, "review_count": reviews,
        "images": find_images(doc, title_el, title), "sku": sku, "gtin": gtin, "mpn": mpn,
        "description": clean_text(desc[0]) if desc else None,
        "canonical_url": next(iter(doc.xpath("//link[@rel='canonical']/@href")), None),
        "visible_prices": visible_prices, "brand_hint": buckets.get("brand_hint"),
        "markup_sku": code_from_markup(buckets["code"]),
    }
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}
