"""Deterministic offline writer: phrase banks (phrasebanks/<lang>.json) + framework beats.

Same (product, framework, language, duration, seed) -> same script. Every placeholder is
filled from ``ProductFacts`` and the facts used are recorded per segment; the banks hold no
numbers or superlatives of their own (a test enforces that), so offline scripts are grounded
by construction. Length is fitted by choosing how many optional beats to say and how many
words of each feature to read (``_fit``).
"""
from __future__ import annotations

import json
import random
import re
import zlib
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from . import spoken
from .facts import (ProductFacts, clip_words, feature_parts, has_cjk, product_facts, short_name,
                    shorten_name, screen_phrase, feature_form,
                    indefinite_article)
from .fitting import estimate_lines, fits
from .language import text_language
from .frameworks import FRAMEWORKS, Framework, reason_sources, resolve_framework
from .models import AdScript, ScriptError, Segment, Shot

BANK_DIR = Path(__file__).with_name("phrasebanks")
_ZH_ORDINALS = ["首先", "其次", "再者", "另外", "还有"]
# The brand's tone picks tone-specific CTAs and fillers (same families as the video's music mood).
TONE_ALIASES = {"premium": "premium", "luxury": "premium", "calm": "premium", "minimal": "premium",
                "warm": "premium", "bold": "bold", "energetic": "bold", "edgy": "bold"}
BEAT_SHOTS = {"intro": "product", "solution": "lifestyle", "feature": "detail", "reason": "detail",
              "ugc_feature": "model", "rating": "lifestyle", "reviews": "lifestyle", "price": "product",
              "drop": "product", "discount": "product", "brand": "product", "in_stock": "product",
              "filler": "lifestyle", "cta": "product"}
SHOT_PROMPTS = {
    "product": "studio product shot of {name}, clean background, soft light",
    "detail": "close-up detail shot of {name}, showing {detail}",
    "lifestyle": "lifestyle photo of {name} in use, natural light",
    "model": "person holding {name}, authentic smartphone-style photo",
}
_FACT_OF_FIELD = {"name": "title", "brand": "brand", "by_brand": "brand", "brand_prefix": "brand",
                  "price": "price", "original_price": "original_price", "saving": "original_price",
                  "discount": "original_price", "rating": "rating", "reviews": "review_count"}
# Slots that carry a fact: a line whose fact comes out empty is not said at all. "by_brand" and
# "brand_prefix" are empty by design when the name already says the brand.
_FACT_SLOTS = (set(_FACT_OF_FIELD) - {"by_brand", "brand_prefix"}) | {"feature"}


@lru_cache(maxsize=None)
def load_bank(language: str) -> dict:
    """The phrase bank for ``language`` ("zh-Hans"/"zh-CN" use "zh")."""
    code = language.split("-")[0].lower()
    path = BANK_DIR / f"{code}.json"
    if not path.exists():
        raise ScriptError(f"no phrase bank for language {language!r} "
                          f"(have: {', '.join(sorted(p.stem for p in BANK_DIR.glob('*.json')))})")
    return json.loads(path.read_text(encoding="utf-8"))


def available_languages() -> list[str]:
    return sorted(p.stem for p in BANK_DIR.glob("*.json"))


_OTHER_SCRIPT = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f]")


def speakable(text: str, language: str) -> bool:
    """Whether this language's voice can read ``text`` (zh: it has Chinese; en: Latin script only)."""
    if language.startswith("zh"):
        return has_cjk(text) and not _OTHER_SCRIPT.search(re.sub(r"[\u3000-\u9fff\uff00-\uffef]", "", text))
    # Latin script is not enough: a German or Polish spec read by the English voice is gibberish
    return not _OTHER_SCRIPT.search(text or "") and text_language(text) in (None, "en")


def _rating_text(facts: ProductFacts) -> str:
    """The rating as people say it: one decimal ("4.5", never "4.495636998254799"), "4" not "4.0"."""
    if facts.rating is None:
        return ""
    return format(facts.rating.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize(), "f")


def _feature_forms(text: str) -> set[str]:
    """Grammar tags a bank line's ``forms`` must share to carry this feature (CJK text: any line)."""
    if has_cjk(text):
        return {"noun", "plural", "verb", "participle", "gerund", "imperative", "noun_simple"}
    form = feature_form(text)
    simple = form in ("noun", "plural") and "," not in text and not text[:1].isdigit() and len(text.split()) <= 6
    return {form, "noun_simple"} if simple else {form}


def _without_trailing_numbers(words: list[str]) -> list[str]:
    """"Luminarc Octime 330 [мл]" -> "Luminarc Octime": a number whose unit was dropped would run
    into the next spoken number ("...three hundred thirty five stars")."""
    while len(words) > 1 and re.fullmatch(r"[\d.,]+", words[-1]):
        words = words[:-1]
    return words


class _Renderer:
    """Renders beats for one (product, language, seed); feature text clipped to ``max_words``."""

    def __init__(self, facts: ProductFacts, language: str, seed: int, framework: str, brand: dict | None):
        self.facts, self.language, self.seed, self.framework = facts, language, seed, framework
        self.zh = language.startswith("zh")
        self.bank = load_bank(language)
        tone = TONE_ALIASES.get(str((brand or {}).get("tone") or "").lower())
        self.tone_bank = self.bank.get("tones", {}).get(tone, {}) if tone else {}
        self.name_words = 6
        self.shortest = False
        self._memo: dict = {}

    def _pick(self, key: str, variants: list[dict], index: int) -> dict:
        generic = key == "filler" or key.endswith("_generic")
        if self.shortest:  # very short targets: one of the briefest lines (the seed still varies the wording)
            brief = min(len(v["voice"]) for v in variants)
            variants = [v for v in variants if len(v["voice"]) <= brief * 1.2 + (1 if generic else 4)]
        if generic:  # successive generic lines never repeat
            return variants[(self.seed + index) % len(variants)]
        rng = random.Random(zlib.crc32(f"{self.seed}:{self.framework}:{self.language}:{index}:{key}".encode()))
        return rng.choice(variants)

    def _fallback_name(self, brand: str) -> str:
        """A name the voice can say for a non-Latin title: the URL's slug, the brand, else a noun
        ("this product"), never "this" alone ("This is this.")."""
        if self.facts.url_name and speakable(self.facts.url_name, "en"):
            return shorten_name(self.facts.url_name, self.name_words)
        if brand and speakable(brand, "en"):
            return brand
        return "这款产品" if self.zh else "this product"

    def _values(self, feature: str | None, max_words: int, n: int) -> tuple[dict, dict]:
        f, lang, cur = self.facts, self.language, self.facts.currency
        brand = f.brand or ""
        in_name = bool(brand) and (brand.lower() in f.name.lower() or " by " in f.name)  # no "X by Y by Z"
        name = shorten_name(f.name, self.name_words) if not has_cjk(f.name) else f.name
        if not speakable(name, "en" if not has_cjk(name) else lang):  # drop words a voice would spell
            kept = _without_trailing_numbers([w for w in name.split() if speakable(w, "en") or has_cjk(w)])
            name = " ".join(kept) if any(re.search(r"[^\W\d_]", w) for w in kept) else self._fallback_name(brand)
            brand = brand if speakable(brand, "en") or has_cjk(brand) else ""
        if self.zh and not has_cjk(name):  # a long Latin name inside Chinese speech: say the brand
            name = brand if brand and len(brand) <= 24 else short_name(name, None, max_words=3)
            in_name = True
        elif not self.zh and not speakable(name, lang):  # an English voice spells Cyrillic letter by letter
            kept = _without_trailing_numbers([w for w in name.split() if speakable(w, lang)])
            name = " ".join(kept) if sum(w.isalpha() for w in kept) >= 1 else self._fallback_name(brand)
            in_name = True
        said_brand = spoken.speak_text(brand, lang, currency=cur) if brand else ""
        voice = {"name": spoken.speak_text(name, lang, currency=cur), "brand": said_brand,
                 "by_brand": "" if in_name or not brand else f" by {said_brand}",
                 "brand_prefix": "" if in_name or not brand else said_brand,
                 "n": str(n), "n_word": spoken.en_int(n), "ordinal_en": spoken.en_ordinal(n).capitalize(), "ordinal": _ZH_ORDINALS[(n - 1) % 5]}
        screen = dict(voice, name=name, brand=brand)
        for key in ("price", "original_price", "saving"):
            value = getattr(f, key)
            if key != "price" and f.discount_percent is None:
                continue  # "down from $X" only when X is really above the price
            if value is not None:
                voice[key] = spoken.speak_price(str(value), cur, lang)
                screen[key] = spoken.format_price(str(value), cur, lang)
        if f.discount_percent is not None:
            voice["discount"] = spoken.number_words(str(f.discount_percent), lang)
            screen["discount"] = str(f.discount_percent)
        if f.rating is not None:
            voice["rating"] = spoken.number_words(_rating_text(f), lang)
            screen["rating"] = _rating_text(f)
        if f.review_count is not None:
            voice["reviews"] = spoken.number_words(str(f.review_count), lang)
            screen["reviews"] = f"{f.review_count:,}"
        if feature is not None:
            header, body = feature_parts(feature)
            clipped = clip_words(body, max_words)
            voice["feature"] = spoken.speak_text(clipped, lang, currency=cur)
            screen["_forms"] = _feature_forms(clipped)
            article = None if has_cjk(clipped) else indefinite_article(clipped)
            if article:
                voice["a"] = article  # "You get a leak-proof lid": bare-noun lines give way to article lines
                screen["_forms"] = (screen["_forms"] - {"noun"}) | {"countable"}
            screen["feature_title"] = header or (clip_words(body, 4) if has_cjk(body) else screen_phrase(body))
        return voice, screen

    def render(self, beat: str, index: int, feature: tuple[str, str] | None, max_words: int,
               n: int = 1, role: str = "scene") -> Segment | None:
        """One segment for ``beat``, or None when the product lacks the beat's fact (memoised:
        the fitter re-renders the same beats many times)."""
        key = (beat, index, feature, max_words, n, role, self.name_words, self.shortest)
        if key not in self._memo:
            segment = self._render(beat, index, feature, max_words, n, role)
            self._memo[key] = segment
        return self._memo[key]  # shared between candidate plans: never mutated, only copied

    def _render(self, beat: str, index: int, feature: tuple[str, str] | None, max_words: int,
                n: int, role: str) -> Segment | None:
        key, text = feature if feature else (None, None)
        voice_vals, screen_vals = self._values(text, max_words, n)
        if text is not None and not voice_vals.get("feature"):
            return None  # the feature cannot be shortened to this length without changing its meaning
        bank_key = beat
        if text is not None and not speakable(text, self.language) and f"{beat}_generic" in self.bank["beats"]:
            bank_key = f"{beat}_generic"  # no offline translation: say a generic line, show the fact
        variants = (self.bank["hooks"][self.framework] if role == "hook" else
                    self.tone_bank.get("ctas") or self.bank["ctas"] if role == "cta" else
                    self.tone_bank.get(bank_key) or self.bank["beats"].get(bank_key))
        if not variants:
            return None
        if "_forms" in screen_vals:  # templates that fit the feature's grammar ("It keeps...", not "You get keeps...")
            variants = [v for v in variants if not v.get("forms") or set(v["forms"]) & screen_vals["_forms"]] \
                or [v for v in variants if not v.get("forms")] or variants
        choice = self._pick(bank_key, variants, index)
        fields = set(re.findall(r"{(\w+)}", choice["voice"] + choice["screen"]))
        if any(field not in voice_vals and field not in screen_vals for field in fields):
            return None
        fill = {k: voice_vals.get(k, screen_vals.get(k, "")) for k in fields}
        if any(not str(fill[f]).strip() or not str(screen_vals.get(f, fill[f])).strip() for f in fields & _FACT_SLOTS):
            return None  # a fact the voice cannot say ("Made by ." for a brand in another script)
        if fill.get("feature") and not choice["voice"].startswith("{feature}"):
            word, *rest = fill["feature"].split(" ")
            title_case = bool(rest) and rest[0][:1].isupper()  # "Walkie Talkie", "Gender Boys": a name, keep it
            if word[:1].isupper() and word[1:].islower() and not title_case:  # "You get measuring at", not "You get Measuring"
                fill["feature"] = fill["feature"][0].lower() + fill["feature"][1:]
        elif fill.get("feature"):
            fill["feature"] = fill["feature"][0].upper() + fill["feature"][1:]
        voice_line = choice["voice"].format(**fill)
        screen = choice["screen"].format(**{k: screen_vals.get(k, fill[k]) for k in fields})
        facts_used = sorted({_FACT_OF_FIELD[f] for f in fields if f in _FACT_OF_FIELD} | ({key} if key else set()))
        kind = BEAT_SHOTS.get("cta" if role == "cta" else beat, "product")
        detail = screen_vals.get("feature_title") or "its details"
        prompt = SHOT_PROMPTS[kind].format(name=self.facts.name, detail=detail)
        voice_line = re.sub(r"\s{2,}", " ", voice_line).strip()
        voice_line = re.sub(r"([?!.])\.$", r"\1", voice_line)  # "...purchase?." from a feature ending in "?"
        if voice_line[:1].islower() and not re.match(r"\w+[A-Z]", voice_line):  # not "IPhone"
            voice_line = voice_line[:1].upper() + voice_line[1:]  # "{rating} out of five..." opens a sentence
        return Segment(role=role, voice_line=voice_line,
                       on_screen_text=screen.strip(), shot=Shot(kind=kind, prompt=prompt), facts=facts_used)


def _plan(framework: Framework, facts: ProductFacts, n_extra: int, drop: int) -> list[str]:
    core = list(framework.core)
    if framework.name == "three_reasons":
        core = ["reason"] * min(3, len(reason_sources(facts)))
    if drop and framework.name != "three_reasons":  # "three reasons" must say three
        core = core[: max(1, len(core) - drop)]
    return core + list(framework.extra[:n_extra])


def _assemble(r: _Renderer, framework: Framework, plan: list[str], max_words: int) -> list[Segment]:
    facts = r.facts
    features = list(facts.features)
    reasons = reason_sources(facts)
    hook_beat = "hook"
    segments = [r.render(hook_beat, 0, None, max_words, role="hook")]
    if segments[0] is None:  # hook needs a fact the product lacks: open on the product instead
        segments = [r.render("intro", 0, None, max_words, role="scene").model_copy(update={"role": "hook"})]
    shot = Shot(kind=framework.hook_shot,
                prompt=SHOT_PROMPTS[framework.hook_shot].format(name=facts.name, detail="its details"))
    segments[0] = segments[0].model_copy(update={"shot": shot})
    n_reason = 0
    for i, beat in enumerate(plan, start=1):
        feature = None
        if beat == "reason":
            n_reason += 1
            source = reasons[n_reason - 1] if n_reason <= len(reasons) else None
            if source in ("price", "rating", "brand"):
                beat = f"reason_{source}"
            elif source is not None:
                feature = next(((k, t) for k, t in facts.features if k == source), None)
                features = [f for f in features if f[0] != source]
        elif beat in ("feature", "ugc_feature"):
            if not features:
                continue
            feature = features.pop(0)
        if beat == "in_stock" and facts.availability != "InStock":
            continue
        if beat == "brand" and not facts.brand:
            continue
        segment = r.render(beat, i, feature, max_words, n=n_reason or 1)
        if segment is not None:
            segments.append(segment)
    segments.append(r.render("cta", len(plan) + 1, None, max_words, role="cta"))
    return segments


def _fit(r: _Renderer, framework: Framework, duration: float, engine: str | None) -> tuple[list[Segment], float]:
    """Pick beats and feature length whose estimated speech is nearest the target duration."""
    best, best_err, best_est = None, None, 0.0
    combos = [(n, w, False) for n in (6, 3) for w in (10, 14, 7, 4)] + [(3, 4, True), (2, 4, True)]
    for drop in range(0, len(framework.core)):
        for n_extra in range(0, len(framework.extra) + 1):
            for name_words, max_words, shortest in combos:
                r.name_words, r.shortest = name_words, shortest
                segments = _assemble(r, framework, _plan(framework, r.facts, n_extra, drop), max_words)
                est = estimate_lines([s.voice_line for s in segments], r.language, engine)
                # prefer fuller plans, full names and the seed's own wording when the error is close
                err = abs(est - duration) + 0.001 * (drop * 10 + n_extra) + 0.4 * shortest + 0.1 * (name_words < 6)
                if best_err is None or err < best_err:
                    best, best_err, best_est, best_names = segments, err, est, (name_words, shortest)
                if abs(est - duration) <= 0.03 * duration:  # close enough: stop searching
                    r.name_words, r.shortest = best_names
                    return best, best_est
        if best_err is not None and fits(best_est, duration):
            break  # dropping core beats is only for targets too short for the full framework
    r.name_words, r.shortest = best_names
    return best, best_est


def write_offline(product: dict, *, framework: str, language: str, duration: float, seed: int = 0,
                  brand: dict | None = None, engine: str | None = None) -> AdScript:
    """Write a script from phrase banks; falls back to a framework the product's facts fit."""
    if framework not in FRAMEWORKS:
        raise ScriptError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
    if not duration or duration <= 0:
        raise ScriptError("duration must be a positive number of seconds")
    facts = product_facts(product)
    chosen, notes = resolve_framework(framework, facts)
    renderer = _Renderer(facts, language, seed, chosen.name, brand)
    segments, estimate = _fit(renderer, chosen, float(duration), engine)
    if not fits(estimate, duration):
        notes.append(f"estimated {estimate:.1f}s is outside +-10% of {duration:g}s "
                     "(not enough product facts for this length)" if estimate < duration else
                     f"estimated {estimate:.1f}s exceeds {duration:g}s even at minimum length")
    script = AdScript(language=language, framework=chosen.name, target_duration=float(duration),
                      hook=segments[0], scenes=segments[1:-1], cta=segments[-1], seed=seed,
                      backend="offline", estimated_duration=round(estimate, 2), notes=notes,
                      requested_framework=framework if chosen.name != framework else None)
    return script.with_segments(script.segments())
