"""Product extraction from one HTML page: ``extract_product(html, url=...) -> facts dict``.

The chain, highest priority first: platform adapters detected from markup (offline part only),
schema.org JSON-LD, microdata, RDFa, OpenGraph/product meta, then DOM heuristics. Every field
carries provenance (which extractor, what confidence). Pure: no network, no database.
"""
from __future__ import annotations

import re

import lxml.etree
import lxml.html

from catalog.ingest.charset import decode_html
from catalog.ingest.extract.brand import clean_brand
from catalog.ingest.extract.dom import _words
from catalog.ingest.extract.heuristics import heuristic_candidates
from catalog.ingest.extract.gallery import gallery_lead
from catalog.ingest.extract.merge import SOURCE_CONFIDENCE, Merger
from catalog.ingest.extract.platforms import embedded_product_candidates
from catalog.ingest.extract.sanitise import storable
from catalog.ingest.extract.state import spelled_as_in, state_brand, state_pair_brand, state_sku
from catalog.ingest.extract.structured import (
    opengraph_candidates, product_candidates, product_nodes, rdfa_nodes, run_extruct,
)
from catalog.ingest.extract.codes import prefer_labelled_codes, sku_from_url
from catalog.ingest.sanity import is_marketplace_brand
from catalog.ingest.normalise import COUNTRY_CURRENCY, absolute_url, clean_text, country_hints, script_hints

EXTRACTOR_VERSION = "1.0"
FACT_KEYS = ("title", "brand", "price", "currency", "original_price", "availability", "images",
             "description", "features", "specs", "rating", "review_count", "sku", "gtin", "mpn",
             "variants", "canonical_url")


def parse_document(html: bytes | str, *, headers: dict | None = None):
    """(lxml document, text) from bytes (charset resolved) or str."""
    if isinstance(html, bytes):
        content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)
        html, _ = decode_html(html, content_type=content_type)
    # lxml refuses str input that carries an XML encoding declaration; feed UTF-8 bytes.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):  # empty or whitespace-only document
        doc = lxml.html.document_fromstring(b"<html><body></body></html>", parser=parser)
    return doc, html


def page_origin(doc) -> str | None:
    """Offline guess of a saved page's origin when nothing names its URL: the scheme and host
    most of its absolute links point to (a shop links to itself more than to anyone else), so
    relative image URLs still resolve. Live ingest always knows the URL and never needs it."""
    counts: dict[str, int] = {}
    for href in doc.xpath("//a/@href[starts-with(., 'http')]")[:2000]:
        match = re.match(r"https?://[^/?#\s]+", href)
        if match:
            counts[match.group(0)] = counts.get(match.group(0), 0) + 1
    if not counts:
        return None
    origin, hits = max(counts.items(), key=lambda item: item[1])
    return origin + "/" if hits >= 5 and hits >= 0.2 * sum(counts.values()) else None


def _pick_node(nodes: list[dict], reference: set[str]) -> list[dict]:
    """The main product node first: best name overlap with the page title, offers preferred."""
    def score(node):
        cand = product_candidates(node)
        words = _words(cand.get("title") or "")
        overlap = len(words & reference) / max(len(words), 1)
        return overlap + (0.3 if cand.get("price") else 0)
    return sorted(nodes, key=score, reverse=True)


def _same_name_variants(nodes: list[dict], main: dict) -> list[dict] | None:
    """Several Product nodes with the main one's name (one per size): treat them as variants."""
    name = main.get("name")
    same = [n for n in nodes if n.get("name") == name]
    if len(same) < 2:
        return None
    return [{"name": product_candidates(n).get("title"), "sku": product_candidates(n).get("sku"),
             "price": product_candidates(n).get("price"), "currency": product_candidates(n).get("currency"),
             "availability": product_candidates(n).get("availability"), "attributes": {}} for n in same]


def extract_product(html: bytes | str, *, url: str | None = None, headers: dict | None = None,
                    baseline: bool = False, platform: dict | None = None) -> dict:
    """Facts (docs/architecture.md keys) + ``provenance``; fields absent from the page are None.

    ``platform`` is what a platform adapter read from the shop's API (live ingest only; see
    ``platforms.platform_candidates``): it outranks the page. ``baseline=True`` uses extruct's structured data only (no heuristics, no cross-checks):
    the benchmark's reference point.
    """
    doc, text = parse_document(html, headers=headers)
    canonical = next(iter(doc.xpath("//link[@rel='canonical']/@href")), None)
    data = run_extruct(doc, text, base_url=url or absolute_url(canonical, None))
    og = opengraph_candidates(data.get("opengraph") or [])
    base_href = next(iter(doc.xpath("//base/@href")), None)
    base_url = (url or absolute_url(base_href, None) or absolute_url(canonical, None)
                or absolute_url(og.get("canonical_url"), None) or page_origin(doc))
    lang = (doc.get("lang") or doc.get("xml:lang") or og.get("locale") or "")
    hints = country_hints(url=url or base_url, lang=lang)
    if og.get("locale"):
        hints += country_hints(url=None, lang=og["locale"])
    head_title = clean_text(" ".join(doc.xpath("(//title)[1]//text()"))) or ""
    hints += script_hints(head_title or og.get("title") or "")

    structured = []
    for syntax, items in (("json-ld", data.get("json-ld")), ("microdata", data.get("microdata")),
                          ("rdfa", rdfa_nodes(data.get("rdfa") or []))):
        nodes = product_nodes(items or []) if syntax != "rdfa" else items
        if nodes:
            structured.append((syntax, nodes))
    names = [clean_text(n.get("name")) for _, nodes in structured for n in nodes[:3]]
    references = [n for n in names + [og.get("title"), head_title] if n]
    heur = {} if baseline else heuristic_candidates(doc, references=references)
    merger = Merger(base_url=base_url, hints=hints, visible_prices=heur.pop("visible_prices", None))
    brand_hint = heur.pop("brand_hint", None)
    markup_sku = heur.pop("markup_sku", None)
    if platform:
        merger.add("platform", platform)
    elif (not baseline and ("ProductJson" in text or "product-json" in text)
          and (embedded := embedded_product_candidates(doc, names=references + [heur.get("title")]))):
        merger.add("platform", embedded)  # the storefront's own product JSON, embedded in the page
    if heur.pop("title_confident", False):
        merger.add("heuristics", {"title": heur["title"]})  # the visible product name leads
    reference = _words(f"{heur.get('title', '')} {og.get('title', '')} {head_title}")
    for syntax, nodes in structured:
        ordered = _pick_node(nodes, reference) if len(nodes) > 1 else nodes
        cand = product_candidates(ordered[0])
        if "variants" not in cand and (variants := _same_name_variants(nodes, ordered[0])):
            cand["variants"] = variants
            if any(v.get("availability") == "InStock" for v in variants):
                cand["availability"] = "InStock"  # one size sold out is not the product sold out
        merger.add(syntax, cand)
    merger.add("opengraph", og)
    merger.add("heuristics", heur)
    facts = merger.facts()
    rejected: list[dict] = []  # what extraction itself refused, with why (see catalog.ingest.sanity)
    if not baseline:
        if facts.get("brand") and is_marketplace_brand(facts["brand"], title=facts.get("title"), url=base_url,
                                                       site_name=og.get("site_name")):
            rejected.append({"field": "brand", "value": facts["brand"],
                             "reason": "a retailer or marketplace name, not the product's maker"})
            facts["brand"] = None  # the shop, not the maker: look for the maker below
            facts["provenance"].pop("brand", None)
        prefer_labelled_codes(facts, {"sku": heur.get("sku"), "mpn": heur.get("mpn")}, doc,
                              markup_lookup=lambda: markup_sku)
        _gallery_lead(facts, doc, base_url)
        h1 = clean_text(" ".join(doc.xpath("(//h1)[1]//text()")), limit=300)
        _fill_gaps(facts, names=[heur.get("title"), *names, og.get("title")], site_name=og.get("site_name"),
                   head_title=head_title, hints=hints, brand_hint=brand_hint,
                   state_lookup=lambda: (state_brand(doc, [heur.get("title"), h1, og.get("title"), head_title])
                                         or state_pair_brand(doc)),
                   sku_lookup=lambda: state_sku(doc, [facts.get("title"), heur.get("title"), h1, og.get("title")]),
                   markup_lookup=lambda: markup_sku,
                   spelling=" | ".join(n for n in (heur.get("title"), h1, og.get("title"), head_title) if n),
                   url=base_url, label_lookup=lambda: _labelled_brand(doc))
    return storable({key: facts.get(key) for key in FACT_KEYS} | {"provenance": facts["provenance"], "rejected": rejected})


def _gallery_lead(facts: dict, doc, base_url: str | None) -> None:
    """The gallery's first slide leads over a later slide named as the share picture; zoom
    links record the other URL of the same main picture (see ``gallery``)."""
    images, moved, aliases = gallery_lead(doc, facts["images"], base_url=base_url)
    prov = facts["provenance"].get("images")
    if not prov:
        return
    if moved:
        by_url = dict(zip(facts["images"], prov.get("sources") or []))
        facts["images"] = images[:30]
        prov.update({"source": "heuristics", "confidence": SOURCE_CONFIDENCE["heuristics"],
                     "sources": [by_url.get(u, "heuristics") for u in facts["images"]],
                     "note": "the first slide of the gallery holding the structured image"})
    if aliases:
        prov["lead_aliases"] = aliases


_BY_BRAND = re.compile(r"\s(?i:by|von|par|di|de)\s+([A-Z][\w'’&.-]+(?:\s[A-Z][\w'’&.-]+){0,2})\s*$")
_CAPS_RUN = re.compile(r"^(?:[^\sA-Za-z]+\s+)*((?:[A-Z][A-Z0-9&'’.-]+)(?:\s[A-Z][A-Z0-9&'’.-]+)?)(?=\s|$)")
_SITE_SUFFIX = re.compile(r"(?:\s[|–—-]\s|\sfrom\s)([^|–—-]{2,30})$")


def _brand_from_names(names: list[str]) -> str | None:
    """'SKECHERS Prima - Leather Laces' vs 'Prima - Leather Laces': the extra leading words of
    one name of the product over another are its brand; 'Table By Earthlite' names it too."""
    names = [n for n in dict.fromkeys(n.strip() for n in names if n) if n]
    for longer in names:
        for shorter in names:
            if len(shorter) >= 8 and longer != shorter and longer.casefold().endswith(shorter.casefold()):
                prefix = longer[: len(longer) - len(shorter)].strip(" -|:")
                if prefix and 1 <= len(prefix.split()) <= 3 and len(prefix) <= 30:
                    return prefix
    for name in names:
        if (match := _BY_BRAND.search(name)):
            return match.group(1)
    for name in names[:1]:  # 'APPLE iMac Pro', 'Холодильник BEKO RCSK': a leading capitalised maker
        match = _CAPS_RUN.match(name)
        rest = name[match.end():].split() if match else []
        if (match and re.search(r"[a-zа-яё\u3040-\u9fff\uac00-\ud7af]", name) and len(match.group(1)) >= 3
                and rest and re.search(r"[A-Z0-9\u0400-\uffff]", rest[0])):  # 'USB cable' is no maker
            words = match.group(1).split()
            return words[0] if len(rest) > 0 and rest[0].isupper() and len(rest[0]) > 2 else match.group(1)
    return None


_BRAND_KEY = re.compile(r"^(brand|brand name|marque|marke|marca|merk|marka|бренд|марка|производитель|品牌|ブランド|브랜드|"
                        r"varumärke|mærke|merke|merkki|márka|marcă|μάρκα|thương hiệu|merek|שם מותג|מותג|الماركة|"
                        r"العلامة التجارية)\s*:?$",
                        re.I)


def _spec_brand(specs: dict) -> str | None:
    """A 'Brand' row of the item specifics ('Marque: Duracell' on a marketplace page)."""
    for key, value in specs.items():
        if _BRAND_KEY.match(str(key).strip()) and value and 1 <= len(str(value)) <= 60:
            text = clean_brand(str(value).strip())
            if text and text.casefold() not in ("unbranded", "sans marque", "ohne marke", "n/a", "generic", "does not apply"):
                return text
    return None


def _labelled_brand(doc) -> str | None:
    """'Marque : | Duracell' in an item-specifics table (label cell, then its value cell)."""
    for el in doc.xpath("//td|//th|//dt")[:4000]:
        label = re.sub(r"\s+", " ", el.text_content() or "").strip()
        if len(label) <= 24 and _BRAND_KEY.match(label) and (value := el.getnext()) is not None:
            found = _spec_brand({"brand": re.sub(r"\s+", " ", value.text_content() or "").strip()})
            if found:
                return found
    return None


def _fill_gaps(facts: dict, *, names, site_name, head_title, hints, brand_hint=None, state_lookup=None,
               spelling: str = "", url: str | None = None, label_lookup=None, sku_lookup=None,
               markup_lookup=None) -> None:
    """Low-confidence inferences for fields the page does not state outright."""
    prov = facts["provenance"]
    if not facts.get("brand"):
        brand, source = brand_hint, "brand line beside the product name"
        if not brand and (spec := _spec_brand(facts.get("specs") or {}) or (label_lookup() if label_lookup else None)):
            brand, source = spec, "the product's spec table (Brand row)"
        if not brand and state_lookup and (brand := state_lookup()):
            brand, source = spelled_as_in(brand, spelling), "page state object naming the product"
        if not brand:
            brand, source = _brand_from_names([n for n in names if n]), "product name"
            brand = clean_brand(brand) if brand else None  # 'Details about' is a label, not a maker
        suffix = _SITE_SUFFIX.search(head_title or "")
        site = site_name or (suffix.group(1).strip() if suffix else None)
        if (not brand and site and site.casefold() in (head_title or "").casefold() and "." not in site
                and not is_marketplace_brand(site, title=None, url=url, site_name=site)):
            brand, source = clean_brand(site), "site name (brand's own shop)"  # 'X Store' → 'X'
        if brand:
            facts["brand"] = brand
            prov["brand"] = {"source": "heuristics", "confidence": 0.35, "note": source}
    if not facts.get("sku") and markup_lookup and (sku := markup_lookup()):
        facts["sku"] = sku
        prov["sku"] = {"source": "heuristics", "confidence": 0.45, "note": "an element named for the product's reference"}
    if not facts.get("sku") and sku_lookup and (sku := sku_lookup()):
        facts["sku"] = sku
        prov["sku"] = {"source": "heuristics", "confidence": 0.4, "note": "page state object naming the product"}
    weak = (prov.get("sku") or {}).get("source") == "heuristics"  # a label in the text, not data
    if (not facts.get("sku") or weak) and (sku := sku_from_url(facts.get("canonical_url") or url,
                                                               strong_only=bool(facts.get("sku")))):
        facts["sku"] = sku
        prov["sku"] = {"source": "heuristics", "confidence": 0.3, "note": "the product id in the page's address"}
    if facts.get("price") and not facts.get("currency"):
        code = next((COUNTRY_CURRENCY[h] for h in hints if h in COUNTRY_CURRENCY), None)
        if code:
            facts["currency"] = code
            prov["currency"] = {"source": "heuristics", "confidence": 0.3, "note": "from the page's country"}
    if facts.get("price") and not facts.get("availability"):
        facts["availability"] = "InStock"
        prov["availability"] = {"source": "heuristics", "confidence": 0.3,
                                "note": "assumed: a price is shown and no sold-out signal was found"}


def has_product(facts: dict) -> bool:
    """Enough to call it a product page: a title plus a price, an image or structured data."""
    prov = facts.get("provenance") or {}
    structured = any(isinstance(p, dict) and p.get("source") in ("json-ld", "microdata", "rdfa", "platform")
                     for p in prov.values())
    return bool(facts.get("title")) and bool(facts.get("price") or structured or facts.get("images"))


__all__ = ["extract_product", "has_product", "page_origin", "EXTRACTOR_VERSION", "FACT_KEYS", "parse_document"]
