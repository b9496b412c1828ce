"""Decode HTML bytes to text: BOM, then strict UTF-8, then HTTP header, then <meta>, then detection.

Why strict UTF-8 before the declared charset: pages re-encoded by tools often keep their old
declaration (a page declared GBK whose bytes are UTF-8). Multi-byte UTF-8 sequences almost
never occur by chance in legacy-encoded text, so bytes that decode strictly as UTF-8 and
contain non-ASCII are UTF-8 whatever the page says. The reverse is not true (GB18030 decodes
almost anything), so declarations are only trusted when the bytes decode under them strictly.
"""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG label aliases: browsers decode these labels with the wider superset encoding.
_SUPERSETS = {
    "gbk": "gb18030", "gb2312": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "iso8859-1": "cp1252", "iso-8859-9": "cp1254", "tis-620": "cp874",
    "shift_jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
}


def normalise_label(label: str | None) -> str | None:
    """A Python codec name for an HTML/HTTP charset label, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return normalise_label(match.group(1)) if match else None


def charset_from_meta(data: bytes) -> str | None:
    # Saved/serialised DOMs put scripts first; the meta can sit far down the head.
    head_end = data.find(b"</head", 0, 2_000_000)
    match = _META_CHARSET.search(data, 0, head_end if head_end > 0 else 1_000_000)
    return normalise_label(match.group(1).decode("ascii", "ignore")) if match else None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


# Encodings the web actually uses: among equally plausible guesses (mac_cyrillic vs cp1251
# differ in a handful of letters) the one web pages use wins.
_WEB_COMMON = ("cp1252", "cp1251", "cp1250", "gb18030", "gbk", "big5", "cp932", "shift_jis", "euc_jp",
               "cp949", "euc_kr", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256", "cp874", "latin_1",
               "iso8859_2", "iso8859_15")


def _detect(data: bytes):
    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    close = [m for m in matches if m.chaos <= best.chaos + 0.01]
    return next((m for m in close if m.encoding in _WEB_COMMON), best)


def decode_html(data: bytes, *, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding_used)``; never raises (last resort: UTF-8 with replacement)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace"), encoding
    if not data.isascii():
        text = _strict(data, "utf-8")
        if text is not None:
            return text, "utf-8"
    for encoding in (charset_from_content_type(content_type), charset_from_meta(data)):
        if encoding and encoding not in ("utf-16-le", "utf-16-be", "utf-16"):
            text = _strict(data, encoding)
            if text is not None:
                return text, encoding
    if data.isascii():
        return data.decode("ascii"), "ascii"
    best = _detect(data[:200_000])
    if best is not None and best.encoding:
        encoding = normalise_label(best.encoding) or best.encoding
        return data.decode(encoding, "replace"), encoding
    return data.decode("utf-8", "replace"), "utf-8"
