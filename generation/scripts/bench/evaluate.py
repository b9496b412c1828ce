"""Score ``check_claims`` on the seeded-error set built over a list of products."""
from __future__ import annotations

import random
import zlib

from generation.scripts import check_claims
from generation.scripts.facts import product_facts
from generation.scripts.frameworks import FRAMEWORK_NAMES
from generation.scripts.models import AdScript, Segment, Shot
from generation.scripts.offline import write_offline

from .seeded import KINDS, rewordings

LANGUAGES = ("en", "zh")


def inject(script: AdScript, voice: str, screen: str) -> AdScript:
    """``script`` with its first scene replaced by (voice, screen)."""
    bad = Segment(role="scene", voice_line=voice, on_screen_text=screen, shot=Shot(kind="product", prompt="x"))
    return script.with_segments([script.hook, bad, *script.scenes[1:], script.cta])


def _foreign_features(products: list[tuple[str, dict]]) -> dict[str, list[str]]:
    """Per product: short features of OTHER products (the "feature of another product" kind)."""
    features = {name: [t for _, t in product_facts(p).features if 3 <= len(t.split()) <= 14]
                for name, p in products}
    base = {name.removeprefix("extracted:") for name, _ in products}
    return {name: [t for other, ts in features.items() if other.removeprefix("extracted:") != name.removeprefix("extracted:")
                   for t in ts][:400] for name in base | set(features)}


def evaluate(products: list[tuple[str, dict]], *, frameworks=FRAMEWORK_NAMES) -> dict:
    per_kind: dict[str, list[int]] = {}
    caught = {lang: 0 for lang in LANGUAGES}
    injected = {lang: 0 for lang in LANGUAGES}
    rewords = rewords_flagged = untouched = untouched_flagged = 0
    missed, alarms = [], []
    foreign = _foreign_features(products)
    for i, (name, product) in enumerate(products):
        facts = product_facts(product)
        for language in LANGUAGES:
            scripts = [write_offline(product, framework=fw, language=language, duration=15, seed=i) for fw in frameworks]
            for script in scripts:
                untouched += 1
                if flags := check_claims(script, product):
                    untouched_flagged += 1
                    alarms.append((name, script.framework, language, flags[0].text, flags[0].reason))
            base = scripts[0]
            for kind in (k for k in KINDS if k.language == language):
                rng = random.Random(zlib.crc32(f"{name}:{kind.name}:{language}".encode()))
                made = kind.make(facts, product, rng, {"foreign_features": foreign.get(name, [])})
                if not made:
                    continue
                injected[language] += 1
                entry = per_kind.setdefault(f"{language}: {kind.name}", [0, 0])
                entry[1] += 1
                if any(c.segment == 1 for c in check_claims(inject(base, *made), product)):
                    caught[language] += 1
                    entry[0] += 1
                else:
                    missed.append((name, language, kind.name, made))
            for what, voice, screen in rewordings(facts, product, language):
                rewords += 1
                flags = [c for c in check_claims(inject(base, voice, screen), product) if c.segment == 1]
                if flags:
                    rewords_flagged += 1
                    alarms.append((name, language, what, voice, screen, flags[0].text, flags[0].reason))
    kinds = {k.name for k in KINDS}
    return {
        "recall_en": round(caught["en"] / max(1, injected["en"]), 4),
        "recall_zh": round(caught["zh"] / max(1, injected["zh"]), 4),
        "false_alarms_rewordings": round(rewords_flagged / max(1, rewords), 4),
        "false_alarms_untouched": untouched_flagged,
        "kinds": len(kinds), "injected": injected, "rewordings": rewords, "untouched_scripts": untouched,
        "products": len(products), "per_kind": {k: tuple(v) for k, v in per_kind.items()},
        "missed": missed, "alarms": alarms,
    }
