"""Product codes a page states in words or in its own address: SKU, MPN, GTIN.

Labels come in many languages and shapes ("Product code: 287807", "Item #489021", "Код: 73556",
"Model Number | A157S546", "EAN: 6935364088101"); a *model* number is the maker's part number
(MPN), not the shop's SKU. When the page states no SKU at all, the product id in its canonical
address is the shop's own key for it (/dp/<ASIN>, /itm/<number>, /item/<id>.html, …-<id>.html),
kept at low confidence. Pure functions over an lxml document / a URL.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

_SEP = r"\s*(?:[:：#№.]\s*|\s)\s*"
SKU_LABEL = (r"sku|item(?:\s*(?:#|no\.?|number|code|id))?|product\s*(?:code|id|no\.?|number)|prod\.?\s*code"
             r"|art(?:ikel)?\.?\s*-?\s*nr\.?|artikelnummer|article\s*(?:number|no\.?)|asin|catalogue\s*number"
             r"|cat\.?\s*no\.?|r[ée]f[ée]rence|ref\.?|c[óo]digo|code\s*produit|num[ée]ro\s*d'article|код(?:\s*товара)?"
             r"|артикул|šifra|sifra|kód|kod|商品编号|商品番号|商品コード|品番|상품번호"
             r"|codice(?:\s*(?:articolo|prodotto))?|cod\.|kod\s*produktu|numer\s*katalogowy|indeks"
             r"|n[úu]mero\s*de\s*art[íi]culo|numero\s*articolo|referencia|artikelcode|productcode|artikelnr\.?"
             r"|tuotenumero|tuotekoodi|varenummer|varenr\.?|artikelnummer|katalogové\s*číslo|kód\s*produktu"
             r"|ürün\s*kodu|stok\s*kodu|κωδικός(?:\s*προϊόντος)?|מק\"?ט|رمز\s*المنتج|رقم\s*المنتج|货号|商品id|商品ID"
             r"|style\s*(?:#|no\.?|number|code)|product\s*sku|mã\s*sản\s*phẩm|รหัสสินค้า")
MPN_LABEL = (r"mpn|model(?:\s*(?:#|no\.?|number|code))?|item\s*model\s*number|modell(?:nummer)?|modelnummer"
             r"|num[ée]ro\s*du\s*mod[èe]le(?:\s*de\s*l'article)?|mod[èe]le|modelo|modello|mfr\.?\s*(?:part\s*)?(?:#|no\.?|number)"
             r"|manufacturer\s*part\s*(?:number|no\.?)|part\s*(?:number|no\.?|#)|produktové\s*číslo"
             r"|num[ée]ro\s*(?:di\s*|de\s*)?model(?:lo|o)(?:\s*(?:articolo|del\s*art[íi]culo))?|n[úu]mero\s*de\s*modelo"
             r"|r[ée]f[ée]rence\s*(?:du\s*)?fabricant|riferimento\s*(?:del\s*)?produttore|referencia\s*del\s*fabricante"
             r"|hersteller-?\s*(?:artikel)?nummer|herstellerreferenz|numer\s*modelu|номер\s*модели|артикул\s*производителя"
             r"|رقم\s*(?:الموديل|الطراز)(?:\s*من\s*المورد)?|מספר\s*דגם|מק\"?ט\s*יצרן|型号|型番|모델명|모델\s*번호")
GTIN_LABEL = (r"ean(?:-?13)?(?:[-\s]?code)?|gtin(?:-?1[234])?|upc(?:\s*code)?|isbn(?:-?1[03])?|ean\s*/\s*upc"
              r"|bar\s*code|jan(?:\s*コード)?|c[óo]digo\s*de\s*barras|codice\s*a\s*barre|strichcode|code[-\s]barre"
              r"|штрих-?\s*код|条形码|条码|바코드|streckkod|viivakoodi|kod\s*kreskowy")
_CODE = r"[A-Za-z0-9][A-Za-z0-9./_-]{1,38}[A-Za-z0-9]|[0-9]{2,}"
# A label may restate its abbreviation: 'Manufacturer Part Number (MPN)', 'Artikelnummer (SKU)'.
_ABBR = r"(?:\s*\([A-Za-z]{2,5}\))?"
_PATTERNS = {
    field: re.compile(rf"^(?:{label}){_ABBR}{_SEP}({_CODE})\.?$", re.I)
    for field, label in (("gtin", GTIN_LABEL), ("mpn", MPN_LABEL), ("sku", SKU_LABEL))
}
# One anchored test of every label first: most short texts on a page are no label at all.
_ANY_LABEL = re.compile(rf"^(?:{GTIN_LABEL}|{MPN_LABEL}|{SKU_LABEL})", re.I)
_LABEL_ONLY = {field: re.compile(rf"^(?:{label}){_ABBR}\s*[:：#]?$", re.I)
               for field, label in (("gtin", GTIN_LABEL), ("mpn", MPN_LABEL), ("sku", SKU_LABEL))}
_PREFIX = re.compile(r"^(?:sku|mpn|isbn|ean|upc|gtin)\s*[:：]\s*", re.I)


def clean_code(value) -> str | None:
    """'sku:CAE5D4' → 'CAE5D4'; invisible marks and spaces at the ends removed."""
    if value is None:
        return None
    text = re.sub(r"[\u200e\u200f\u200b\ufeff]", "", str(value)).strip()
    text = _PREFIX.sub("", text).strip()
    return text or None


def _valid(field: str, code: str) -> bool:
    if field == "gtin":
        return bool(re.fullmatch(r"\d{8}|\d{12,14}|97[89]\d{10}|\d{9}[\dX]", code))
    # A code has a digit (words like 'Black' are not codes) and is not a price or a year.
    return bool(re.search(r"\d", code)) and not re.fullmatch(r"\d{1,3}([.,]\d\d)?|(19|20)\d\d", code)


def codes_from_text(doc) -> dict:
    """{sku, mpn, gtin} stated as 'Label: value' in one text, or as a label text followed by
    its value (the next text on the page: a table cell, a <dd>, a <span>); first wins."""
    texts = []
    for t in doc.xpath("//body//text()")[:80000]:
        if t.getparent() is not None and t.getparent().tag in ("script", "style", "noscript"):
            continue
        t = t.strip()
        if t:
            texts.append(re.sub(r"\s+", " ", t) if len(t) <= 200 else t)
    found: dict = {}
    for i, text in enumerate(texts):
        if len(text) > 70 or not _ANY_LABEL.match(text):
            continue
        for field, pattern in _PATTERNS.items():
            if field in found:
                continue
            m = pattern.match(text)
            value = m.group(1) if m else None
            if value is None and _LABEL_ONLY[field].match(text) and i + 1 < len(texts):
                nxt = texts[i + 1].strip(" :#")
                value = nxt if re.fullmatch(_CODE, nxt or "-") else None
            if value and _valid(field, value):
                found[field] = value
                break
        if len(found) == 3:
            break
    return found


def code_from_markup(elements) -> str | None:
    """The bare code inside an element the theme names for the product's reference
    ('<span data-qa-qualifier="product-reference">1002/710</span>'; see ``dom.classify``'s
    "code" bucket), or None."""
    for el in elements[:200]:
        if el.tag in ("script", "style", "input", "select", "option", "button", "form", "a") or len(el) > 2:
            continue
        text = re.sub(r"\s+", " ", el.text_content() or "").strip()
        if len(text) <= 40 and re.fullmatch(_CODE, text) and _valid("sku", text):
            return text
    return None


_URL_ID = [
    re.compile(r"/(?:dp|gp/product|gp/aw/d)/([A-Z0-9]{10})(?:[/?]|$)"),  # Amazon ASIN
    re.compile(r"/itm/(?:[^/]+/)?(\d{9,14})(?:[/?]|$)"),                   # eBay item number
    re.compile(r"/(?:item|deals?|product|products|p)/(\d{5,14})(?:\.html?)?(?:[/?]|$)"),
    re.compile(r"/p(\d{6,10})(?:[/?]|$)"),                                   # '/chalk/p4781720'
    re.compile(r"[-_/]([A-Z]?\d{5,14})\.html?(?:[?#]|$)"),                   # '…-14347.html', '/M14876706.htm'
    re.compile(r"-(\d{6,14})/?(?:[?#]|$)"),                                  # '…-vega-blk-112949990'
]
_QUERY_KEYS = ("id", "itemid", "item_id", "productid", "product_id", "pid")


def sku_from_url(url: str | None, *, strong_only: bool = False) -> str | None:
    """The shop's product id in its address, or None. ``strong_only``: only marketplace item
    ids (/dp/<ASIN>, /itm/<number>), which outrank a code read from the page's text."""
    if not url:
        return None
    parts = urlsplit(url)
    path = unquote(parts.path)
    for pattern in _URL_ID[:2] if strong_only else _URL_ID:
        m = pattern.search(path + ("?" if parts.query else ""))
        if m:
            return m.group(1)
    if strong_only:
        return None
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    for key in _QUERY_KEYS:
        if key in query and re.fullmatch(r"\d{5,14}", query[key][0]):
            return query[key][0]
    return None


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def shown_in_text(doc, code: str) -> bool:
    """Whether a code is printed in the page's visible text (not only in scripts, attributes
    or addresses)."""
    if _NOT_XML.search(code):  # lxml refuses such strings as XPath variables; no page text holds them
        return False
    return bool(doc.xpath("boolean(//body//text()[contains(., $code)][not(ancestor::script)]"
                          "[not(ancestor::style)][not(ancestor::noscript)])", code=code))


def prefer_labelled_codes(facts: dict, labelled: dict, doc, *, markup_lookup=None) -> None:
    """The code a shopper sees beside its label outranks an unseen structured one: a
    structured SKU printed nowhere on the page is an internal id (a per-size or per-colour
    variant key) when the page labels another ('Product code: 287807'); a structured MPN
    equal to the structured SKU is that same shop id restated, not the maker's part number,
    when the page labels one ('Manufacturer Part Number: GA00638-GB')."""
    prov = facts["provenance"]
    structured = ("json-ld", "microdata", "rdfa", "opengraph")
    sku, mpn = facts.get("sku"), facts.get("mpn")
    if (mpn and (prov.get("mpn") or {}).get("source") in structured and mpn == sku
            and labelled.get("mpn") and labelled["mpn"] != mpn):
        facts["mpn"] = labelled["mpn"]
        prov["mpn"] = {"source": "heuristics", "confidence": 0.55,
                       "note": "labelled on the page; the structured MPN only repeated the SKU"}
    if sku and (prov.get("sku") or {}).get("source") in structured and not shown_in_text(doc, sku):
        shown = labelled.get("sku") or (markup_lookup() if markup_lookup else None)
        if not shown or shown == sku:
            return
        facts["sku"] = shown
        prov["sku"] = {"source": "heuristics", "confidence": 0.55,
                       "note": "labelled on the page; the structured SKU is shown nowhere"}
