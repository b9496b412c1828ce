"""Word timing and captions: tokens, proportional fallback, cue building, SRT.

CJK text has no spaces: each Han character is a token and lines break between any two
characters, except before closing punctuation or after opening punctuation (kinsoku), and
never inside a Latin word.
"""
from __future__ import annotations

import re

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}][^\s{_CJK}A-Za-z0-9]*|[^\s{_CJK}]+")
_NO_LINE_START = set("，。！？、；：）》」』”’…,.!?;:)")
_NO_LINE_END = set("（《「『“‘(")
MAX_LINE = {"zh": 32, "en": 42}  # display columns: a CJK character is two, Latin one
MAX_LINES = 2


def tokens(text: str) -> list[tuple[str, int]]:
    """(token, char offset): Latin words with their punctuation, single CJK characters."""
    return [(m.group(0), m.start()) for m in _TOKEN.finditer(text)]


def _weight(token: str) -> float:
    if re.match(rf"[{_CJK}]", token):
        return 1.0
    core = re.sub(r"[^A-Za-z0-9]", "", token)
    if not core:
        return 0.3
    return max(1.0, len(re.findall(r"[aeiouy]+", core.lower())) or len(core) / 3)


def proportional(toks: list[str], start: float, end: float) -> list[tuple[float, float]]:
    """Spread [start, end] over tokens by syllables (Latin) or characters (CJK)."""
    weights = [_weight(t) for t in toks]
    total = sum(weights) or 1.0
    out, t = [], start
    for w in weights:
        step = (end - start) * w / total
        out.append((t, t + step))
        t += step
    return out


def align_events(text: str, events: list[tuple[str, float, float | None]], start: float,
                 end: float, *, by_position: bool = False) -> list[tuple[str, float, float]]:
    """Tokens of ``text`` timed from engine events; tokens with no event are interpolated.

    ``events`` are (word, start, end-or-None) relative to the sentence's audio start.
    """
    toks = [t for t, _ in tokens(text)]
    if not toks:
        return []
    starts: list[float | None] = [None] * len(toks)
    ends: list[float | None] = [None] * len(toks)
    cursor = 0
    for word, s, e in events:  # events arrive in order; match each to the next token holding it
        for j in range(cursor, len(toks)):
            if word and (word in toks[j] or toks[j].strip(",.!?;:，。！？") in word):
                if starts[j] is None:
                    starts[j], ends[j] = s, e
                cursor = j + (0 if len(word) < len(toks[j]) and word != toks[j] else 1)
                break
    if starts[0] is None:
        starts[0] = 0.0
    known = [i for i, s in enumerate(starts) if s is not None]
    for i in range(len(toks)):
        if starts[i] is None:  # between two known starts: share the gap by weight
            prev = max(k for k in known if k < i)
            nxt = next((k for k in known if k > i), None)
            lo = starts[prev]
            hi = starts[nxt] if nxt is not None else (end - start)
            span = proportional(toks[prev:(nxt if nxt is not None else len(toks))], lo, hi)
            starts[i] = span[i - prev][0]
    out = []
    for i, tok in enumerate(toks):
        s = min(max(0.0, starts[i]), end - start)
        e = starts[i + 1] if i + 1 < len(toks) else (end - start)
        if ends[i] is not None:
            e = min(e, ends[i]) if i + 1 < len(toks) else max(ends[i], e)
        e = min(max(e, s), end - start)
        out.append((tok, round(start + s, 3), round(start + e, 3)))
    return out


def display_width(text: str) -> int:
    return sum(2 if re.match(rf"[{_CJK}\u3000-\u303f\uff00-\uffef]", c) else 1 for c in text)


def wrap_line(text: str, language: str) -> list[str]:
    """Break ``text`` into caption lines (CJK: between characters, with kinsoku rules).

    Lines are balanced ("今天就把…带回" + "家。" reads worse than two halves) unless balancing
    would cost an extra line."""
    width = MAX_LINE["zh" if language.startswith(("zh", "ja")) else "en"]
    n_lines = -(-display_width(text) // width)
    if n_lines > 1:
        balanced = _wrap(text, min(width, -(-display_width(text) // n_lines) + 3))
        if len(balanced) <= n_lines:
            return balanced
    return _wrap(text, width)


def _wrap(text: str, width: int) -> list[str]:
    if not re.search(rf"[{_CJK}]", text):
        lines, cur = [], ""
        for word in text.split():
            if cur and len(cur) + 1 + len(word) > width:
                lines.append(cur)
                cur = word
            else:
                cur = f"{cur} {word}".strip()
        return lines + ([cur] if cur else [])
    lines, cur = [], ""
    for tok, _ in tokens(text):
        piece = tok if not cur or re.match(rf"[{_CJK}]", tok) or re.search(rf"[{_CJK}]$", cur) else " " + tok
        if cur and display_width(cur + piece) > width and tok[0] not in _NO_LINE_START and cur[-1] not in _NO_LINE_END:
            lines.append(cur)
            cur = tok
        else:
            cur += piece
    return lines + ([cur] if cur else [])


def join_tokens(toks: list[str]) -> str:
    out = ""
    for tok in toks:
        if out and not (re.match(rf"[{_CJK}]", tok) or re.search(rf"[{_CJK}]$", out)
                        or tok[0] in _NO_LINE_START):
            out += " "
        out += tok
    return out


def build_cues(sentences: list[dict], words: list[dict], language: str) -> list[dict]:
    """Caption cues: one per sentence, split at word boundaries when it exceeds two lines."""
    width = MAX_LINE["zh" if language.startswith(("zh", "ja")) else "en"] * MAX_LINES
    cues = []
    for idx, sentence in enumerate(sentences):
        own = [w for w in words if w["sentence"] == idx]
        groups, cur = [], []
        for w in own:
            if cur and display_width(join_tokens([x["word"] for x in cur + [w]])) > width:
                groups.append(cur)
                cur = []
            cur.append(w)
        groups.append(cur)
        for g_idx, group in enumerate(groups):
            if not group:
                continue
            start = sentence["start"] if g_idx == 0 else group[0]["start"]
            end = sentence["end"] if g_idx == len(groups) - 1 else groups[g_idx + 1][0]["start"]
            text = join_tokens([w["word"] for w in group])
            cues.append({"start": start, "end": end, "text": "\n".join(wrap_line(text, language)),
                         "segment": sentence["segment"]})
    return cues


def _stamp(t: float) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def to_srt(cues: list[dict]) -> str:
    return "".join(f"{i}\n{_stamp(c['start'])} --> {_stamp(c['end'])}\n{c['text']}\n\n"
                   for i, c in enumerate(cues, start=1))


_EN_NUMBER = re.compile(r"^(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                        r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
                        r"eighty|ninety|hundred|thousand|million|billion)(?:-\w+)?$", re.IGNORECASE)
_EN_JOINERS = {"point", "and", "oh", "euros", "euro", "pounds", "pound"}  # "forty-eight pounds ninety-nine"
_ZH_NUMERAL = re.compile(r"^[零〇一二两三四五六七八九十百千万亿点]$")
_SPOKEN_MONEY = re.compile(r"\b(\d[\d,]*) (euros?|pounds?) (\d{2})\b")
_MONEY_SYMBOL = {"euro": "€", "euros": "€", "pound": "£", "pounds": "£"}


_TEEN = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_SPOKEN_RATIO = re.compile(rf"^({_TEEN})-(one|two|three|four|five|six|seven|eight|nine)(\W*)$", re.IGNORECASE)


def _en_caption(run: str) -> str:
    from generation.scripts.numerals import spoken_to_digits

    if m := _SPOKEN_RATIO.match(run):  # "eighteen-eight" is how 18/8 steel is said
        return spoken_to_digits(m[1], "en") + "/" + spoken_to_digits(m[2], "en") + m[3]
    text = spoken_to_digits(run, "en")
    text = _SPOKEN_MONEY.sub(lambda m: f"{_MONEY_SYMBOL[m[2].lower()]}{m[1]}.{m[3]}", text)
    return re.sub(r"\b(\d{4,})\b", lambda m: f"{int(m[1]):,}" if not 1900 <= int(m[1]) <= 2099 else m[1], text)


def numeral_words(timed: list[tuple[str, float, float]], language: str) -> list[tuple[str, float, float]]:
    """Caption words with spoken numbers shown as numerals: ["thirty-four", "reviews"] ->
    ["34", "reviews"], 四点五 -> 4.5; a merged run keeps the first start and the last end."""
    zh = language.startswith("zh")
    out: list[tuple[str, float, float]] = []
    i = 0
    while i < len(timed):
        j = i
        if zh:
            while j < len(timed) and _ZH_NUMERAL.match(timed[j][0]):
                j += 1
            while j > i and timed[j - 1][0] == "点":  # 这一点 ("this point"): 点 needs digits after it
                j -= 1
            run = "".join(w for w, _, _ in timed[i:j])
            numeric = j - i >= 2 or (j > i and run in "十百千")
        else:
            while j < len(timed) and (_EN_NUMBER.match(timed[j][0].rstrip(",.!?;:")) or
                                      (j > i and timed[j][0].lower() in _EN_JOINERS and j + 1 < len(timed)
                                       and _EN_NUMBER.match(timed[j + 1][0].rstrip(",.!?;:")))):
                j += 1
                if timed[j - 1][0][-1:] in ",.!?;:":
                    break  # a sentence mark ends the number
            run = " ".join(w for w, _, _ in timed[i:j])
            numeric = j > i
        if not numeric:
            out.append(timed[i])
            i += 1
            continue
        if zh:
            from generation.scripts.numerals import spoken_to_digits
            shown = spoken_to_digits(run, "zh")
        else:
            shown = _en_caption(run)
        out.append((shown, timed[i][1], timed[j - 1][2]))
        i = j
    return out
