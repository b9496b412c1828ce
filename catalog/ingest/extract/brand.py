"""Brand cues in the DOM: labelled values ('Brand: X' in a spec table, a list item or a
definition), brand-classed elements (text, or a brand logo's alt/title), and a short brand line
printed beside the product name (a span inside the h1, or a subtitle heading that the document
title also lists). Generic labels and layout only; nothing keys on a shop."""
from __future__ import annotations

import re

from catalog.ingest.extract.dom import _NUMBER, _in_widget, _line, _text, visible_text

BRAND_LABEL = (r"brand|brand name|marke|marque|marca|merk|marka|značka|znamka|proizvođač|výrobca|"
               r"výrobce|proizvajalec|producent|producător|fabricante|produttore|tillverkare|"
               r"valmistaja|бренд|производитель|manufacturer|hersteller|fabricant|designer|"
               r"שם מותג|מותג|יצרן|العلامة التجارية|الماركة|ماركة|ブランド|メーカー|品牌|브랜드|제조사|"
               r"varumärke|mærke|merke|merkki|márka|gyártó|marcă|μάρκα|κατασκευαστής|fabrikant|"
               r"thương hiệu|merek|ยี่ห้อ|марка|виробник")
_BRAND_LABELS = re.compile(rf"^({BRAND_LABEL})\s*[:：]?$", re.I)
_BRAND_PREFIX = re.compile(
    r"^(brand|marke|marque|marca|merk|značka|by|von|par|di|de|from)\s*:?\s+|^visit the\s+|\s+store$|"
    r"^besuchen sie den\s+|-store$|^visita lo store di\s+|^visite[rz]? la boutique\s+|"
    r"^visita la tienda de\s+|^bezoek de\s+|^more from\s+|^shop all\s+|^see all\s+", re.I)
_NOT_BRAND = re.compile(r"brands\b|powered by|authentic|official|^all\b|^popular\b|^shop\b|^home$|"
                        r"^brand$|marken|marques|^details about|^détails sur|^details zu|^dettagli su|"
                        r"^detalles de|^browse\b|products$", re.I)


def clean_brand(text: str) -> str | None:
    """A brand as printed, without 'Visit the … Store' wrappers; None for filters and junk."""
    text = _BRAND_PREFIX.sub("", _BRAND_PREFIX.sub("", text.strip())).strip(" :-|")
    if "/" in text:  # 'Apple/苹果': the Latin name before a translation
        head, _, tail = text.partition("/")
        if head.strip() and not re.search(r"[A-Za-z]", tail):
            text = head.strip()
    if (not (1 < len(text) <= 40) or _NUMBER.fullmatch(text) or _NOT_BRAND.search(text)
            or all(len(word) == 1 for word in text.split())):  # 'A B': an A-Z brand filter
        return None
    return text


def _labelled_brand(doc) -> str | None:
    """'<li><strong>Manufacturer:</strong> <a>B&S</a></li>': a bold/label element holding only
    a brand label; the value is the rest of its parent's text."""
    for label in doc.xpath("//strong | //b | //label | //th | //dt")[:800]:
        text = (label.text_content() or "").strip()
        if len(text) > 30 or not _BRAND_LABELS.match(text):
            continue
        parent = label.getparent()
        if parent is None or _in_widget(label):
            continue
        value = _text(parent, 120)
        value = value[len(text):].strip(" :：-") if value.startswith(text) else ""
        if 0 < len(value) <= 60 and (brand := clean_brand(value)):
            return brand
    return None


def find_brand(doc, specs: dict, buckets: dict, title_el=None) -> str | None:
    for label, value in specs.items():
        if _BRAND_LABELS.match(label) and 0 < len(value) <= 60:
            return clean_brand(value) or value
    if (brand := _labelled_brand(doc)):
        return brand
    anchor = _line(title_el) if title_el is not None else 0
    near = sorted(buckets["brand"][:40], key=lambda e: abs(_line(e) - anchor))
    for el in near:
        if _in_widget(el) or el.tag in ("script", "style", "img", "body", "html", "ul", "nav", "form"):
            continue
        if anchor and abs(_line(el) - anchor) > 300:
            break
        logo = next((i.get("alt") or i.get("title") for i in el.iter("img") if i.get("alt") or i.get("title")), "")
        brand = clean_brand(_text(el, 100) or el.get("content") or el.get("alt") or logo or "")
        if brand:
            return brand
    return None


def brand_beside_title(title_el, title: str | None, references: list[str]) -> str | None:
    """A short line printed with the product name: the rest of an h1 whose name part is a
    span ('<h1><span>Maker</span><span>Cable</span></h1>'), or a 1–3 word heading right after
    the h1 that the document title also lists as a segment ('Lamp - Maker - Designer')."""
    h1 = next((a for a in [title_el, *title_el.iterancestors()][:3] if a.tag == "h1"), None)
    if h1 is not None and h1 is not title_el and title:
        whole = visible_text(h1, 300)
        rest = whole[: whole.find(title)].strip(" -|:") if title in whole else ""
        if rest and len(rest.split()) <= 4 and (brand := clean_brand(rest)):
            return brand
    if title_el.tag != "h1":
        return None
    sibling = title_el.getnext()
    while sibling is not None and sibling.tag in ("br", "hr"):
        sibling = sibling.getnext()
    if sibling is None or sibling.tag not in ("h2", "h3", "p", "div", "span"):
        return None
    line = visible_text(sibling, 80)
    segments = {seg.strip().casefold() for ref in references if ref for seg in re.split(r"\s+[|\-–—]\s+", ref)}
    if line and len(line.split()) <= 3 and line.casefold() in segments:
        return clean_brand(line)
    return None
