"""Spelled numbers back to digits, so the claim checker can read spoken voice lines.

English: "four point two" -> "4.2", "one thousand one hundred forty-nine" -> "1149", and the
spoken price form "twenty-nine ninety-nine" / "... oh five" -> "$29.99" / "$X.05" (two number
words back to back only happen in prices). Chinese: "二十九点九九" -> "29.99", "百分之十二" ->
"12%"; runs made only of 百/千/万 ("百搭", "千万", "万能") are words, not numbers.
"""
from __future__ import annotations

import re

import cn2an

_ONES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_NUMBER_WORDS = set(_ONES) | set(_TENS) | set(_SCALES) | {"hundred"}
_TOKEN = re.compile(r"[A-Za-z]+|[^A-Za-z]+")


def _kind(word: str) -> str:
    if word in _ONES:
        return "ones" if _ONES[word] < 10 else "teen"
    if word in _TENS:
        return "tens"
    return "hundred" if word == "hundred" else "scale"


_ALLOWED_AFTER = {"ones": {None, "tens", "hundred", "scale"}, "teen": {None, "hundred", "scale"},
                  "tens": {None, "hundred", "scale"}, "hundred": {"ones", "teen", "tens"},
                  "scale": {"ones", "teen", "tens", "hundred"}}


def _parse_words(words: list[str]) -> list[str]:
    """Number words of one run -> number strings; back-to-back "A BB" (BB 10..99) -> "$A.BB"."""
    nums: list[list] = []  # [value, kinds] per number; a decimal value is a str
    total = small = 0
    last = None
    kinds: set[str] = set()

    def flush():
        nonlocal total, small, last, kinds
        if last is not None:
            nums.append([total + small, kinds])
        total = small = 0
        last, kinds = None, set()

    i = 0
    while i < len(words):
        w = words[i]
        digit_next = i + 1 < len(words) and words[i + 1] in _ONES and _ONES[words[i + 1]] < 10
        if w == "oh" and last is None and digit_next:  # "... pounds oh one": cents after a unit
            nums.append([f"0{_ONES[words[i + 1]]}", {"decimal"}])
            i += 2
            continue
        if w in ("point", "oh") and last is not None and digit_next:
            whole = total + small
            flush()
            nums.pop()
            j, digits = i + 1, ""
            while j < len(words) and words[j] in _ONES and _ONES[words[j]] < 10 and (w == "point" or j == i + 1):
                digits += str(_ONES[words[j]])
                j += 1
            nums.append([f"{whole}.{digits}" if w == "point" else f"${whole}.0{digits}", {"decimal"}])
            i = j
            continue
        if w not in _NUMBER_WORDS:
            flush()
            i += 1
            continue
        kind = _kind(w)
        if last not in _ALLOWED_AFTER[kind]:
            flush()
        if kind in ("ones", "teen", "tens"):
            small += _ONES.get(w, _TENS.get(w, 0))
        elif kind == "hundred":
            small = (small or 1) * 100
        else:
            total += (small or 1) * _SCALES[w]
            small = 0
        last = kind
        kinds.add(kind)
        i += 1
    flush()
    out: list[str] = []
    for value, kind_set in nums:
        if out and isinstance(value, int) and 10 <= value <= 99 and kind_set <= {"teen", "tens", "ones"} \
                and out[-1].isdigit() and int(out[-1]) >= 1:
            out[-1] = f"${out[-1]}.{value:02d}"  # spoken price: "twenty-nine ninety-nine"
        else:
            out.append(str(value))
    return out


def _en_to_digits(text: str) -> str:
    pieces, run, run_words = [], [], []

    def close():
        if run_words:
            tail = "".join(run)[len("".join(run).rstrip(" -")):]
            pieces.append(" ".join(_parse_words(run_words)) + tail)
        run.clear()
        run_words.clear()

    for token in _TOKEN.findall(text):
        low = token.lower()
        if low in _NUMBER_WORDS or (low in ("point", "oh") and run_words) or low == "oh":
            run.append(token)
            run_words.append(low)
        elif run_words and token in (" ", "-"):
            run.append(token)
        elif run_words and low == "and" and run_words[-1] == "hundred":
            run.append(token)
        else:
            close()
            pieces.append(token)
    close()
    return "".join(pieces)


_ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 3 - 1, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10**4, "亿": 10**8}
_ZH_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+(?:点[零〇一二两三四五六七八九]+)?")


def zh_to_int(run: str) -> int:
    if all(c in _ZH_DIGIT for c in run) and len(run) > 1:
        return int("".join(str(_ZH_DIGIT[c]) for c in run))  # digit-by-digit: 二零二四
    total = section = number = 0
    for c in run:
        if c in _ZH_DIGIT:
            number = _ZH_DIGIT[c]
        elif c in _ZH_UNIT:
            section += (number or 1) * _ZH_UNIT[c]
            number = 0
        else:
            total = (total + section + number) * _ZH_BIG[c]
            section = number = 0
    return total + section + number


def _cn2an(run: str) -> int | None:
    """cn2an's reading of a Chinese integer run (None when it refuses, e.g. "十八八")."""
    try:
        value = cn2an.cn2an(run, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return int(value) if value == int(value) else None


def _zh_number(run: str) -> str:
    whole, _, frac = run.partition("点")
    whole = whole.lstrip("十百千万亿") if whole[:1] in "百千万亿" else whole
    if not whole and not frac:
        return run
    converted = _cn2an(whole) if whole else 0
    value = str(converted if converted is not None else zh_to_int(whole))
    if all(c in _ZH_DIGIT for c in whole) and len(whole) > 1 and whole.startswith("零"):
        value = "".join(str(_ZH_DIGIT[c]) for c in whole)  # "零五" (cents) keeps its zero
    return value + ("." + "".join(str(_ZH_DIGIT[c]) for c in frac) if frac else "")


# Everyday words that start with 一: kept apart so "一百一定" is not read as 101; 十分 ("very")
# and 三星 (Samsung) are words too, unless a score/star rating is meant.
_ZH_WORDS_WITH_ONE = re.compile(r"一(?=[定起切下直样些般款键身手眼边旦共同])")
_ZH_NUMBER_LOOKALIKES = re.compile(r"(?<![打得评给])十(?=分(?![钟制]))|三(?=星(?!级|好评|评价))")


def _zh_to_digits(text: str) -> str:
    text = _ZH_WORDS_WITH_ONE.sub("\u2060一", text)
    text = _ZH_NUMBER_LOOKALIKES.sub(lambda m: chr(0xE100 + "十三".index(m[0])), text)
    text = re.sub(r"百分之(" + _ZH_RUN.pattern + ")", lambda m: _zh_number(m[1]) + "%", text)

    def convert(m: re.Match) -> str:
        run = m.group(0)
        if not any(c in _ZH_DIGIT for c in run.partition("点")[0]) and "点" not in run:
            return run  # 百搭, 千万, 万能: words
        return _zh_number(run)

    out = _ZH_RUN.sub(convert, text).replace("\u2060", " ")
    return out.replace("\ue100", "十").replace("\ue101", "三")


def spoken_to_digits(text: str, language: str) -> str:
    """``text`` with spelled-out numbers replaced by digits (language-specific)."""
    if language.startswith("zh"):
        return _en_to_digits(_zh_to_digits(text))  # Chinese lines may read Latin names/numbers
    return _en_to_digits(text)
