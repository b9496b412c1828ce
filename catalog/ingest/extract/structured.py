"""Structured data: schema.org Product nodes from JSON-LD, microdata and RDFa, and
OpenGraph/product meta tags, all read by extruct from one parsed tree.

Each reader returns *raw candidates* ``{field: value}``; normalisation and merging happen in
``merge``. Nothing here knows about particular shops.
"""
from __future__ import annotations

import json
import logging

import extruct
from extruct.utils import parse_xmldom_html

from catalog.ingest.normalise import availability_name, clean_text

log = logging.getLogger(__name__)
_PRODUCT_TYPES = {"product", "productgroup", "productmodel", "individualproduct", "book",
                  "vehicle", "car", "softwareapplication", "offer"}
_GTIN_KEYS = ("gtin", "gtin13", "gtin12", "gtin14", "gtin8", "isbn")


def run_extruct(tree, text: str, *, base_url: str | None) -> dict:
    """One extruct pass over the already-parsed tree (JSON-LD, microdata, OpenGraph); RDFa
    (pyRdfa is slow and needs its own DOM) only when the page carries RDFa attributes and
    no JSON-LD/microdata Product already describes it."""
    data = extruct.extract(tree, base_url=base_url, syntaxes=["json-ld", "microdata", "opengraph"],
                           uniform=True, errors="ignore")
    if not data.get("json-ld") and "application/ld+json" in text:
        data["json-ld"] = _jsonld_per_script(tree)  # one broken script must not hide the others
    has_product = bool(product_nodes(data.get("json-ld") or []) or product_nodes(data.get("microdata") or []))
    if not has_product and 'typeof="' in text and 'property="' in text and "schema.org" in text:
        try:
            data["rdfa"] = extruct.extract(parse_xmldom_html(text.encode("utf-8"), "utf-8"),
                                           base_url=base_url, syntaxes=["rdfa"], errors="ignore").get("rdfa", [])
        except Exception:  # pyRdfa raises many kinds of errors on odd pages; RDFa is a bonus
            log.debug("rdfa extraction failed", exc_info=True)
    return data


def _jsonld_per_script(tree) -> list:
    items = []
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        raw = (script.text or "").strip().rstrip(";")
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):  # broken, or nested deeper than the parser's stack
            continue
        items.extend(data if isinstance(data, list) else [data])
    return items


def _types(node: dict) -> set[str]:
    raw = node.get("@type") or node.get("type") or []
    raw = raw if isinstance(raw, list) else [raw]
    return {str(t).rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() for t in raw}


def _walk(obj, depth: int = 0):
    """Every dict in a JSON-LD document, @graph and nesting included (depth-bounded)."""
    if depth > 12:
        return
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            if isinstance(value, (dict, list)):
                yield from _walk(value, depth + 1)
    elif isinstance(obj, list):
        for value in obj:
            yield from _walk(value, depth + 1)


def product_nodes(items: list) -> list[dict]:
    """Top-most Product-like nodes (a ProductGroup's variants stay inside their group)."""
    found: list[dict] = []
    inside: set[int] = set()
    for node in _walk(items):
        if id(node) in inside:
            continue
        types = _types(node)
        if types & (_PRODUCT_TYPES - {"offer"}) or (types == {"offer"} and node.get("itemOffered") is None
                                                     and node.get("name")):
            found.append(node)
            for child in _walk([node.get("hasVariant"), node.get("isVariantOf"), node.get("isRelatedTo"),
                                node.get("isSimilarTo"), node.get("model")]):
                inside.add(id(child))
        elif types == {"offer"} and isinstance(node.get("itemOffered"), dict):
            product = dict(node["itemOffered"])
            product.setdefault("offers", {k: v for k, v in node.items() if k != "itemOffered"})
            found.append(product)
            inside.add(id(node["itemOffered"]))
    return found


def _first(value):
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "", [], {})), None)
    return value


def _name(value) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("value")
        value = _first(value)
    return clean_text(value) if isinstance(value, (str, int, float)) else None


def _offers(node: dict) -> list[dict]:
    offers = node.get("offers") or []
    offers = offers if isinstance(offers, list) else [offers]
    flat: list[dict] = []
    for offer in offers:
        if not isinstance(offer, dict):
            continue
        flat.append(offer)
        inner = offer.get("offers")
        if isinstance(inner, list):
            flat.extend(o for o in inner if isinstance(o, dict))
        elif isinstance(inner, dict):
            flat.append(inner)
    return flat


def _offer_price(offer: dict) -> tuple[object, object, object]:
    """(price, currency, list_price) of one Offer, from price / lowPrice / priceSpecification."""
    price = _first(offer.get("price"))
    if price in (None, ""):
        price = _first(offer.get("lowPrice"))
    currency = _first(offer.get("priceCurrency"))
    list_price = None
    specs = offer.get("priceSpecification") or []
    for spec in specs if isinstance(specs, list) else [specs]:
        if not isinstance(spec, dict):
            continue
        kind = str(spec.get("priceType") or "").lower()
        if any(k in kind for k in ("list", "strikethrough", "msrp", "srp")):
            list_price = list_price or _first(spec.get("price"))
        elif price in (None, ""):
            price = _first(spec.get("price")) or _first(spec.get("minPrice"))
            currency = currency or _first(spec.get("priceCurrency"))
    return price, currency, list_price


def _images(value) -> list:
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item = item.get("contentUrl") or item.get("url") or item.get("@id")
        if isinstance(item, list):
            out.extend(_images(item))
        elif isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


def _variant(node: dict) -> dict:
    offers = _offers(node)
    price, currency, _ = _offer_price(offers[0]) if offers else (None, None, None)
    attributes = {}
    for key in ("color", "size", "material", "pattern"):
        value = _name(node.get(key))
        if value:
            attributes[key] = value
    for prop in node.get("additionalProperty") or []:
        if isinstance(prop, dict) and prop.get("name") and prop.get("value") is not None:
            attributes[clean_text(prop["name"])] = clean_text(prop["value"])
    return {"name": _name(node.get("name")), "sku": _name(node.get("sku")) or (
        _name(offers[0].get("sku")) if offers else None), "price": price, "currency": currency,
        "availability": availability_name(_first(offers[0].get("availability"))) if offers else None,
        "attributes": attributes}


def product_candidates(node: dict) -> dict:
    """Raw field candidates of one schema.org Product / ProductGroup node."""
    offers = _offers(node)
    variants_nodes = node.get("hasVariant") or []
    variants_nodes = [v for v in (variants_nodes if isinstance(variants_nodes, list) else [variants_nodes])
                      if isinstance(v, dict)]
    if not offers:
        for variant in variants_nodes:
            offers.extend(_offers(variant))
    prices = [(_offer_price(o), availability_name(_first(o.get("availability")))) for o in offers]
    availabilities = [a for _, a in prices if a]
    chosen = next((p for p, a in prices if a == "InStock" and p[0] not in (None, "")),
                  next((p for p, _ in prices if p[0] not in (None, "")), (None, None, None)))
    rating = node.get("aggregateRating") if isinstance(node.get("aggregateRating"), dict) else {}
    gtin = next((_name(node.get(k)) for k in _GTIN_KEYS if _name(node.get(k))), None)
    offer0 = offers[0] if offers else {}
    out = {
        "title": _name(node.get("name")),
        "brand": _name(node.get("brand")) or _name(node.get("manufacturer")),
        "description": clean_text(_first(node.get("description"))),
        "images": _images(node.get("image")),
        "sku": _name(node.get("sku")) or _name(node.get("productID")) or _name(offer0.get("sku")),
        "gtin": gtin or next((_name(offer0.get(k)) for k in _GTIN_KEYS if _name(offer0.get(k))), None),
        "mpn": _name(node.get("mpn")) or _name(offer0.get("mpn")),
        "canonical_url": _first(node.get("url")) if isinstance(_first(node.get("url")), str) else None,
        "price": chosen[0], "currency": chosen[1], "original_price": chosen[2],
        "availability": ("InStock" if "InStock" in availabilities else availabilities[0]) if availabilities else None,
        "rating": _first(rating.get("ratingValue")),
        "review_count": _first(rating.get("reviewCount")) or _first(rating.get("ratingCount")),
    }
    if len(offers) > 1 or variants_nodes:
        out["variants"] = [_variant(v) for v in variants_nodes] or [
            {"name": _name(o.get("name")), "sku": _name(o.get("sku")), "price": _offer_price(o)[0],
             "currency": _offer_price(o)[1], "availability": availability_name(_first(o.get("availability"))),
             "attributes": {}} for o in offers]
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}


def rdfa_nodes(items: list) -> list[dict]:
    """RDFa (JSON-LD expanded form) → plain schema.org-like dicts with @id links resolved."""
    by_id = {}
    for item in items:
        if isinstance(item, dict) and "@id" in item:
            by_id[item["@id"]] = item

    def simplify(node: dict, depth: int = 0) -> dict:
        out: dict = {"@type": [t.rsplit("/", 1)[-1] for t in node.get("@type", [])]}
        for key, values in node.items():
            if key.startswith("@") or not isinstance(values, list):
                continue
            short = key.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            simple = []
            for value in values:
                if isinstance(value, dict) and "@value" in value:
                    simple.append(value["@value"])
                elif isinstance(value, dict) and value.get("@id") in by_id and depth < 4:
                    simple.append(simplify(by_id[value["@id"]], depth + 1))
                elif isinstance(value, dict) and "@id" in value:
                    simple.append(value["@id"])
            out[short] = simple[0] if len(simple) == 1 else simple
        return out

    return [simplify(n) for n in by_id.values() if any("schema.org/Product" in t for t in n.get("@type", []))]


def opengraph_candidates(items: list) -> dict:
    """Candidates from og:* and product:* meta (uniform extruct output: one dict per namespace)."""
    props: dict = {}
    for item in items:
        for key, value in item.items():
            if key.startswith("@"):
                continue
            props.setdefault(key, value)
    def get(*keys):
        for key in keys:
            value = props.get(key)
            value = _first(value) if isinstance(value, list) else value
            if value not in (None, ""):
                return value
        return None
    images = props.get("og:image") or props.get("og:image:url") or props.get("og:image:secure_url")
    return {k: v for k, v in {
        "title": clean_text(get("og:title")),
        "og_type": get("og:type"),
        "description": clean_text(get("og:description")),
        "images": images if isinstance(images, list) else ([images] if images else []),
        "canonical_url": get("og:url"),
        "price": get("product:price:amount", "og:price:amount", "product:sale_price:amount", "og:price"),
        "currency": get("product:price:currency", "og:price:currency", "product:sale_price:currency"),
        "original_price": get("product:original_price:amount", "og:price:standard_amount",
                              "product:price:standard_amount"),
        "availability": get("product:availability", "og:availability"),
        "brand": clean_text(get("product:brand", "og:brand")),
        "sku": clean_text(get("product:retailer_item_id", "product:sku")),
        "gtin": clean_text(get("product:gtin", "product:ean", "product:upc")),
        "mpn": clean_text(get("product:mfr_part_no")),
        "locale": get("og:locale"),
        "site_name": clean_text(get("og:site_name")),
    }.items() if v not in (None, "", [])}
