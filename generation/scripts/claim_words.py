"""Word claims: superlatives, absolute claims, urgency, comparisons, features and compatibility.

The vocabulary is data (``lexicon/claims.json``), one entry per claim concept with patterns per
language. A line that matches an entry is grounded only when the product text (facts +
brand-approved claims) matches some pattern of the same entry in any language, so a Chinese
script may say 防水 for a product whose English facts say "waterproof". Urgency/sale words are
also grounded by a real discount (original price above price). Comparisons ("lasts longer than
any other", 比同类…) and "compatible with X" need the compared phrase / X in the product text.
Model codes on screen ("RT628B", "iPhone 15") must appear in the product text.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON_PATH = Path(__file__).with_name("lexicon") / "claims.json"
_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Concept:
    id: str
    kind: str  # superlative | absolute | urgency | feature
    patterns: dict[str, tuple[re.Pattern, ...]]
    grounded_by: str | None = None
    phrase: bool = False  # grounded by the claim's own words + the next word, not by the concept

    def all_patterns(self) -> tuple[re.Pattern, ...]:
        return tuple(p for ps in self.patterns.values() for p in ps)


def _compile(items) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, _FLAGS) for p in items)


@lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[Concept, ...], dict[str, tuple[re.Pattern, ...]]]:
    """(concepts, comparative patterns per language), compiled once."""
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    concepts = [Concept(e["id"], e["kind"], {lang: _compile(e.get(lang, ())) for lang in ("en", "zh")},
                        e.get("grounded_by"), bool(e.get("phrase"))) for e in data["entries"]]
    concepts += [Concept(cid, "feature", {lang: _compile(pats.get(lang, ())) for lang in ("en", "zh")})
                 for cid, pats in data["features"].items() if not cid.startswith("_")]
    comparatives = {lang: _compile(data["comparatives"][lang]) for lang in ("en", "zh")}
    return tuple(concepts), comparatives


def _languages(language: str) -> tuple[str, ...]:
    # Chinese lines often carry Latin words (brand, "USB-C", "#1"): check both vocabularies.
    return ("zh", "en") if language.startswith("zh") else ("en",)


_COMPAT = {
    "en": re.compile(r"\b(?:(?i:compatible with|works with|designed for use with|for use with|pairs with)|"
                     r"[Ff]its (?:all |every |most )?(?=[A-Z]))[ ]*(?P<what>[A-Za-z0-9][\w+-]*(?:[ ][A-Z0-9][\w+-]*){0,2})"),
    "zh": re.compile(r"(?:兼容|适配|适用于|支持)[ ]*(?P<what>[A-Za-z][\w+-]*(?:[ ][A-Z0-9][\w+-]*){0,2})"),
}
# A product/model code: letters and digits mixed ("RT628B", "A17", "X1000"), or a capitalised
# name followed by a model number ("iPhone 15", "Galaxy S24").
_CODE = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z][\w-]*\d[\w-]*(?![\w-])"
                   r"|\b(?:[a-z]+[A-Z]|[A-Z][a-z]+[A-Z])\w*[ ]\d{1,3}\b")
_CODE_OK = re.compile(r"^(?:\d+(?:st|nd|rd|th)|\d+[a-z]{1,4}|[a-z]{1,3}\d{1,2}|\d+-(?:in-\d|pack|piece|year|"
                      r"month|day|hour|inch|foot|ft|cm|mm|oz|lb|kg|ml|watt|volt|port|speed|layer|ply)\w*)$", _FLAGS)


_WORD = re.compile(r"[^\W\d_][^\W\d_'-]{3,}")


@lru_cache(maxsize=4)
def _writer_vocabulary(language: str) -> frozenset[str]:
    """Word stems the offline writer and the lexicon's generic list may use without a fact."""
    from .offline import load_bank  # lazy: offline imports the claim checker's neighbours

    words = set(json.loads(LEXICON_PATH.read_text(encoding="utf-8"))["generic_words"])
    words |= set(_WORD.findall(json.dumps(load_bank(language), ensure_ascii=False).lower()))
    return frozenset(w[:5] for w in words)


def novel_words(text: str, product_text: str, language: str) -> list[str]:
    """Content words of ``text`` (4+ letters, Latin script) found neither in the product text nor
    in the writer's own vocabulary; stems compare by their first five letters."""
    known = {w[:5] for w in _WORD.findall(product_text.lower())} | _writer_vocabulary(language.split("-")[0])
    return [w for w in _WORD.findall(text.lower()) if w[:5] not in known and not re.search(r"[\u3400-\u9fff]", w)]


def _norm_space(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()


def check_words(text: str, language: str, *, product_text: str, has_discount: bool,
                field: str) -> list[tuple[str, str, str]]:
    """Ungrounded (mention, kind, reason) word claims in one line."""
    concepts, comparatives = lexicon()
    found: list[tuple[str, str, str]] = []
    for concept in concepts:
        hit = next((m for lang in _languages(language) for p in concept.patterns[lang]
                    if (m := p.search(text))), None)
        if hit is None:
            continue
        if concept.grounded_by == "discount" and has_discount:
            continue
        if concept.phrase:  # "the best on the market" is not grounded by "the best quality"
            after = re.match(r"[\s-]*[^\s,.!?;:，。！？\u3000-\u9fff]*", text[hit.end():])
            if _norm_space(hit.group(0) + after.group(0)) in _norm_space(product_text):
                continue
        elif any(p.search(product_text) for p in concept.all_patterns()):
            continue
        kind = "feature" if concept.kind == "feature" else concept.kind
        found.append((hit.group(0), kind, f"{hit.group(0)!r} ({concept.id}) is not supported by the product facts"))
    lowered = _norm_space(product_text)
    for lang in _languages(language):
        for pattern in comparatives[lang]:
            for m in pattern.finditer(text):
                if _norm_space(m.group(0)) not in lowered:
                    found.append((m.group(0), "comparative", f"comparison {m.group(0)!r} is not in the product facts"))
        if (m := _COMPAT[lang].search(text)) and _norm_space(m["what"]) not in lowered:
            found.append((m.group(0), "compatibility", f"{m['what'].strip()!r} is not named in the product facts"))
    content = [w for w in _WORD.findall(text.split("\n")[0].lower()) if not re.search(r"[\u3400-\u9fff]", w)]
    novel = novel_words(text.split("\n")[0], product_text, language)
    if len(novel) >= 2 and len(novel) >= 0.4 * len(content):  # a line about something the facts never mention
        found.append((" ".join(novel[:6]), "feature", f"{', '.join(novel[:6])} are not in the product facts"))
    if field == "on_screen_text":
        for m in _CODE.finditer(text):
            code = m.group(0)
            if not _CODE_OK.match(code) and _norm_space(code) not in lowered \
                    and _norm_space(code.replace("-", "")) not in lowered.replace("-", ""):
                found.append((code, "feature", f"model/spec {code!r} is not in the product facts"))
    return list(dict.fromkeys(found))  # the line is checked as written and as digits: one flag each
