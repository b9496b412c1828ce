"""Spoken forms: numbers, prices and units written the way a voice should say them.

TTS engines read "$29.99" as "dollar twenty nine point nine nine"; voice lines therefore carry
words ("twenty-nine ninety-nine", "二十九点九九美元") while on-screen text keeps the formatted
value. Pure functions, no dependencies; ``speak_text`` is idempotent on already-spoken text.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_ORD_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}

_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = ["", "十", "百", "千"]

# currency code -> (symbol, en singular, en plural, en minor plural, zh name)
CURRENCIES = {
    "USD": ("$", "dollar", "dollars", "cents", "美元"), "CAD": ("CA$", "dollar", "dollars", "cents", "加元"),
    "AUD": ("A$", "dollar", "dollars", "cents", "澳元"), "EUR": ("€", "euro", "euros", "cents", "欧元"),
    "GBP": ("£", "pound", "pounds", "pence", "英镑"), "CNY": ("¥", "yuan", "yuan", "fen", "元"),
    "JPY": ("¥", "yen", "yen", "sen", "日元"), "HKD": ("HK$", "dollar", "dollars", "cents", "港元"),
    "TWD": ("NT$", "dollar", "dollars", "cents", "新台币"), "KRW": ("₩", "won", "won", "jeon", "韩元"),
    "CHF": ("CHF ", "franc", "francs", "rappen", "瑞士法郎"), "INR": ("₹", "rupee", "rupees", "paise", "卢比"),
    "RUB": ("₽", "ruble", "rubles", "kopecks", "卢布"), "BRL": ("R$", "real", "reais", "centavos", "雷亚尔"),
}
_DOLLAR_LIKE = {"USD", "CAD", "AUD", "HKD", "TWD"}


def en_int(n: int) -> str:
    """0..10**15 as English words: 1149 -> "one thousand one hundred forty-nine"; larger
    numbers are read digit by digit."""
    if n < 0:
        return "minus " + en_int(-n)
    if n >= 10**15:
        return " ".join(_ONES[int(d)] for d in str(n))
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" " + en_int(rest) if rest else "")
    for value, name in _SCALES:
        if n >= value:
            rest = n % value
            return en_int(n // value) + " " + name + (" " + en_int(rest) if rest else "")
    raise AssertionError("unreachable")


def en_ordinal(n: int) -> str:
    words = en_int(n)
    head, sep, last = words.rpartition(" ") if "-" not in words.split(" ")[-1] else words.rpartition("-")
    if last in _ORD_IRREGULAR:
        last = _ORD_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def en_number(text: str) -> str:
    """A decimal string as words: "4.2" -> "four point two", "1,250" -> "one thousand two hundred fifty"."""
    text = text.replace(",", "")
    whole, _, frac = text.partition(".")
    words = en_int(int(whole or "0"))
    if frac:
        words += " point " + " ".join(_ONES[int(d)] for d in frac)
    return words


def zh_int(n: int) -> str:
    """Chinese reading of an integer: 5499 -> 五千四百九十九, 10 -> 十, 1005 -> 一千零五, 20000 -> 两万."""
    if n == 0:
        return "零"
    if n < 0:
        return "负" + zh_int(-n)
    if n >= 10**16:  # past 万亿: read digit by digit
        return "".join(_ZH_DIGITS[int(d)] for d in str(n))
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, need_zero = "", False
    for idx in range(len(groups) - 1, -1, -1):
        group = groups[idx]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out += "零"
        out += _zh_group(group) + ["", "万", "亿", "万亿"][idx]
        need_zero = False
    if out.startswith("一十"):
        out = out[1:]
    if out.startswith("二") and len(out) > 1 and out[1] in "百千万亿":
        out = "两" + out[1:]
    return out


def _zh_group(n: int) -> str:
    digits = [int(d) for d in f"{n:04d}"]
    out, zero = "", False
    for pos, d in enumerate(digits):
        unit = _ZH_UNITS[3 - pos]
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _ZH_DIGITS[d] + unit
    return out


def zh_number(text: str) -> str:
    text = text.replace(",", "")
    whole, _, frac = text.partition(".")
    words = zh_int(int(whole or "0"))
    if frac:
        words += "点" + "".join(_ZH_DIGITS[int(d)] for d in frac)
    return words


def number_words(text: str, language: str) -> str:
    return zh_number(text) if language.startswith("zh") else en_number(text)


def _split_amount(amount: str) -> tuple[int, int, bool]:
    try:
        value = Decimal(str(amount).replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    if not value.is_finite() or value < 0 or value >= 10**18:
        raise ValueError(f"not a price: {amount!r}")
    cents = int((value * 100).to_integral_value()) % 100
    return int(value), cents, cents != 0


def format_price(amount: str, currency: str | None, language: str = "en") -> str:
    """On-screen form: "$29.99", "£48.99", "¥149"; whole amounts lose their ".00"."""
    whole, cents, has_cents = _split_amount(amount)
    number = f"{whole:,}" + (f".{cents:02d}" if has_cents else "")
    symbol = CURRENCIES.get((currency or "").upper(), (f"{currency} " if currency else "",))[0]
    return symbol + number


def speak_price(amount: str, currency: str | None, language: str = "en") -> str:
    """Spoken form: USD 29.99 -> "twenty-nine ninety-nine"; zh CNY 12.5 -> "十二元五角"."""
    whole, cents, has_cents = _split_amount(amount)
    code = (currency or "").upper()
    names = CURRENCIES.get(code)
    if language.startswith("zh"):
        if code == "CNY" or not names:
            out = zh_int(whole) + "元"
            if has_cents:
                jiao, fen = divmod(cents, 10)
                out += (_ZH_DIGITS[jiao] + "角" if jiao else "零") + (_ZH_DIGITS[fen] + "分" if fen else "")
            return out
        value = zh_int(whole) + ("点" + "".join(_ZH_DIGITS[int(d)] for d in f"{cents:02d}".rstrip("0"))
                                  if has_cents else "")
        return value + names[4]
    if not has_cents:
        unit = (names[1] if whole == 1 else names[2]) if names else ""  # unknown currency: no unit
        return (en_int(whole) + " " + unit).strip()
    cent_words = ("oh " + _ONES[cents]) if cents < 10 else en_int(cents)
    if whole == 0:
        return en_int(cents) + " " + (names[3] if names else "cents")
    if code in _DOLLAR_LIKE or not names:
        return en_int(whole) + " " + cent_words
    return f"{en_int(whole)} {names[1] if whole == 1 else names[2]} {cent_words}"


# Unit abbreviations a voice should expand, in the language's spoken form.
UNITS = {
    "en": {"mah": "milliamp hours", "wh": "watt hours", "kwh": "kilowatt hours", "w": "watts",
           "v": "volts", "mm": "millimeters", "cm": "centimeters", "m": "meters", "km": "kilometers",
           "in": "inches", "inch": "inch", "inches": "inches", '"': "inches", "”": "inches", "″": "inches", "ft": "feet", "oz": "ounces",
           "fl oz": "fluid ounces", "lb": "pounds", "lbs": "pounds", "g": "grams", "kg": "kilograms",
           "ml": "milliliters", "l": "liters", "gb": "gigabytes", "tb": "terabytes", "mb": "megabytes",
           "hz": "hertz", "khz": "kilohertz", "ghz": "gigahertz", "mp": "megapixels", "h": "hours",
           "hr": "hours", "hrs": "hours", "min": "minutes", "yd": "yards", "%": "percent",
           "°c": "degrees celsius", "°f": "degrees fahrenheit", "k": "k", "p": "p"},
    "zh": {"mah": "毫安时", "wh": "瓦时", "kwh": "千瓦时", "w": "瓦", "v": "伏", "mm": "毫米",
           "cm": "厘米", "m": "米", "km": "公里", "in": "英寸", "inch": "英寸", "inches": "英寸", '"': "英寸", "”": "英寸", "″": "英寸", "ft": "英尺",
           "oz": "盎司", "fl oz": "液量盎司", "lb": "磅", "lbs": "磅", "g": "克", "kg": "公斤",
           "ml": "毫升", "l": "升", "gb": "G", "tb": "T", "mb": "兆", "hz": "赫兹", "khz": "千赫",
           "ghz": "吉赫", "mp": "百万像素", "h": "小时", "hr": "小时", "hrs": "小时", "min": "分钟",
           "yd": "码", "%": "", "°c": "摄氏度", "°f": "华氏度", "k": "K", "p": "P"},
}
_UNIT_RE = "|".join(sorted((re.escape(u) for u in UNITS["en"]), key=len, reverse=True))
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SYMBOLS = "|".join(sorted({re.escape(c[0].strip()) for c in CURRENCIES.values()}, key=len, reverse=True))
_PRICE_RE = re.compile(rf"(?P<sym>{_SYMBOLS})\s?(?P<num>{_NUM})")
# A number inside a model code ("PRW-3100YB", "RT628B") is left for the voice to spell.
_QTY_RE = re.compile(rf"(?<![A-Za-z0-9_.])(?<![A-Za-z]-)(?P<num>{_NUM})(?P<ord>st|nd|rd|th)?"
                     rf"(?:\s?-?\s?(?P<unit>{_UNIT_RE})(?![a-zA-Z]))?(?![A-Za-z0-9])", re.IGNORECASE)
_SYMBOL_TO_CODE = {c[0].strip(): code for code, c in reversed(list(CURRENCIES.items()))}
_SYMBOL_TO_CODE["$"] = "USD"
_SYMBOL_TO_CODE["¥"] = "CNY"


# "18/8 stainless", "24/7", "1/2 inch", "3-in-1": read as a whole, never as "eighteen slash eight".
_RATIO_RE = re.compile(r"(?<![\w/.])(\d{1,3})/(\d{1,3})(?![\w/.])")
_IN_ONE_RE = re.compile(r"(?<![\w.])(\d{1,2})-in-(\d{1,2})(?![\w.])", re.IGNORECASE)
_FRACTIONS = {(1, 2): ("half", "二分之一"), (1, 4): ("quarter", "四分之一"), (3, 4): ("three-quarter", "四分之三"),
              (1, 3): ("one-third", "三分之一"), (2, 3): ("two-thirds", "三分之二")}


def _ratio(m: re.Match, zh: bool) -> str:
    a, b = int(m[1]), int(m[2])
    if (a, b) in _FRACTIONS:
        return _FRACTIONS[(a, b)][1 if zh else 0]
    if zh:
        return zh_int(a) + zh_int(b) if b < 10 else zh_int(a) + "比" + zh_int(b)  # 18/8 -> 十八八
    left, right = en_int(a), en_int(b)
    if b >= 10:  # "ten eleven" would read back as a price ($10.11)
        return f"{left} over {right}"
    return f"{left}-{right}" if "-" not in left else f"{left} {right}"  # eighteen-eight, twenty-four seven


_DASH_CODE_RE = re.compile(r"(?<![\w.])\d+-\d+[A-Za-z]+\d*(?![\w.])")
def _spell_code(code: str, zh: bool) -> str:
    """"513-1311W" digit by digit ("five one three one three one one W"), never as quantities."""
    parts = re.findall(r"\d|[A-Za-z]+", code)
    digit = (lambda d: _ZH_DIGITS[int(d)]) if zh else (lambda d: _ONES[int(d)])
    said = [digit(p) if p.isdigit() else p for p in parts]
    spoken = " ".join(said)
    # letters after a comma: "one W" would read back as one watt
    return "".join(said) if zh else " " + re.sub(r"(?<=[a-z]) (?=[A-Z])", ", ", spoken) + " "


_RANGE_RE = re.compile(r"(?<![A-Za-z0-9.-])(\d{1,4})-(\d{1,4})(?![A-Za-z0-9.-])(?=\s?[^\W\d]|\s|$)")
_MIXED_RE = re.compile(r"(?<![\w.])(\d{1,3})-([123])/([234])(?![\w/.])(?P<inch>[\"″”])?")


def _mixed(m: re.Match, zh: bool) -> str:
    """"1-3/4" (a mixed number) -> "one and three-quarters" / 一又四分之三."""
    whole, a, b = int(m[1]), int(m[2]), int(m[3])
    if (a, b) not in _FRACTIONS:
        return m[0]
    inch = (" 英寸" if zh else " inches") if m["inch"] else ""
    if zh:
        return zh_int(whole) + "又" + _FRACTIONS[(a, b)][1] + inch
    part = {(1, 2): "a half", (1, 4): "a quarter", (3, 4): "three-quarters", (1, 3): "a third",
            (2, 3): "two-thirds"}[(a, b)]
    return f"{en_int(whole)} and {part}{inch}"


def _in_one(m: re.Match, zh: bool) -> str:
    a, b = int(m[1]), int(m[2])
    return f"{zh_int(a)}合{zh_int(b)}" if zh else f"{en_int(a)}-in-{en_int(b)}"


@lru_cache(maxsize=4096)
def speak_text(text: str, language: str, *, currency: str | None = None) -> str:
    """Rewrite prices, numbers, ordinals, units and "36 x 17" dimensions as words."""
    zh = language.startswith("zh")

    def price(m: re.Match) -> str:
        code = currency if currency and format_price("1", currency).startswith(m["sym"]) \
            else _SYMBOL_TO_CODE.get(m["sym"], currency)
        return " " + speak_price(m["num"], code, language) + " "

    def qty(m: re.Match) -> str:
        num = m["num"]
        if m["ord"] and "." not in num and not zh:
            words = en_ordinal(int(num.replace(",", "")))
        elif m["ord"] and zh:
            words = "第" + zh_number(num)
        else:
            words = number_words(num, language)
        raw = m["unit"] or ""
        unit = raw.lower()
        if len(raw) == 1 and raw.isupper() and raw not in "WV":  # "4G", "1080P": a letter, not grams
            return (words + raw) if zh else f" {words} {raw} "
        if unit == "%":
            return ("百分之" + words) if zh else words + " percent"
        spoken_unit = UNITS["zh" if zh else "en"].get(unit, unit) if unit else ""
        return (words + spoken_unit) if zh else (" " + words + (" " + spoken_unit if spoken_unit else "") + " ")

    if not zh:  # "w/ lid" -> "with lid", "Pan/Tilt" -> "Pan and Tilt", "Zombie / Halloween" -> "Zombie, Halloween"
        text = re.sub(r"\b[wW]/\s*(?=[A-Za-z])", "with ", text)
        text = re.sub(r"(?<=[A-Za-z])/(?=[A-Za-z])", " and ", text)
        text = re.sub(r"(?<=[A-Za-z])\s+/\s+(?=[A-Za-z])", ", ", text)
    out = _MIXED_RE.sub(lambda m: _mixed(m, zh), _IN_ONE_RE.sub(lambda m: _in_one(m, zh), text))
    out = _RATIO_RE.sub(lambda m: _ratio(m, zh), out)
    codes: list[str] = []  # "513-1311W": a model code, left whole for the voice to spell
    out = _DASH_CODE_RE.sub(lambda m: codes.append(m[0]) or chr(0xE000 + len(codes) - 1), out)
    out = _RANGE_RE.sub(r"\1至\2" if zh else r"\1 to \2", out)  # "10-12 hours": a range, not "ten - twelve"
    out = _PRICE_RE.sub(price, re.sub(r"(?<=\d)-(?=[A-Za-z])", " ", out))
    out = re.sub(r"(?<=[\d\"″”])\s?[x×]\s?(?=\d)", " 乘 " if zh else " by ", out)
    out = _QTY_RE.sub(qty, out)
    out = re.sub("[\ue000-\ue0ff]", lambda m: _spell_code(codes[ord(m[0]) - 0xE000], zh), out)
    out = out.replace("&", "和" if zh else " and ").replace("+", "" if zh else " plus ")
    out = re.sub(r"[ \t]+([,.!?;:，。！？])", r"\1", out)
    out = re.sub(r"\s{2,}", " ", out).strip()
    if zh:
        out = re.sub(r"(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])", "", out)
    return out
