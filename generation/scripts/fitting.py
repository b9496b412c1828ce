"""Duration model: how long a voice takes to say a line, per language and voice engine.

Rates were measured on this project's engines (docs/scripts-and-voice.md): English in
syllables per second, Chinese in characters per second (Latin words inside Chinese count
their syllables). ``PAUSE_S`` is the silence the voice stage inserts between sentences and
segments, so the estimate and the rendered track agree.
"""
from __future__ import annotations

import re
from functools import lru_cache

# (language, engine) -> units per second; "*" is the default for the language.
RATES = {
    ("en", "piper"): 4.5, ("en", "espeak"): 4.4, ("en", "openai"): 4.2, ("en", "*"): 4.5,
    ("zh", "espeak"): 4.3, ("zh", "openai"): 4.5, ("zh", "*"): 4.3,
}
SENTENCE_PAUSE_S = 0.20   # between sentences of one segment
SEGMENT_PAUSE_S = 0.35    # between segments
TOLERANCE = 0.10          # a script "fits" within +-10% of its target

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def syllables(word: str) -> int:
    """Vowel-group syllable count, good to about +-15% on English; digits count per digit."""
    if word.isdigit():
        return 2 * len(word)
    w = word.lower()
    groups = re.findall(r"[aeiouy]+", w)
    n = len(groups)
    if w.endswith("e") and not w.endswith(("le", "ee")) and n > 1:
        n -= 1
    return max(1, n)


_OTHER_WORD = re.compile(r"[^\W\d_A-Za-z\u3400-\u9fff\uf900-\ufaff]+")
_CODE = re.compile(r"\b(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9-]{3,}\b|\b[A-Z]{2,3}\b")


def speech_units(text: str, language: str) -> float:
    """Syllables (Latin), characters (CJK) or letter groups (other scripts) a voice will say."""
    units = float(len(_CJK.findall(text)))
    codes = _CODE.findall(text)  # model codes and acronyms are spelled out letter by letter
    units += sum(1.2 * len(c.replace("-", "")) for c in codes)
    rest = _CODE.sub(" ", text)
    units += sum(syllables(w) for w in _WORD.findall(rest))
    units += sum(len(w) for w in _OTHER_WORD.findall(rest))  # Cyrillic etc.: spelled by a foreign voice
    return units


def split_sentences(text: str) -> list[str]:
    """Sentences of a voice line (., !, ? in Latin text; 。！？ in CJK text)."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s.strip()]


def rate_for(language: str, engine: str | None = None) -> float:
    lang = "zh" if language.startswith("zh") else "en" if language.startswith("en") else language
    return RATES.get((lang, engine or "*")) or RATES.get((lang, "*")) or RATES[("en", "*")]


@lru_cache(maxsize=8192)
def estimate_line(text: str, language: str, engine: str | None = None) -> float:
    sentences = split_sentences(text)
    speech = speech_units(text, language) / rate_for(language, engine)
    return speech + SENTENCE_PAUSE_S * max(0, len(sentences) - 1)


def estimate_lines(lines: list[str], language: str, engine: str | None = None) -> float:
    """Seconds for a whole script's voice lines, with the pauses the voice stage inserts."""
    return sum(estimate_line(t, language, engine) for t in lines) + SEGMENT_PAUSE_S * max(0, len(lines) - 1)


def fits(estimate: float, target: float, tolerance: float = TOLERANCE) -> bool:
    return abs(estimate - target) <= tolerance * target
