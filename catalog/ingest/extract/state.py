"""Facts from embedded page state: the JavaScript objects shops ship with the HTML (analytics
data layers, app state such as ``window.__STATE__ = {...}``), read without executing anything.

A value counts only when it sits in the same object as a name that matches the product's own
name, so the brand of a recommended product or of the shop is not taken. Regex over script
text (bounded), no JSON parse: the blobs are often JavaScript, not JSON.
"""
from __future__ import annotations

import re

from catalog.ingest.extract.brand import BRAND_LABEL, clean_brand
from catalog.ingest.extract.codes import _valid as valid_code
from catalog.ingest.extract.dom import _words

_QUOTED = r"""(?:"((?:[^"\\]|\\.){%d,%d})"|'((?:[^'\\]|\\.){%d,%d})')"""
_BRAND_KEY = re.compile(r"""["']?(?:brand|brandName|brand_name|manufacturer)["']?\s*:\s*""" + _QUOTED % (2, 60, 2, 60),
                        re.I)
_NAME_KEY = re.compile(r"""["']?(?:name|productName|product_name|title)["']?\s*:\s*""" + _QUOTED % (3, 300, 3, 300),
                       re.I)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_WINDOW = 1500  # characters either side of a brand key searched for the product's name
_MAX_SCRIPT = 3_000_000


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/").replace('\\"', '"')


def _same_product(name: str, title_words: set[str]) -> bool:
    words = _words(_unescape(name))
    return len(words) >= 2 and len(words & title_words) >= 0.8 * len(words) and len(words & title_words) >= 2


def state_brand(doc, names: list[str | None]) -> str | None:
    """The brand stated next to one of the product's names in an embedded state object, or None."""
    word_sets = [w for w in (_words(n or "") for n in names) if len(w) >= 2]
    if not word_sets:
        return None
    for script in doc.xpath("//script[not(@src)]")[:300]:
        text = script.text or ""
        if "rand" not in text and "anufacturer" not in text or "ld+json" in (script.get("type") or ""):
            continue
        text = text[:_MAX_SCRIPT]
        for match in _BRAND_KEY.finditer(text):
            window = text[max(0, match.start() - _WINDOW): match.end() + _WINDOW]
            if any(_same_product(m.group(1) or m.group(2), words)
                   for m in _NAME_KEY.finditer(window) for words in word_sets):
                brand = _unescape(match.group(1) or match.group(2)).strip()
                # a domain ('shop.com') names the site, not the maker
                if brand and not re.search(r"[<>{}]|\.[a-z]{2,4}$", brand, re.I):
                    return brand
    return None


def spelled_as_in(brand: str, text: str | None) -> str:
    """'TP Link' / 'BELKIN' written as the page's product name writes it ('TP-Link', 'Belkin')."""
    letters = [re.escape(part) for part in re.split(r"[\s\-_.]+", brand.strip()) if part]
    if not letters or not text:
        return brand
    match = re.search(r"(?<!\w)" + r"[\s\-_.]*".join(letters) + r"(?!\w)", text, re.I)
    return match.group(0) if match else brand


_SKU_KEY = re.compile(r"""["']?(?:sku|productSku|product_sku|skuCode|sku_code|itemSku)["']?\s*:\s*"""
                      r"""(?:"([A-Za-z0-9][\w./-]{1,38})"|'([A-Za-z0-9][\w./-]{1,38})'|(\d{3,20})\b)""", re.I)
# A spec row as a name/value pair ({"attrName": "Brand", "attrValue": "Apple"}; schema.org's
# PropertyValue shape): the label in any language the brand dictionary knows, then its value.
_PAIR_BRAND = re.compile(
    r"""["'](?:attrName|attributeName|name|label|key|title|propertyName)["']\s*:\s*["']\s*(?:""" + BRAND_LABEL
    + r""")\s*:?\s*["']\s*,\s*(?:["']\w+["']\s*:\s*[^,{}\[\]]{0,40},\s*){0,3}"""
    r"""["'](?:attrValue|attributeValue|value|val|propertyValue)["']\s*:\s*["']([^"'<>{}]{2,60})["']""", re.I)


def _object_around(text: str, start: int, end: int) -> str:
    """The innermost {...} around text[start:end], approximately (no nested object before it)."""
    left = text.rfind("{", max(0, start - _WINDOW), start)
    right = text.find("}", end, end + _WINDOW)
    return text[left: right + 1] if left >= 0 and right >= 0 else ""


def state_sku(doc, names: list[str | None]) -> str | None:
    """The SKU stated in the same object as the product's own name in embedded state (a
    storefront's analytics product, a data layer), or None."""
    word_sets = [w for w in (_words(n or "") for n in names) if len(w) >= 2]
    if not word_sets:
        return None
    for script in doc.xpath("//script[not(@src)]")[:300]:
        text = script.text or ""
        if "sku" not in text.lower() or "ld+json" in (script.get("type") or ""):
            continue
        text = text[:_MAX_SCRIPT]
        for name in _NAME_KEY.finditer(text):
            if not any(_same_product(name.group(1) or name.group(2), words) for words in word_sets):
                continue
            found = _SKU_KEY.search(_object_around(text, name.start(), name.end()))
            code = found and next(g for g in found.groups() if g)
            if code and valid_code("sku", code):
                return code
    return None


def state_pair_brand(doc) -> str | None:
    """A brand spec row carried as a name/value pair in embedded state, or None."""
    for script in doc.xpath("//script[not(@src)]")[:300]:
        text = (script.text or "")[:_MAX_SCRIPT]
        if "ld+json" in (script.get("type") or ""):
            continue
        for match in _PAIR_BRAND.finditer(text):
            brand = clean_brand(_unescape(match.group(1)).strip())
            if brand and not re.search(r"\.[a-z]{2,4}$", brand, re.I):
                return brand
    return None
