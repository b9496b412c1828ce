"""Normalise raw extracted values: prices to Decimal strings, currencies to ISO 4217,
availability to schema.org enum names, URLs to absolute, text to single-spaced strings.

Currency symbols that several countries share ($, kr, ¥, 元) are resolved from the page's
locale hints (TLD, <html lang>, og:locale); without hints the most common reading wins.
"""
from __future__ import annotations

import functools
import html
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin, urlsplit

from price_parser import Price

ISO_CODES = frozenset("""
AED ARS AUD BAM BDT BGN BHD BRL BYN CAD CHF CLP CNY COP CZK DKK EGP EUR GBP GEL HKD HRK HUF IDR ILS INR
ISK JOD JPY KES KRW KWD KZT LKR MAD MXN MYR NGN NOK NZD OMR PEN PHP PKR PLN QAR RON RSD RUB SAR SEK SGD
THB TND TRY TWD UAH USD UYU VND ZAR
""".split())
_LEGACY_CODES = {"RUR": "RUB", "NIS": "ILS", "RMB": "CNY", "NTD": "TWD", "UKL": "GBP", "YTL": "TRY"}

# Unambiguous symbols and local words.
_SYMBOLS = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "£": "GBP", "₩": "KRW", "원": "KRW", "₽": "RUB",
    "руб": "RUB", "руб.": "RUB", "р.": "RUB", "₸": "KZT", "тг": "KZT", "тг.": "KZT", "₴": "UAH",
    "грн": "UAH", "zł": "PLN", "zl": "PLN", "kč": "CZK", "kc": "CZK", "kn": "HRK", "ft": "HUF",
    "lei": "RON", "лв": "BGN", "лв.": "BGN", "₺": "TRY", "tl": "TRY", "₹": "INR", "rs": "INR",
    "rs.": "INR", "₪": "ILS", "r$": "BRL", "chf": "CHF", "fr.": "CHF", "₫": "VND", "฿": "THB",
    "rm": "MYR", "ر.س": "SAR", "ر.س.": "SAR", "ريال": "SAR", "د.إ": "AED", "درهم": "AED",
    "us$": "USD", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD",
    "hk$": "HKD", "s$": "SGD", "nt$": "TWD", "mx$": "MXN", "円": "JPY", "￥": "JPY",
    "₱": "PHP", "₦": "NGN", "r": "ZAR",
}
# Shared symbols: country (TLD or language region) -> currency; "*" is the default reading.
_AMBIGUOUS = {
    "$": {"ca": "CAD", "au": "AUD", "nz": "NZD", "mx": "MXN", "cl": "CLP", "ar": "ARS", "co": "COP",
          "tw": "TWD", "hk": "HKD", "sg": "SGD", "br": "BRL", "uy": "UYU", "*": "USD"},
    "kr": {"se": "SEK", "no": "NOK", "dk": "DKK", "is": "ISK", "*": "SEK"},
    "kr.": {"se": "SEK", "no": "NOK", "dk": "DKK", "is": "ISK", "*": "DKK"},
    "¥": {"jp": "JPY", "cn": "CNY", "*": "JPY"},
    "元": {"tw": "TWD", "hk": "HKD", "*": "CNY"},
}
# Language -> country, for pages whose TLD says nothing (.com).
_LANG_COUNTRY = {"ja": "jp", "zh-tw": "tw", "zh-hk": "hk", "zh": "cn", "sv": "se", "nb": "no",
                 "nn": "no", "no": "no", "da": "dk", "is": "is", "ko": "kr", "en-ca": "ca",
                 "en-au": "au", "en-nz": "nz", "fr-ca": "ca", "es-mx": "mx", "es-cl": "cl",
                 "es-ar": "ar", "es-co": "co", "pt-br": "br"}
# A currency that a country uses by default (for prices printed with no symbol at all).
COUNTRY_CURRENCY = {
    "us": "USD", "uk": "GBP", "gb": "GBP", "ie": "EUR", "de": "EUR", "fr": "EUR", "it": "EUR",
    "es": "EUR", "pt": "EUR", "nl": "EUR", "be": "EUR", "at": "EUR", "fi": "EUR", "sk": "EUR",
    "si": "EUR", "gr": "EUR", "ee": "EUR", "lv": "EUR", "lt": "EUR", "hr": "EUR", "ca": "CAD",
    "au": "AUD", "nz": "NZD", "jp": "JPY", "cn": "CNY", "tw": "TWD", "hk": "HKD", "kr": "KRW",
    "ru": "RUB", "kz": "KZT", "ua": "UAH", "pl": "PLN", "cz": "CZK", "hu": "HUF", "ro": "RON",
    "ch": "CHF", "se": "SEK", "no": "NOK", "dk": "DKK", "br": "BRL", "mx": "MXN", "cl": "CLP",
    "ar": "ARS", "co": "COP", "in": "INR", "il": "ILS", "sa": "SAR", "ae": "AED", "tr": "TRY",
    "sg": "SGD", "za": "ZAR",
}

_AVAILABILITY = (
    ("outofstock", "OutOfStock"), ("soldout", "SoldOut"), ("instoreonly", "InStoreOnly"),
    ("instock", "InStock"), ("onlineonly", "OnlineOnly"), ("preorder", "PreOrder"),
    ("presale", "PreSale"), ("backorder", "BackOrder"), ("discontinued", "Discontinued"),
    ("limitedavailability", "LimitedAvailability"), ("madetoorder", "MadeToOrder"),
    ("available", "InStock"), ("unavailable", "OutOfStock"), ("oos", "OutOfStock"),
    ("in_stock", "InStock"), ("out_of_stock", "OutOfStock"),
)
_WS = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]{0,500}>")


def clean_text(value, *, limit: int = 5000) -> str | None:
    """Single-spaced text with entities (even double-escaped ones) and stray tags removed."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v), None)
        if value is None:
            return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("value")
        if not isinstance(value, str):
            return None
    text = str(value)
    for _ in range(2):  # some shops escape their JSON-LD twice (&amp;quot;)
        if "&" not in text:
            break
        text = html.unescape(text)
    if "<" in text:
        text = _TAGS.sub(" ", text)
    text = _WS.sub(" ", text).strip()
    return text[:limit] or None


def country_hints(*, url: str | None, lang: str | None) -> list[str]:
    """Country codes suggested by the URL's TLD (first) and the page language."""
    hints: list[str] = []
    host = (urlsplit(url).hostname or "") if url else ""
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    if len(tld) == 2:
        hints.append("gb" if tld == "uk" else tld)
    if lang:
        lang = lang.strip().lower().replace("_", "-")
        for key in (lang, lang.split("-")[0]):
            if key in _LANG_COUNTRY:
                hints.append(_LANG_COUNTRY[key])
        if "-" in lang:
            hints.append(lang.split("-")[1][:2])
    return hints


def currency_code(raw: str | None, *, hints: list[str] | tuple = ()) -> str | None:
    """ISO 4217 code for a code, symbol or local word; ambiguous symbols use the hints."""
    if not raw:
        return None
    token = _WS.sub("", str(raw)).strip().lower()
    if not token:
        return None
    upper = token.upper()
    if upper in ISO_CODES:
        return upper
    if upper in _LEGACY_CODES:
        return _LEGACY_CODES[upper]
    if token in _AMBIGUOUS:
        table = _AMBIGUOUS[token]
        return next((table[h] for h in hints if h in table), table["*"])
    if token in _SYMBOLS:
        return _SYMBOLS[token]
    for symbol in ("r$", "us$", "nt$", "hk$", "€", "£", "₩", "₽", "₸", "₹", "₪", "₺", "¥", "$"):
        if symbol in token:
            return currency_code(symbol, hints=hints)
    return None


def parse_decimal(value, *, currency: str | None = None) -> Decimal | None:
    """A positive Decimal from a number or price text ('1.299,00 €', '$ 15', 131 990)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(str(value))
    else:
        text = str(value).strip()
        if not text or len(text) > 200:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Price.fromstring(text).amount
            if amount is None:
                return None
            # Zero-decimal currencies print '.' as a thousands separator ('$229.990' in CLP).
            if currency in {"CLP", "KRW", "JPY", "COP", "VND", "HUF", "ISK"} and re.search(
                    r"\d[.,]\d{3}(?!\d)", text) and amount != amount.to_integral_value():
                amount = Decimal(re.sub(r"[^\d]", "", Price.fromstring(text).amount_text or "") or "0")
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e11"):
        return None
    return amount


def price_text(amount: Decimal | None) -> str | None:
    """Canonical decimal string: '87.11', '49.10', and whole amounts without decimals ('450')."""
    if amount is None:
        return None
    if amount == amount.to_integral_value():
        return str(int(amount))
    return str(amount.quantize(Decimal("0.01")))


_TEXT_CURRENCY = re.compile(
    r"(r\$|us\$|nt\$|hk\$|c\$|a\$|[$€£¥₩₽₹₪₺₴₸฿₫￥]|\b[A-Z]{3}\b|\bkr\.?(?!\w)|zł|kč|\bkn\b|\bft\b|тг\.?|руб\.?|"
    r"грн|元|円|원|лв\.?|\blei\b|ر\.س|chf|fr\.)", re.I)


def currency_in_text(text: str, *, hints=()) -> str | None:
    """The first currency symbol, code or local word in a price text."""
    for match in _TEXT_CURRENCY.finditer(text or ""):
        code = currency_code(match.group(0), hints=hints)
        if code:
            return code
    return None


def script_hints(text: str) -> list[str]:
    """Country hints from the writing system of a text (page title): kana → jp, hangul → kr,
    Han only → cn, Cyrillic → ru. Used only after TLD and declared language."""
    if re.search(r"[\u3040-\u30ff]", text):
        return ["jp"]
    if re.search(r"[\uac00-\ud7af]", text):
        return ["kr"]
    if re.search(r"[\u4e00-\u9fff]", text):
        return ["cn"]
    if re.search(r"[\u0400-\u04ff]", text):
        return ["ru"]
    return []


def parse_price_text(text: str, *, hints=()) -> tuple[Decimal | None, str | None]:
    """Amount and ISO currency from visible price text."""
    parsed = Price.fromstring(text)
    currency = currency_code(parsed.currency, hints=hints) or currency_in_text(text, hints=hints)
    return parse_decimal(text, currency=currency) if parsed.amount is not None else None, currency


def availability_name(value) -> str | None:
    """schema.org ItemAvailability name for a URL, enum name or loose text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v), None)
    if isinstance(value, bool):
        return "InStock" if value else "OutOfStock"
    token = re.sub(r"[\s\-]+", "", str(value)).lower().rsplit("/", 1)[-1]
    for key, name in _AVAILABILITY:
        if key in token:
            return name
    return None


def absolute_url(value, base: str | None) -> str | None:
    """Absolute http(s) URL or None; protocol-relative and relative URLs resolved on base."""
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v), None)
    if not isinstance(value, str):
        return None
    value = html.unescape(value.strip())
    if not value or value.startswith(("data:", "javascript:", "blob:")):
        return None
    if value.startswith("//"):
        value = "https:" + value
    if base:
        value = urljoin(base, value)
    return value if value.startswith(("http://", "https://")) else None


_RENDITION = (
    re.compile(r"\._[^/]{1,80}?_(?=\.\w{3,4}$)"),                  # name._AC_SX679_.jpg
    re.compile(r"_(\d{2,4}x\d{0,4}|x\d{2,4}|pico|icon|thumb|small|compact|medium|large|grande|"
               r"original|master)(?:_crop_[a-z]+)?(@\dx)?(?=\.\w{3,4}$)"),  # name_1024x1024(_crop_center).jpg
    re.compile(r"-\d{2,4}x\d{2,4}(?=\.\w{3,4}$)|-scaled(?=\.\w{3,4}$)|@\dx(?=\.\w{3,4}$)"),  # name-300x300.jpg, @2x
    re.compile(r"(?<=/s-l)\d{2,4}(?=\.\w{3,4}$)"),                     # …/g/<id>/s-l300.jpg vs s-l1600.jpg
    re.compile(r"(?<=/upload/)(?:[a-z]{1,3}_[^/]*/)+"),                 # …/upload/w_500,c_fill/v1/name.jpg
    re.compile(r"\.\d{2,4}\.\d{2,4}(?=\.\w{3,4}$)"),                 # name.500.350.jpg
    re.compile(r"(\.(?:jpe?g|png|webp))_\d{2,4}x\d{2,4}\w*\.\w{3,4}$"),  # name.jpg_400x400.jpg
    re.compile(r"[-_](?:xxs|xs|s|m|l|xl|xxl)(?=\.\w{3,4}$)"),           # name-01-l.jpg
    re.compile(r"/cache/(?:\d+/)?(?:[a-z_]+/)?(?:\d{2,4}x\d{0,4}/)?[0-9a-f]{32}(?=/)"),  # resized-cache copy of
    re.compile(r"/(?:images?)?\d{2,4}x\d{2,4}(?=/)"),                   # /images500x500/, /cache/…/283x283/
)


@functools.lru_cache(maxsize=8192)  # pure, and asked about the same URLs many times per page
def image_identity(url: str) -> str:
    """The picture a URL shows, ignoring scheme, query and common CDN size/rendition tokens, so
    two renditions of one image de-duplicate (and compare equal)."""
    path = re.sub(r"^https?://", "", url or "").split("?", 1)[0].split(";", 1)[0].lower()
    for pattern in _RENDITION:
        path = pattern.sub(lambda m: m.group(1) if m.groups() and m.group(1) and m.group(1).startswith(".")
                           else "", path)
    return path
