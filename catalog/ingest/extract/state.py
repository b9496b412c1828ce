"""Facts from embedded page state: the JavaScript objects shops ship with the HTML (analytics
data layers, app state such as ``window.__STATE__ = {...}``), read without executing anything.

A value counts only when it sits in the same object as a name that matches the product's own
name, so the brand of a recommended product or of the shop is not taken. Regex over script
text (bounded), no JSON parse: the blobs are often JavaScript, not JSON.
"""
from __future__ import annotations

import re

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
