"""``timeline_build``: template + script + measured voice + shots + facts + brand → Timeline.

Scene timing comes from the data (the voice's measured sentence/word times, like Remotion's
``calculateMetadata``), never from the template. Layers whose facts are missing are dropped
(``requires`` or an empty placeholder), so a price-drop ad without an original price shows
the price alone and a social-proof ad without a rating shows no stars.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import ValidationError

from .layout import box_rect, canvas_size, safe_rect
from .text import has_cjk
from .schema import AUDIO_TYPES, AudioSpec, BrandKit, CaptionChunk, CaptionWord, Scene, Template, Timeline

TEMPLATES_DIR = Path(__file__).parent / "templates"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩",
            "CAD": "CA$", "AUD": "A$", "BRL": "R$", "CHF": "CHF ", "MXN": "MX$"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# The brand's tone picks the procedural bed's mood (a given music file is used as is).
_TONE_MOODS = {"calm": "calm", "luxury": "calm", "premium": "calm", "minimal": "calm", "warm": "calm",
               "bold": "bold", "energetic": "bold", "edgy": "bold", "playful": "upbeat", "friendly": "upbeat"}


class TemplateError(ValueError):
    """A template document failed validation; the message names the offending field."""


def list_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.json"))


def load_template(template: str | Path | dict) -> Template:
    """A built-in name, a JSON path, or a dict → validated Template (TemplateError names the field)."""
    if isinstance(template, dict):
        data, label = template, template.get("name", "<dict>")
    else:
        path = Path(template)
        if not path.suffix:
            path = TEMPLATES_DIR / f"{template}.json"
            if not path.exists():
                raise TemplateError(f"unknown template {template!r}: built-ins are {', '.join(list_templates())}")
        data, label = json.loads(path.read_text()), str(template)
    try:
        return Template.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise TemplateError(f"template {label} is invalid: {problems}") from exc


# Currencies written after the amount (with a space) in their home locales.
_SUFFIX = {"PLN": "zł", "CZK": "Kč", "SEK": "kr", "NOK": "kr", "DKK": "kr", "HUF": "Ft", "RON": "lei",
           "BGN": "лв", "RUB": "₽", "UAH": "₴", "KZT": "₸", "VND": "₫"}


def format_money(amount, currency: str | None) -> str | None:
    """On-screen price text. A known currency gets its symbol; an unknown or missing one is
    written as the bare amount — never a guessed "$"."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not value.is_finite() or value <= 0:
        return None
    cur = (currency or "").upper()
    whole = value == value.to_integral_value()
    digits = 0 if whole else 2
    text = f"{value:,.{digits}f}"
    if cur in _SYMBOLS:
        return f"{_SYMBOLS[cur]}{text}"
    if cur in _SUFFIX:
        return f"{text.replace(',', chr(0x202F))} {_SUFFIX[cur]}"
    return f"{text} {cur}" if len(cur) == 3 else text


def product_values(product) -> dict:
    """Display strings for template placeholders; a key is absent when the fact is missing.
    ``product`` is a ``ProductFacts`` (a facts dict is validated into one)."""
    product = as_product_facts(product)
    v: dict = {}
    if product.title:
        v["title"] = product.title
    if product.brand:
        v["brand"] = product.brand
    price, orig = product.price, product.original_price
    if price is not None and format_money(price.amount, price.currency):
        v["price"] = format_money(price.amount, price.currency)
        o, p = (orig.amount if orig is not None else None), price.amount
        # A discount only against a regular price in the same currency (sanity checks upstream
        # reject implausible ones; this is the last wall).
        if o is not None and orig.currency == price.currency and o > p > 0:
            v["original_price"] = format_money(o, orig.currency)
            # Truncated, never rounded up: an ad must not overstate a discount.
            v["discount"] = f"-{int((1 - p / o) * 100)}%"
    if product.rating is not None and 0 < product.rating <= product.rating_scale:
        rating = product.rating * 5 / product.rating_scale
        v["rating"] = f"{rating:.1f}"
        v["rating_value"] = float(rating)
    if product.review_count:
        v["review_count"] = f"{int(product.review_count):,}"
    for i, feat in enumerate(product.features[:3], start=1):
        v[f"feature{i}"] = str(feat)
    return v


def as_product_facts(product):
    """A ``ProductFacts`` from itself or a facts dict (legacy keys such as ``image_paths`` are
    not part of the spine and are ignored; image URLs become source URLs)."""
    from catalog.facts import ProductFacts

    if isinstance(product, ProductFacts):
        return product
    product = dict(product or {})
    if "schema_version" in product:
        return ProductFacts.model_validate(product)
    return ProductFacts.from_facts_dict({**product, "title": product.get("title") or product.get("brand") or "Product"})


def brand_kit(brand: dict | None) -> BrandKit:
    b = brand or {}
    colors = {k: b.get(f"{k}_color") for k in ("primary", "secondary", "accent")}
    return BrandKit(name=b.get("name") or "", font_family=b.get("font_family") or "Inter",
                    language=b.get("language") or "en",
                    **{k: c for k, c in colors.items() if isinstance(c, str) and _HEX.match(c)})


def _seg(item: dict) -> int | None:
    s = item.get("segment", item.get("scene"))
    return int(s) if s is not None else None


def scene_bounds(segments: list[dict], voice: dict, tail: float) -> list[tuple[float, float]]:
    """[start, end) per segment from measured speech; segments the voice lacks share time
    in proportion to their spoken length."""
    n = len(segments)
    starts: list[float | None] = [None] * n
    for item in list(voice.get("sentences") or []) + list(voice.get("words") or []):
        i = _seg(item)
        if i is not None and 0 <= i < n:
            starts[i] = item["start"] if starts[i] is None else min(starts[i], item["start"])
    total = float(voice["duration"])
    if any(s is None for s in starts):
        weights = [max(1, len(s.get("voice_line") or "")) for s in segments]
        acc, share = 0.0, []
        for w in weights:
            share.append(acc / sum(weights) * total)
            acc += w
        starts = [s if s is not None else share[i] for i, s in enumerate(starts)]
    starts[0] = 0.0
    bounds = []
    end_all = total + tail
    for i in range(n):
        # Cut slightly before the next line is spoken, never shorter than half a second.
        nxt = max(starts[i] + 0.5, starts[i + 1] - 0.08) if i + 1 < n else end_all
        bounds.append((starts[i] if i == 0 else bounds[-1][1], min(max(nxt, (bounds[-1][1] if bounds else 0) + 0.5), end_all)))
    return bounds


def caption_chunks(voice: dict, max_words: int, duration: float) -> list[CaptionChunk]:
    words = [w for w in (voice.get("words") or []) if str(w.get("word", "")).strip()]
    if any(has_cjk(str(w["word"])) and len(str(w["word"])) <= 2 for w in words[:8]):
        max_words *= 3  # per-character CJK timings: keep chunks phrase-sized
    if not words:  # sentence timings only: spread each sentence's words evenly
        for s in voice.get("sentences") or []:
            toks = s["text"].split()
            step = (s["end"] - s["start"]) / max(1, len(toks))
            words += [{"word": t, "start": s["start"] + k * step, "end": s["start"] + (k + 1) * step,
                       "segment": _seg(s)} for k, t in enumerate(toks)]
    chunks: list[list[dict]] = []
    for w in words:
        last = chunks[-1] if chunks else None
        if (last is None or len(last) >= max_words or _seg(w) != _seg(last[-1])
                or re.search(r"[.!?。！？]$", last[-1]["word"]) or w["start"] - last[-1]["end"] > 0.6):
            chunks.append([w])
        else:
            last.append(w)
    out = []
    for k, ch in enumerate(chunks):
        end = ch[-1]["end"] + 0.25
        if k + 1 < len(chunks):
            end = min(max(end, chunks[k + 1][0]["start"]) if chunks[k + 1][0]["start"] - ch[-1]["end"] < 0.6 else end,
                      chunks[k + 1][0]["start"])
        out.append(CaptionChunk(start=ch[0]["start"], end=min(max(end, ch[0]["start"] + 0.1), duration),
                                words=[CaptionWord(word=str(w["word"]).strip(), start=w["start"], end=w["end"]) for w in ch]))
    return [c for c in out if c.end > c.start]


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(text: str, values: dict) -> str | None:
    """Substitute {name} placeholders (names only: no attribute/format-spec access, since
    templates may come from users). None when a named value is missing."""
    missing = [m for m in _PLACEHOLDER.findall(text) if values.get(m) in (None, "")]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text).strip() or None


def _segments(script: dict) -> tuple[list[dict], list[str]]:
    scenes = list(script.get("scenes") or [])
    segs = [script.get("hook"), *scenes, script.get("cta")]
    if any(not isinstance(s, dict) for s in segs):
        raise ValueError("script needs a hook, a list of scenes and a cta (segments as dicts)")
    return segs, ["hook"] + ["body"] * len(scenes) + ["cta"]


def _shot_for(i: int, shots: list) -> object:
    same = [s for s in shots if s.segment == i]
    return same[0] if same else shots[i % len(shots)]


def _product_asset(product, shots: list) -> str:
    """The real product photo (the main image's storage key); a product-kind shot only when
    the product has no downloaded image (a standalone render without pictures)."""
    keys = [img.key for img in product.images if img.key]
    if keys:
        return keys[0]
    kind = [s for s in shots if s.kind == "product"]
    return (kind or shots)[0].key


def spine_inputs(*, script, voice, shots, product):
    """Validate the four inputs into their spine types (AdScript, VoiceTrack, [Shot],
    ProductFacts); pydantic.ValidationError names a wrong or renamed field."""
    from generation.images.shot import Shot
    from generation.scripts.models import AdScript
    from generation.voice.track import VoiceTrack

    script = script if isinstance(script, AdScript) else AdScript.model_validate(script)
    voice = voice if isinstance(voice, VoiceTrack) else VoiceTrack.model_validate(
        voice.model_dump() if hasattr(voice, "model_dump") else voice)
    shots = [s if isinstance(s, Shot) else Shot.model_validate(s) for s in shots or []]
    return script, voice, shots, as_product_facts(product)


class _Resolver:
    """Turns template layer specs into resolved layers for one ad (rect, timing, asset, text)."""

    def __init__(self, *, aspect, width, height, product, shots, brand, kit, facts, voice, voice_dir, music, duration):
        self.aspect, self.width, self.height = aspect, width, height
        self.product, self.shots, self.brand, self.kit, self.facts = product, shots, brand, kit, facts
        self.voice, self.voice_dir, self.music, self.duration = voice, voice_dir, music, duration

    def layer(self, spec, start: float, end: float, values: dict, seg_index: int | None):
        """The resolved layer, or None when it does not apply (aspect, missing facts)."""
        if spec.aspects and self.aspect not in spec.aspects:
            return None
        if any(req not in values for req in spec.requires):
            return None
        extra = self._specific(spec, values, seg_index)
        if extra is None:
            return None
        upd = {"start": round(start, 3), "end": round(end, 3), **extra}
        if spec.type not in AUDIO_TYPES:
            upd["rect"] = box_rect(spec.layout.get(self.aspect, spec.box), aspect=self.aspect,
                                   width=self.width, height=self.height)
        return spec.model_copy(deep=True, update=upd)

    def _specific(self, spec, values: dict, seg_index: int | None) -> dict | None:
        t = spec.type
        if t == "text":
            text = _fill(spec.text, values)
            if text is None and spec.fallback:
                text = _fill(spec.fallback, values)
            if text is None:
                return None
            keep = {k: values[k] for k in ("price", "original_price", "discount") if values.get(k) is not None}
            if values.get("rating_value") is not None:
                keep["rating"] = values["rating_value"]
            return {"text": text, "values": keep}
        if t in ("shot", "image"):
            return {"asset": self._shot_asset(spec, seg_index)}
        if t == "product":
            return {"asset": _product_asset(self.product, self.shots)}
        if t == "logo":
            logo = self.brand.get("logo_path")
            asset = str(logo) if logo and Path(logo).is_file() else None
            label = spec.label or self.kit.name or self.facts.get("brand")
            return {"asset": asset, "label": label} if asset or label else None
        if t == "captions":
            return {"chunks": caption_chunks(self.voice, spec.max_words, self.duration)}
        if t == "voiceover":
            return {"asset": str(Path(self.voice_dir) / self.voice.get("wav", "voice.wav"))}
        if t == "music":
            mood = _TONE_MOODS.get(str(self.brand.get("tone") or "").lower(), spec.mood)
            return {"asset": str(self.music) if self.music else spec.asset, "mood": mood}
        return {}

    def _shot_asset(self, spec, seg_index: int | None) -> str:
        if spec.source == "product":
            return _product_asset(self.product, self.shots)
        if spec.source.startswith("shot:"):
            return self.shots[int(spec.source[5:]) % len(self.shots)].key
        if spec.source == "segment":
            return _shot_for(seg_index or 0, self.shots).key
        return spec.source  # an image path relative to the assets folder (validated by the schema)


def timeline_build(*, template: str | Path | dict, aspect: str, script, voice, voice_dir: Path | str,
                   shots: list, product, brand: dict, music: Path | None = None,
                   scale: float = 1.0, platform: str = "generic", preset: str = "veryfast") -> Timeline:
    """Resolve a template against one ad's spine: ``AdScript``, ``VoiceTrack``, ``Shot``s and
    ``ProductFacts`` (dicts are validated into those types first, so a renamed field fails
    here). ``voice_dir`` and every asset are kept as given: storage keys in the job system
    (render with the storage root as assets folder). Pure: reads no files but the template."""
    script_m, voice_m, shots_m, product_m = spine_inputs(script=script, voice=voice, shots=shots, product=product)
    tpl = load_template(template)
    if not shots_m:
        raise ValueError("timeline_build needs at least one shot")
    if not voice_m.duration:
        raise ValueError("voice must carry a measured 'duration'")
    script, voice = script_m.model_dump(mode="json"), voice_m.model_dump(mode="json")
    width, height = canvas_size(aspect, scale)
    segs, roles = _segments(script)
    bounds = scene_bounds(segs, voice, tpl.tail)
    duration = round(bounds[-1][1], 3)
    facts, kit = product_values(product_m), brand_kit(brand)
    base = {**facts, "brand": facts.get("brand") or kit.name, "cta": (segs[-1].get("on_screen_text") or "").strip()}
    res = _Resolver(aspect=aspect, width=width, height=height, product=product_m, shots=shots_m,
                    brand=brand or {}, kit=kit, facts=facts, voice=voice, voice_dir=voice_dir, music=music,
                    duration=duration)
    layers, scenes = [], []
    for i, (seg, role, (start, end)) in enumerate(zip(segs, roles, bounds)):
        scenes.append(Scene(role=role, index=i, start=round(start, 3), end=round(end, 3)))
        values = {**base, **_item_values(seg, i, segs), "n": str(i), "total": str(len(segs) - 2)}
        scene_layers = []
        for spec in getattr(tpl.scenes, role):
            extend = 0.0
            if spec.type in ("shot", "image"):
                if i == 0:  # nothing to transition from
                    spec = spec.model_copy(update={"transition": spec.transition.model_copy(update={"type": "cut"})})
                if i + 1 < len(segs):  # the incoming shot's transition is drawn over this one, which stays on
                    extend = min(_next_transition(tpl, roles, i + 1), bounds[i + 1][1] - bounds[i + 1][0])
            scene_layers.append(res.layer(spec, start, end + extend, values, i))
        layers += _text_off_product([ly for ly in scene_layers if ly is not None], _shot_for(i, shots_m),
                                    width=width, height=height, safe=safe_rect(aspect, width, height))
    layers += [res.layer(spec, 0.0, duration, base, None) for spec in tpl.overlay]
    order = {"shot": 0, "image": 0}
    layers = sorted((ly for ly in layers if ly is not None), key=lambda ly: (ly.z, order.get(ly.type, 1), ly.start))
    return Timeline(template=tpl.name, framework=tpl.framework, aspect=aspect, width=width, height=height,
                    fps=tpl.fps, duration=duration, scale=scale, safe_rect=safe_rect(aspect, width, height),
                    brand=kit, scenes=scenes, layers=layers, audio=AudioSpec(speech=_speech(voice)),
                    encode={"platform": platform, "preset": preset},
                    thumbnail_time=_thumbnail_time(layers, scenes, duration))


_ENUM = re.compile(r"^\s*(\d{1,2})[.)]\s+(.+)$", re.S)


def _item_values(seg: dict, i: int, segs: list[dict]) -> dict:
    """on_screen_text, plus {item_n}/{item_text} for counted templates: the writer's own
    enumerator ("2. Leak-proof lid") when the body uses them (a non-numbered scene, like a
    closing price line, gets no counter), else the body position."""
    text = (seg.get("on_screen_text") or seg.get("voice_line") or "").strip()
    out = {"on_screen_text": text, "item_text": text}
    m = _ENUM.match(text)
    if m:
        out.update(item_n=m.group(1), item_text=m.group(2).strip())
    elif 0 < i < len(segs) - 1 and not any(_ENUM.match((s.get("on_screen_text") or "")) for s in segs[1:-1]):
        out["item_n"] = str(i)
    return out


def _text_off_product(layers: list, shot, *, width: int, height: int, safe) -> list:
    """The scene's text layers moved off the product in its segment shot (see placement)."""
    from .placement import keep_text_off, product_rect

    if any(ly.type == "product" for ly in layers):
        return layers  # the product card is the product here; the template keeps text off it
    backdrop = next((ly for ly in layers if ly.type in ("shot", "image") and ly.source == "segment"), None)
    prod = product_rect(backdrop, shot, width, height) if backdrop is not None else None
    if prod is None:
        return layers
    return [keep_text_off(ly, prod, safe, height) if ly.type == "text" else ly for ly in layers]


def _next_transition(tpl: Template, roles: list[str], i: int) -> float:
    for spec in getattr(tpl.scenes, roles[i]):
        if spec.type in ("shot", "image") and spec.transition.type != "cut":
            return spec.transition.duration
    return 0.0


def _speech(voice: dict) -> list[tuple[float, float]]:
    items = voice.get("words") or voice.get("sentences") or []
    spans: list[list[float]] = []
    for it in sorted(items, key=lambda x: x["start"]):
        if spans and it["start"] - spans[-1][1] < 0.35:
            spans[-1][1] = max(spans[-1][1], it["end"])
        else:
            spans.append([it["start"], it["end"]])
    return [(round(a, 3), round(b, 3)) for a, b in spans]


def _thumbnail_time(layers, scenes, duration: float) -> float:
    """A moment with the product on screen, after its entrance animation."""
    prods = [ly for ly in layers if ly.type == "product"]
    if prods:
        p = max(prods, key=lambda ly: ly.rect[2] * ly.rect[3])
        return round(min(p.end - 0.05, p.start + max(0.6, (p.end - p.start) * 0.5)), 3)
    body = [s for s in scenes if s.role == "body"] or scenes
    return round(min(duration - 0.05, (body[0].start + body[0].end) / 2), 3)
