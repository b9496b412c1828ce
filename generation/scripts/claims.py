"""Claim checker: every number, unit, price, rating and claim word must trace to a fact.

Works on both fields of every segment. Spelled numbers (English words, Chinese numerals via
cn2an, 万/k multipliers, 折 discounts, "half price") are first turned into digits
(``numerals.spoken_to_digits``); then both fields go through the same mention extractor.
Number rules (docs/scripts-and-voice.md):
- price (currency symbol/word/code): equals price, original price, saving or a variant price
  ("under $90" when the price is below and within 25%); the currency is the product's;
- rating (stars, "out of five", "/5", 星, 评分…分): the rating, or it rounded to one decimal;
  whole stars ("five-star", 五星) only up to the rounded rating;
- review count: 90-100% of the count, or a lower bound ("over 1,000", "1,000+", 超过一千) at most
  the count, or "nearly/约" within 10%; people/sales counts must appear in the facts;
- percent: a discount percent ("% off", "save", 折, 直降) is the real discount (floor or round);
  other percents appear in the product text;
- quantity with a unit: the same value with the same unit appears in the product text;
- bare number: integers up to 10 are structural ("three reasons"); others must appear in facts.
Word rules (superlatives, absolute claims, urgency, comparisons, features, compatibility) are
in ``claim_words`` with their lexicon. Brand-approved claims count as product text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from .claim_words import check_words
from .facts import product_facts, to_decimal, url_name
from .models import AdScript, Segment
from .numerals import spoken_to_digits
from .spoken import CURRENCIES, DATE_RE, date_parts, speak_text

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SYMS = "|".join(sorted({re.escape(c[0].strip()) for c in CURRENCIES.values()} | {r"\$", r"US\$"}, key=len, reverse=True))
_CODES = "|".join(sorted(CURRENCIES) + ["RMB"])
_CUR_WORDS_EN = "|".join(sorted({re.escape(w) for c in CURRENCIES.values() for w in c[1:4]} | {"bucks"},
                                key=len, reverse=True)).replace("pounds", r"pounds(?!\s+of)")
_CUR_WORDS_ZH = "|".join(sorted({c[4] for c in CURRENCIES.values()} | {"港币", "人民币", "元", "块钱", "块"},
                               key=len, reverse=True))
# which currencies a symbol / word / code can mean
CURRENCY_OF: dict[str, set[str]] = {"bucks": {"USD", "CAD", "AUD"}, "rmb": {"CNY"}, "人民币": {"CNY"},
                                    "块": {"CNY"}, "块钱": {"CNY"}, "港币": {"HKD"}}
for _code, _c in CURRENCIES.items():
    for _w in (_c[0].strip().lower(), *_c[1:5], _code.lower()):
        CURRENCY_OF.setdefault(_w.lower(), set()).add(_code)
CURRENCY_OF["$"] = {"USD", "CAD", "AUD", "HKD", "TWD", "SGD", "NZD", "MXN"}
CURRENCY_OF["元"] = {"CNY", "TWD", "HKD"}  # Taiwan and Hong Kong shops print 元 too
CURRENCY_OF["us$"] = {"USD"}
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
_PEOPLE = (r"customers?|users?|buyers?|shoppers?|people|fans|households|families|owners|orders|units sold|sold"
           r"|位用户|位买家|位顾客|名用户|个家庭|人(?:购买|选择|在用|好评)|人|件已售|单")
_MENTION = re.compile(
    rf"(?<![A-Za-z])(?P<sym>{_SYMS})\s?(?P<pnum>{_NUM})(?P<pmul>[kK万])?"
    rf"|(?P<code>{_CODES})\s?(?P<cnum>{_NUM})"
    rf"|(?P<num>{_NUM})(?P<mul>[kK](?![A-Za-z])|\s?万|\s?亿|\s(?:thousand|million|billion)\b)?(?P<plus>\+|多|余)?\s?"
    rf"(?:(?P<pct>%|percent|百分比)|(?P<zhe>折)|(?P<star>★|[\s-]?stars?\b|星(?!期|座|空|球)|/\s?5(?!\d)|out of 5)"
    rf"|(?P<rev>(?:customer |verified |buyer )?(?:reviews?|ratings?)|条(?:买家)?(?:评价|评论|好评)|个评价|评价|好评)"
    rf"|(?P<people>\s?(?:(?:happy|satisfied|loyal|verified|real) )?(?:{_PEOPLE}))"
    rf"|(?P<ccode>\s?(?:{_CODES})\b)"
    rf"|(?P<cur>{_CUR_WORDS_EN}|{_CUR_WORDS_ZH})(?:\s?(?P<cents>\d{{2}})(?!\d|\.\d)|(?P<jiao>\d)角(?:0?(?P<fen>\d)分)?|0?(?P<fen2>\d)分)?"
    rf"|-?\s?(?P<unit>{_UNIT_RE})(?![A-Za-z])|(?P<zhrate>分)(?!钟))?", re.IGNORECASE)
_LOWER_BOUND = re.compile(r"(?:over|more than|above|at least|upwards of|north of|in excess of|超过|超|逾|多于|至少|上)\s*$",
                          re.IGNORECASE)
_NEAR = re.compile(r"(?:nearly|almost|close to|around|about|approximately|roughly|近|将近|接近|约|大约|差不多)\s*$",
                   re.IGNORECASE)
_UNDER = re.compile(r"(?:under|less than|below|not even|不到|低于|不足|不超过)\s*$", re.IGNORECASE)
_DISCOUNT_CONTEXT = re.compile(r"\boff\b|save|saving|discount|cheaper|reduced|markdown|降|省|折扣|优惠|便宜|减",
                               re.IGNORECASE)
# Vague counts said as words: a lower bound ("thousands of reviews" is at least 2,000)
_VAGUE = [(re.compile(p, re.IGNORECASE), n) for p, n in (
    (r"\bhundreds of thousands of\b", 200000), (r"\bmillions of\b", 2000000), (r"\btens of thousands of\b", 20000),
    (r"\bthousands of\b", 2000), (r"\bhundreds of\b", 200), (r"数以?百万", 2000000), (r"数十万", 200000),
    (r"成千上万", 2000), (r"上万", 10000), (r"数万", 20000), (r"上千", 1000), (r"数千", 2000), (r"上百", 100),
    (r"数百", 200))]
_RATED = re.compile(r"(?:评分|打分|rated|rating(?: of)?|scores?)\s*$", re.IGNORECASE)
_HALF = re.compile(r"\bhalf[- ](?:price|off)\b|半价|对折", re.IGNORECASE)


class Claim(BaseModel):
    """One ungrounded claim: where it is and why it failed."""
    segment: int
    field: str  # voice_line | on_screen_text
    text: str
    kind: str   # price | currency | rating | review_count | count | percent | quantity | number |
    #             superlative | absolute | urgency | comparative | feature | compatibility
    reason: str


ClaimFlag = Claim  # the name the pipeline's quality gate uses


@dataclass
class _Grounds:
    price: Decimal | None
    prices: set[Decimal]
    currency: str | None
    rating: Decimal | None
    review_count: int | None
    discount: int | None
    exact_discount: Decimal | None
    percents: set[Decimal]
    numbers: set[Decimal]
    quantities: set[tuple[Decimal, str]]
    text: str
    raw_text: str

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
    parts.append(url_name(product.get("canonical_url")))  # the name a non-Latin title is said by
    return "\n".join(p for p in parts if isinstance(p, str))


def build_grounds(product: dict, approved_claims=()) -> _Grounds:
    facts = product_facts(product)
    text = _product_text(product, tuple(approved_claims))
    prices = {p.normalize() for p in (facts.price, facts.original_price, facts.saving) if p is not None}
    for variant in product.get("variants") if isinstance(product.get("variants"), list) else []:
        if isinstance(variant, dict) and (p := to_decimal(variant.get("price"))) is not None:
            prices.add(p.normalize())
    numbers, quantities, percents = set(), set(), set()
    for m in _MENTION.finditer(spoken_to_digits(text, "en")):
        value = _mention_value(m)
        numbers.add(value)
        if m["pct"]:
            percents.add(value)
        if m["pnum"] or m["cur"] or m["cnum"]:
            prices.add(value)
        if m["unit"]:
            quantities.add((value, UNIT_ALIASES[m["unit"].lower()]))
        if m["cur"] and m["cur"].lower() in UNIT_ALIASES:  # "30 Pounds" in a spec is a weight
            quantities.add((value, UNIT_ALIASES[m["cur"].lower()]))
    for m in DATE_RE.finditer(text):  # "7.12.2020": the day, month and year are facts too
        if (parts := date_parts(m)) is not None:
            numbers.update(Decimal(x) for x in parts)
    exact = None
    if facts.discount_percent is not None:
        percents.add(Decimal(facts.discount_percent))
        exact = (facts.original_price - facts.price) * 100 / facts.original_price
    return _Grounds(facts.price, prices, (facts.currency or "").upper() or None,
                    facts.rating.normalize() if facts.rating is not None else None,
                    facts.review_count, facts.discount_percent, exact, percents, numbers, quantities,
                    re.sub(r"\s+", " ", text.lower()), text)


_MINOR_UNITS = {c[3] for c in CURRENCIES.values()}
_MULTIPLIERS = {"k": 1000, "万": 10**4, "亿": 10**8, "thousand": 1000, "million": 10**6, "billion": 10**9}


def _mention_value(m: re.Match) -> Decimal:
    value = _norm(m["num"] or m["pnum"] or m["cnum"])
    mul = (m["mul"] or m["pmul"] or "").strip().lower()
    if mul:
        return _norm(value * _MULTIPLIERS[mul])
    if m["cur"] and m["cur"].lower() in _MINOR_UNITS:
        return _norm(value / 100)
    if m["cents"]:
        value += Decimal(m["cents"]) / 100
    elif m["jiao"] or m["fen"] or m["fen2"]:
        value += Decimal(m["jiao"] or 0) / 10 + Decimal(m["fen"] or m["fen2"] or 0) / 100
    return _norm(value)


def _round1(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _judge_rating(value: Decimal, g: _Grounds, whole_stars: bool) -> tuple[str, str] | None:
    if g.rating is None:
        return ("rating", "the product has no rating")
    if abs(value - g.rating) < Decimal("0.05") or value == _round1(g.rating):
        return None
    if whole_stars and value == value.to_integral_value() and g.rating - 1 < value <= _round1(g.rating):
        return None  # "a four-star favourite" for 4.3
    return ("rating", f"rating is {g.rating:f}, not {value:f}")


def _judge_reviews(value: Decimal, g: _Grounds, before: str, plus: bool) -> tuple[str, str] | None:
    if g.review_count is None:
        return ("review_count", "the product has no review count")
    count = Decimal(g.review_count)
    if plus or _LOWER_BOUND.search(before):
        ok = value <= count
    elif _NEAR.search(before):
        ok = abs(value - count) <= count * Decimal("0.1")
    else:
        ok = count * Decimal("0.9") <= value <= count
    return None if ok else ("review_count", f"{g.review_count} reviews, not {value:f}")


def _judge_discount(pct: Decimal, g: _Grounds) -> tuple[str, str] | None:
    if g.exact_discount is None:
        return ("percent", f"no discount on this product, so not {pct:f}% off")
    if pct in (Decimal(g.discount), _norm(g.exact_discount.quantize(Decimal(1), rounding=ROUND_HALF_UP))):
        return None
    return ("percent", f"the discount is {g.discount}%, not {pct:f}%")


def _judge_currency(word: str, g: _Grounds) -> tuple[str, str] | None:
    codes = CURRENCY_OF.get(word.strip().lower())
    if g.currency is None or codes is None or g.currency in codes:
        return None
    return ("currency", f"the price is in {g.currency}, not {word.strip()}")


def _judge(m: re.Match, g: _Grounds, before: str) -> tuple[str, str] | None:
    """(kind, reason) when the mention is not grounded, else None."""
    value = _mention_value(m)
    if m["pnum"] or m["cur"] or m["cnum"] or m["ccode"]:
        as_unit = UNIT_ALIASES.get((m["cur"] or "").lower())  # "110 pounds" may be a weight
        if as_unit and (value, as_unit) in g.quantities:
            return None
        if value not in g.prices and not (_UNDER.search(before) and g.price is not None and
                                          g.price < value <= g.price * (Decimal("1.5") if value % 5 == 0 else Decimal("1.25"))):
            return ("price", f"no price of {value:f} in the product facts")
        return _judge_currency(m["sym"] or m["cur"] or m["code"] or m["ccode"], g)
    if m["zhe"]:  # 八五折 = pay 85%, 七折 = pay 70%
        paid = value * 10 if value < 10 else value
        return _judge_discount(_norm(100 - paid), g)
    if m["star"] or (m["zhrate"] and value <= 5):
        # "a four-star pick" may round down; "rated 4 out of 5" / "4★" state the rating itself
        return _judge_rating(value, g, whole_stars=bool(m["star"] and re.search(r"star|星", m["star"], re.I)))
    if m["rev"]:
        return _judge_reviews(value, g, before, bool(m["plus"]))
    if m["pct"]:
        if value in g.percents:
            return None  # the discount, or a percent printed in the product text ("98% cotton")
        if _DISCOUNT_CONTEXT.search(m.string):
            return _judge_discount(value, g)
        return ("percent", f"no {value:f}% in the product facts")
    if m["people"]:
        known = g.numbers | ({Decimal(g.review_count)} if g.review_count else set())
        return None if value in known else ("count", f"{value:f} {m['people'].strip()} is not in the product facts")
    if m["unit"]:
        unit = UNIT_ALIASES[m["unit"].lower()]
        if unit == "year" and 1900 <= value <= 2100 and value in g.numbers:
            return None  # 2020年: a calendar year from the facts, not a duration
        return None if (value, unit) in g.quantities else ("quantity", f"no {value:f} {unit} in the product facts")
    if _RATED.search(before):  # "评分4", "rated 4": a rating without a scale word
        return _judge_rating(value, g, whole_stars=False)
    if value == value.to_integral_value() and value <= 10 and not m["mul"]:
        return None  # structural counts: "three reasons", "一起"
    known = g.numbers | g.prices | g.percents | ({g.rating} if g.rating is not None else set())
    if g.review_count is not None:
        known.add(Decimal(g.review_count))
    return None if value in known else ("number", f"{value:f} does not appear in the product facts")


_SCALE_PHRASES = re.compile(r"out of (?:five|5)\b|，?满分(?:五|5)分|/\s?5(?!\d)")


def _probe(text: str, language: str) -> str:
    """The line with numbers as digits and vague/half-price phrases as explicit claims."""
    probe = spoken_to_digits(text, language)
    probe = _HALF.sub(" 50% off ", probe)
    for pattern, n in _VAGUE:
        probe = pattern.sub(f" over {n}", probe)
    # "out of five" is the rating scale, not a claim; keep the preceding rating in rating context
    return _SCALE_PHRASES.sub("★", re.sub(r"\s+(?=out of)", " ", probe))


def check_text(text: str, g: _Grounds, language: str, *, spoken: bool,
               field: str = "voice_line") -> list[tuple[str, str, str]]:
    """Ungrounded (mention, kind, reason) in one line of text (either field: screens carry
    numerals, voices carry words; both are read back to digits first)."""
    probe = _probe(text, language)
    found = []
    for m in _MENTION.finditer(probe):
        if (bad := _judge(m, g, probe[max(0, m.start() - 24):m.start()])) is not None:
            found.append((m.group(0).strip(), *bad))
    found += check_words(text + "\n" + probe, language, product_text=g.raw_text,
                         has_discount=g.discount is not None, field=field)
    return found


def check_claims(script: AdScript, product: dict, *, approved_claims=()) -> list[Claim]:
    """All ungrounded claims of ``script`` against ``product`` (empty list = grounded)."""
    grounds = build_grounds(product, approved_claims)
    claims = []
    for index, segment in enumerate(script.segments()):
        for field, spoken in (("voice_line", True), ("on_screen_text", False)):
            for text, kind, reason in check_text(getattr(segment, field), grounds, script.language, spoken=spoken,
                                                 field=field):
                claims.append(Claim(segment=index, field=field, text=text, kind=kind, reason=reason))
    return claims


def script_claims_gate(script: AdScript, facts: dict, *, approved_claims=()) -> list[ClaimFlag]:
    """The pipeline's quality gate: the flags a finished script still carries (empty = publishable).

    Pure (no I/O); the pipeline records the flags on the job and fails the stage when any remain.
    """
    return check_claims(script, facts, approved_claims=approved_claims)


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
