"""Which language a product's facts (or one fact) are written in.

``language_for_product(facts)`` picks the script/voice language for a product: a Chinese page
gets "zh", anything else "en" (the languages with phrase banks and voices); callers keep a
user's explicit choice. ``text_language(text)`` tells a fact's language so the offline writer
never reads a Polish or German spec aloud with the English voice (stop-word counts; short or
unclear text gives None, i.e. "no objection").
"""
from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-zà-öø-žß]+", re.IGNORECASE)
STOPWORDS = {
    "en": set("the and with for your you this that from are is of to in on it its can will not all our".split()),
    "de": set("der die das und mit für ist nicht ein eine einem einer den dem des zu auf im sie bei von aus oder "
              "auch wird sich".split()),
    "fr": set("le la les et avec pour est une un des du au aux en dans sur vous votre pas ou sont qui".split()),
    "es": set("el la los las y con para es una un del al en por su sus que muy se".split()),
    "it": set("il lo la gli le e con per è una un del della dei di da che sono non alla".split()),
    "pl": set("i w z na do się jest nie dla oraz przez od po to jak przy".split()),
    "nl": set("de het een en met voor is van op te niet zijn ook bij".split()),
    "pt": set("o a os as e com para é um uma do da dos das em no na não".split()),
    "hr": set("i u je za na se od do sa su koji ili".split()),
}
_NON_ENGLISH_LETTERS = re.compile(r"[äöüßąćęłńśźżéèêàâçñõãìòùőűšžčřěů]", re.IGNORECASE)


def text_language(text: str) -> str | None:
    """"zh" for Chinese text, a stop-word language code for Latin text, None when unsure."""
    text = text or ""
    if _CJK.search(text) and len(_CJK.findall(text)) >= 0.3 * len(re.sub(r"\W", "", text)):
        return "zh"
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if not words:
        return None
    scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    if _NON_ENGLISH_LETTERS.search(text):
        scores["en"] -= 1
    best = max(scores, key=scores.get)
    if scores[best] <= 0:
        return None
    if best != "en" and scores[best] <= scores["en"]:
        return None
    return best


def language_for_product(facts: dict) -> str:
    """"zh" when the product's title (or, without one, its description) is Chinese, else "en"."""
    title = facts.get("title") if isinstance(facts.get("title"), str) else ""
    sample = title or (facts.get("description") if isinstance(facts.get("description"), str) else "")
    return "zh" if text_language(sample) == "zh" or (_CJK.search(title or "") and not
                                                      re.search(r"[A-Za-z]{4,}", title)) else "en"
