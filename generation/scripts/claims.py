"""Claim checker: every number, unit, price, rating and superlative must trace to a fact.

Works on both fields of every segment. Voice lines are spoken form, so spelled numbers are
first turned back into digits (``numerals.spoken_to_digits``); then both fields go through the
same mention extractor. Rules (docs/scripts-and-voice.md):
- price (currency symbol/word): equals price, original price, saving or a variant price;
- rating (stars, "out of five", "/5", 评分…分): equals the rating;
- review count ("reviews", 条评价): between 90% and 100% of review_count ("over 6,500");
- percent: the discount (rounded down) or a percent printed in the product text;
- quantity with a unit: the same value with the same unit appears in the product text;
- bare number: integers up to 10 are structural ("three reasons"); others must appear in facts;
- superlative ("best", "#1", "cheapest", 最…, 第一…): the phrase appears in the product text.
Brand-approved claims count as product text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel

from .facts import product_facts, to_decimal
from .models import AdScript, Segment
from .numerals import spoken_to_digits
from .spoken import CURRENCIES, speak_text

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SYMS = "|".join(sorted({re.escape(c[0].strip()) for c in CURRENCIES.values()}, key=len, reverse=True))
_CUR_WORDS_EN = "|".join(sorted({re.escape(w) for c in CURRENCIES.values() for w in c[1:4]} | {"bucks"},
                                key=len, reverse=True)).replace("pounds", r"pounds(?!\s+of)")
_CUR_WORDS_ZH = r"美元|欧元|英镑|日元|港元|加元|澳元|韩元|新台币|人民币|元|块钱|块"
UNIT_ALIASES = {
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "小时": "h",
    "in": "in", "inch": "in", "inches": "in", '"': "in", "″": "in", "”": "in", "英寸": "in",
    "cm": "cm", "centimeters": "cm", "厘米": "cm", "mm": "mm", "millimeters": "mm", "毫米": "mm",
    "m": "m", "meters": "m", "米": "m", "km": "km", "kilometers": "km", "公里": "km",
    "ft": "ft", "feet": "ft", "foot": "ft", "英尺": "ft", "yd": "yd", "yards": "yd", "码": "yd",
    "oz": "oz", "ounce": "oz", "ounces": "oz", "盎司": "oz", "lb": "lb", "lbs": "lb", "pound": "lb",
    "pounds": "lb", "磅": "lb", "g": "g", "grams": "g", "克": "g", "kg": "kg", "kilograms": "kg",
    "公斤": "kg", "ml": "ml", "milliliters": "ml", "毫升": "ml", "l": "l", "liters": "l", "升": "l",
    "w": "w", "watts": "w", "瓦": "w", "v": "v", "volts": "v", "伏": "v", "mah": "mah",
    "milliamp hours": "mah", "毫安时": "mah", "gb": "gb", "gigabytes": "gb", "tb": "tb",
    "terabytes": "tb", "hz": "hz", "hertz": "hz", "mp": "mp", "megapixels": "mp",
    "minutes": "min", "min": "min", "分钟": "min", "days": "day", "day": "day", "天": "day",
    "years": "year", "year": "year", "年": "year", "months": "month", "个月": "month",
    "mph": "mph", "degrees": "deg", "度": "deg", "pcs": "pc", "pieces": "pc", "件": "pc",
}
_UNIT_RE = "|".join(sorted((re.escape(u) for u in UNIT_ALIASES), key=len, reverse=True))
_MENTION = re.compile(
    rf"(?P<sym>{_SYMS})\s?(?P<pnum>{_NUM})"
    rf"|(?P<num>{_NUM})\s?(?:(?P<pct>%|percent|百分比)|(?P<star>★|stars?|/\s?5|out of 5)"
    rf"|(?P<rev>reviews?|ratings?|条评价|条评论|个评价|评价)"
    rf"|(?P<cur>{_CUR_WORDS_EN}|{_CUR_WORDS_ZH})(?:\s?(?P<cents>\d{{2}})(?!\d|\.\d)|(?P<jiao>\d)角(?:0?(?P<fen>\d)分)?|0?(?P<fen2>\d)分)?"
    rf"|-?\s?(?P<unit>{_UNIT_RE})(?![A-Za-z])|(?P<zhrate>分)(?!钟))?", re.IGNORECASE)
SUPERLATIVES = {
    "en": [r"#\s?1", r"no\.\s?1", r"number one", r"best[- ]?sell(?:er|ing)", r"\bbest\b", r"top[- ]rated",
           r"top[- ]selling", r"cheapest", r"lowest price", r"fastest", r"strongest", r"lightest",
           r"\bmost (?:popular|loved|trusted|powerful|comfortable)\b", r"world'?s", r"unbeatable",
           r"award[- ]winning", r"clinically proven", r"guaranteed", r"\bever\b", r"#1"],
    "zh": [r"第一", r"最(?:好|佳|低|便宜|强|快|受欢迎|畅销|火|热|高|轻|全|新)", r"销量冠军", r"冠军", r"爆款",
           r"全网", r"顶级", r"史低", r"独家", r"唯一", r"无敌", r"No\.?\s?1", r"#1"],
}


class Claim(BaseModel):
    """One ungrounded claim: where it is and why it failed."""
    segment: int
    field: str  # voice_line | on_screen_text
    text: str
    kind: str   # price | rating | review_count | percent | quantity | number | superlative
    reason: str


@dataclass
class _Grounds:
    prices: set[Decimal]
    rating: Decimal | None
    review_count: int | None
    percents: set[Decimal]
    numbers: set[Decimal]
    quantities: set[tuple[Decimal, str]]
    text: str

    def spoken_text(self, language: str) -> str:
        """The product text as a voice line would say it (numbers spelled)."""
        cache = self.__dict__.setdefault("_spoken", {})
        if language not in cache:
            cache[language] = re.sub(r"\s+", " ", speak_text(self.text, language)).lower()
        return cache[language]


def _norm(value: str | Decimal) -> Decimal:
    number = Decimal(str(value).replace(",", "")).normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number  # 110, not 1.1E+2


def _product_text(product: dict, approved: tuple[str, ...]) -> str:
    features = product.get("features") if isinstance(product.get("features"), list) else [product.get("features")]
    specs = product.get("specs") if isinstance(product.get("specs"), dict) else {}
    variants = product.get("variants") if isinstance(product.get("variants"), list) else []
    parts = [product.get("title"), product.get("brand"), product.get("description"), *approved, *features]
    parts += [f"{k} {v}" for k, v in specs.items()]
    parts += [str(v.get("name") or "") for v in variants if isinstance(v, dict)]
    return "\n".join(p for p in parts if isinstance(p, str))


def build_grounds(product: dict, approved_claims=()) -> _Grounds:
    facts = product_facts(product)
    text = _product_text(product, tuple(approved_claims))
    prices = {p.normalize() for p in (facts.price, facts.original_price, facts.saving) if p is not None}
    for variant in product.get("variants") if isinstance(product.get("variants"), list) else []:
        if isinstance(variant, dict) and (p := to_decimal(variant.get("price"))) is not None:
            prices.add(p.normalize())
    numbers, quantities, percents = set(), set(), set()
    for m in _MENTION.finditer(text):
        value = _mention_value(m)
        numbers.add(value)
        if m["pct"]:
            percents.add(value)
        if m["pnum"] or m["cur"]:
            prices.add(value)
        if m["unit"]:
            quantities.add((value, UNIT_ALIASES[m["unit"].lower()]))
    if facts.discount_percent is not None:
        percents.add(Decimal(facts.discount_percent))
    return _Grounds(prices, facts.rating.normalize() if facts.rating is not None else None,
                    facts.review_count, percents, numbers, quantities, re.sub(r"\s+", " ", text.lower()))


_MINOR_UNITS = {c[3] for c in CURRENCIES.values()}


def _mention_value(m: re.Match) -> Decimal:
    value = _norm(m["num"] or m["pnum"])
    if m["cur"] and m["cur"].lower() in _MINOR_UNITS:
        return _norm(value / 100)
    if m["cents"]:
        value += Decimal(m["cents"]) / 100
    elif m["jiao"] or m["fen"] or m["fen2"]:
        value += Decimal(m["jiao"] or 0) / 10 + Decimal(m["fen"] or m["fen2"] or 0) / 100
    return _norm(value)


def _judge(m: re.Match, g: _Grounds, language: str) -> tuple[str, str] | None:
    """(kind, reason) when the mention is not grounded, else None."""
    value = _mention_value(m)
    if m["pnum"] or m["cur"]:
        as_unit = UNIT_ALIASES.get((m["cur"] or "").lower())  # "110 pounds" may be a weight
        if value in g.prices or (as_unit and (value, as_unit) in g.quantities):
            return None
        return ("price", f"no price of {value:f} in the product facts")
    if m["star"] or (m["zhrate"] and value <= 5):
        if g.rating is None:
            return ("rating", "the product has no rating")
        return None if abs(value - g.rating) < Decimal("0.05") else ("rating", f"rating is {g.rating:f}, not {value:f}")
    if m["rev"]:
        if g.review_count is None:
            return ("review_count", "the product has no review count")
        ok = Decimal(g.review_count) * Decimal("0.9") <= value <= g.review_count
        return None if ok else ("review_count", f"{g.review_count} reviews, not {value}")
    if m["pct"]:
        return None if value in g.percents else ("percent", f"no {value:f}% in the product facts")
    if m["unit"]:
        unit = UNIT_ALIASES[m["unit"].lower()]
        return None if (value, unit) in g.quantities else ("quantity", f"no {value:f} {unit} in the product facts")
    if value == value.to_integral_value() and value <= 10:
        return None  # structural counts: "three reasons", "一起"
    known = g.numbers | g.prices | g.percents | ({g.rating} if g.rating is not None else set())
    if g.review_count is not None:
        known.add(Decimal(g.review_count))
    return None if value in known else ("number", f"{value:f} does not appear in the product facts")


_SCALE_PHRASES = re.compile(r"out of (?:five|5)\b|，?满分(?:五|5)分|/\s?5(?!\d)")


def check_text(text: str, g: _Grounds, language: str, *, spoken: bool) -> list[tuple[str, str, str]]:
    """Ungrounded (mention, kind, reason) in one line of text."""
    zh = language.startswith("zh")
    probe = spoken_to_digits(text, language) if spoken else text
    found = []
    # "out of five" is the rating scale, not a claim; keep the preceding rating in rating context
    probe = _SCALE_PHRASES.sub("★", re.sub(r"\s+(?=out of)", " ", probe))
    for m in _MENTION.finditer(probe):
        if (bad := _judge(m, g, language)) is not None:
            found.append((m.group(0).strip(), *bad))
    for pattern in SUPERLATIVES["zh" if zh else "en"] + (SUPERLATIVES["en"] if zh else []):
        for m in re.finditer(pattern, text, flags=re.IGNORECASE):
            # the superlative with the word after it must be in the product text: "best seller"
            # on the page does not ground "the best on the market"
            after = re.match(r"[\s-]*[^\s,.!?;:，。！？]+", text[m.end():]) if not zh else None
            phrase = (m.group(0) + (after.group(0) if after else "")).lower()
            phrase = re.sub(r"\s+", " ", phrase)
            if phrase not in g.text and phrase not in g.spoken_text(language):
                found.append((phrase, "superlative", f"{phrase!r} is not in the product text"))
    return found


def check_claims(script: AdScript, product: dict, *, approved_claims=()) -> list[Claim]:
    """All ungrounded claims of ``script`` against ``product`` (empty list = grounded)."""
    grounds = build_grounds(product, approved_claims)
    claims = []
    for index, segment in enumerate(script.segments()):
        for field, spoken in (("voice_line", True), ("on_screen_text", False)):
            for text, kind, reason in check_text(getattr(segment, field), grounds, script.language, spoken=spoken):
                claims.append(Claim(segment=index, field=field, text=text, kind=kind, reason=reason))
    return claims


def ground_script(script: AdScript, product: dict, *, approved_claims=()) -> AdScript:
    """Drop scenes with ungrounded claims; replace a bad hook/CTA with a plain fact-free line.

    Invariant: ``check_claims(ground_script(s, p), p) == []``; every edit is listed in ``notes``.
    """
    from .offline import load_bank  # the banks hold the safe replacement lines

    claims = check_claims(script, product, approved_claims=approved_claims)
    if not claims:
        return script
    bad = {c.segment for c in claims}
    segments, notes = script.segments(), list(script.notes)
    bank = load_bank(script.language)
    kept: list[Segment] = []
    for index, segment in enumerate(segments):
        if index not in bad:
            kept.append(segment)
            continue
        what = "; ".join(f"{c.text!r} ({c.reason})" for c in claims if c.segment == index)
        if segment.role == "scene":
            notes.append(f"removed scene {index}: {what}")
            continue
        line = bank["ctas"][0] if segment.role == "cta" else bank["beats"]["filler"][0]
        notes.append(f"rewrote {segment.role}: {what}")
        kept.append(segment.model_copy(update={"voice_line": line["voice"], "on_screen_text": line["screen"],
                                               "facts": []}))
    if len(kept) == 2:  # never leave a script with no scene
        filler = bank["beats"]["filler"][1]
        kept.insert(1, Segment(role="scene", voice_line=filler["voice"], on_screen_text=filler["screen"],
                               shot={"kind": "lifestyle", "prompt": kept[0].shot.prompt}))
    return script.model_copy(update={"notes": notes}).with_segments(kept)
