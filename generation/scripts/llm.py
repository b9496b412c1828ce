"""LLM writer over the OpenAI-compatible chat-completions protocol (vLLM, Ollama, hosted APIs).

Structured output: asks for ``response_format: json_schema`` and falls back to
``json_object`` when a server rejects it. Every call has a timeout; transient failures (timeouts,
connection errors, 429, 5xx) are retried with backoff; malformed replies are repaired locally
(code fences, prose around the object, trailing commas, smart quotes) and, failing that, sent
back once with the validation error. The result is normalised (spoken forms, shot kinds),
trimmed to the duration and grounded by ``write_script``.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import spoken
from .facts import product_facts
from .fitting import estimate_lines, fits, rate_for
from .frameworks import FRAMEWORKS, resolve_framework
from .models import AdScript, ScriptError, Segment, Shot

MAX_REPLY_BYTES = 2 * 1024 * 1024
_KINDS = {"product", "model", "detail", "lifestyle"}


@dataclass(frozen=True)
class LLMSettings:
    base_url: str
    model: str
    api_key: str = ""
    timeout_s: float = 60.0
    max_retries: int = 2
    max_repairs: int = 1
    backoff_s: float = 0.5

    @classmethod
    def from_django(cls) -> "LLMSettings":
        from django.conf import settings
        g = settings.GENERATION
        if not (g.llm_base_url and g.llm_model):
            raise ScriptError("the llm script backend needs GENERATION_LLM_BASE_URL and GENERATION_LLM_MODEL")
        return cls(base_url=g.llm_base_url, model=g.llm_model, api_key=g.llm_api_key, timeout_s=g.llm_timeout_s)


class _DraftShot(BaseModel):
    kind: str = "product"
    prompt: str = ""


class _DraftSegment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    voice_line: str = Field(min_length=1)
    on_screen_text: str = ""
    shot: _DraftShot = Field(default_factory=_DraftShot)
    facts: list[str] = Field(default_factory=list)


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore")
    hook: _DraftSegment
    scenes: list[_DraftSegment] = Field(min_length=1, max_length=12)
    cta: _DraftSegment


def _segment_schema() -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": ["voice_line", "on_screen_text", "shot", "facts"],
            "properties": {"voice_line": {"type": "string"}, "on_screen_text": {"type": "string"},
                           "shot": {"type": "object", "additionalProperties": False, "required": ["kind", "prompt"],
                                    "properties": {"kind": {"type": "string", "enum": sorted(_KINDS)},
                                                   "prompt": {"type": "string"}}},
                           "facts": {"type": "array", "items": {"type": "string"}}}}


DRAFT_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["hook", "scenes", "cta"],
                "properties": {"hook": _segment_schema(), "scenes": {"type": "array", "items": _segment_schema()},
                               "cta": _segment_schema()}}

_SYSTEM = """You write short vertical-video ad scripts. Reply with ONE JSON object only:
{"hook": SEG, "scenes": [SEG, ...], "cta": SEG} where SEG = {"voice_line", "on_screen_text",
"shot": {"kind": "product|model|detail|lifestyle", "prompt": English image prompt}, "facts": [fact keys used]}.
Rules: use ONLY the product facts given; never invent numbers, specs, ratings, prices, awards or
superlatives (best, #1, cheapest...). voice_line is what the narrator SAYS: write numbers and prices
as words in the script language. on_screen_text is short (max 6 words) and keeps formatted values."""


def build_messages(product: dict, *, framework: str, language: str, duration: float, brand: dict | None) -> list[dict]:
    facts = {k: v for k, v in product.items() if v not in (None, "", [], {}) and k not in ("images", "provenance")}
    if isinstance(facts.get("description"), str):
        facts["description"] = facts["description"][:1200]
    units = int(duration * rate_for(language))
    unit_name = "Chinese characters" if language.startswith("zh") else "syllables"
    user = {"framework": framework, "framework_beats": list(FRAMEWORKS[framework].core),
            "language": language, "target_seconds": duration,
            "length": f"about {units} {unit_name} of speech in total",
            "brand": {k: v for k, v in (brand or {}).items() if k in ("name", "tone", "voice")},
            "product_facts": facts}
    return [{"role": "system", "content": _SYSTEM},
            {"role": "user", "content": json.dumps(user, ensure_ascii=False)}]


def repair_json(text: str) -> dict:
    """Parse a model's reply leniently: fences, surrounding prose, trailing commas, smart quotes."""
    text = (text or "").strip()
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text, flags=re.I)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the reply")
    body = text[start:end + 1].replace("\u201c", '"').replace("\u201d", '"')
    body = re.sub(r",\s*([}\]])", r"\1", body)
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the reply is not a JSON object")
    return value


class _Transient(Exception):
    pass


def _post(settings: LLMSettings, body: dict) -> dict:
    url = settings.base_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=settings.timeout_s) as resp:  # noqa: S310 (operator URL)
            raw = resp.read(MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        detail = exc.read(4096).decode("utf-8", "replace")
        if exc.code == 429 or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code}: {detail[:200]}") from exc
        raise ScriptError(f"LLM server refused the request (HTTP {exc.code}): {detail[:300]}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
    if len(raw) > MAX_REPLY_BYTES:
        raise ScriptError("LLM reply exceeds 2 MB")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _Transient(f"reply is not JSON: {raw[:120]!r}") from exc


def chat(settings: LLMSettings, messages: list[dict], *, seed: int, structured: bool = True) -> str:
    """One completion's text, with retries on transient errors and a json_object fallback."""
    body = {"model": settings.model, "messages": messages, "temperature": 0.7, "seed": seed,
            "response_format": {"type": "json_schema", "json_schema": {"name": "ad_script", "schema": DRAFT_SCHEMA,
                                                                       "strict": True}}
            if structured else {"type": "json_object"}}
    last = None
    for attempt in range(settings.max_retries + 1):
        try:
            reply = _post(settings, body)
            return reply["choices"][0]["message"]["content"] or ""
        except _Transient as exc:
            last = exc
            time.sleep(min(settings.backoff_s * 2 ** attempt, 8))
        except ScriptError as exc:
            if structured and ("response_format" in str(exc) or "json_schema" in str(exc)):
                return chat(settings, messages, seed=seed, structured=False)
            raise
        except (KeyError, IndexError, TypeError) as exc:
            raise ScriptError(f"LLM reply is not a chat completion: {exc!r}") from exc
    raise ScriptError(f"LLM server failed after {settings.max_retries + 1} attempts: {last}")


def _to_segment(draft: _DraftSegment, role: str, language: str, currency: str | None) -> Segment:
    kind = draft.shot.kind if draft.shot.kind in _KINDS else "product"
    return Segment(role=role, voice_line=spoken.speak_text(draft.voice_line.strip(), language, currency=currency),
                   on_screen_text=draft.on_screen_text.strip()[:120], shot=Shot(kind=kind, prompt=draft.shot.prompt[:400]),
                   facts=[str(f) for f in draft.facts][:12])


def write_llm(product: dict, *, framework: str, language: str, duration: float, seed: int = 0,
              brand: dict | None = None, settings: LLMSettings) -> AdScript:
    if framework not in FRAMEWORKS:
        raise ScriptError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
    facts = product_facts(product)
    chosen, notes = resolve_framework(framework, facts)
    messages = build_messages(product, framework=chosen.name, language=language, duration=duration, brand=brand)
    draft = None
    for attempt in range(settings.max_repairs + 1):
        content = chat(settings, messages, seed=seed)
        try:
            draft = _Draft.model_validate(repair_json(content))
            break
        except (ValueError, ValidationError) as exc:
            notes.append(f"LLM reply {attempt + 1} was malformed: {str(exc)[:160]}")
            messages = messages + [{"role": "assistant", "content": content[:4000]},
                                   {"role": "user", "content": f"That reply was not valid ({str(exc)[:300]}). "
                                                               "Reply with only the JSON object."}]
    if draft is None:
        raise ScriptError("the LLM did not return a valid script: " + notes[-1])
    cur = facts.currency
    segments = [_to_segment(draft.hook, "hook", language, cur),
                *(_to_segment(s, "scene", language, cur) for s in draft.scenes),
                _to_segment(draft.cta, "cta", language, cur)]
    estimate = estimate_lines([s.voice_line for s in segments], language)
    while estimate > duration * 1.1 and len(segments) > 3:  # too long: drop the last scenes
        segments.pop(-2)
        notes.append("dropped a scene to fit the duration")
        estimate = estimate_lines([s.voice_line for s in segments], language)
    if not fits(estimate, duration):
        notes.append(f"estimated {estimate:.1f}s vs target {duration:g}s")
    script = AdScript(language=language, framework=chosen.name, target_duration=float(duration),
                      hook=segments[0], scenes=segments[1:-1], cta=segments[-1], seed=seed, backend="llm",
                      estimated_duration=round(estimate, 2), notes=notes,
                      requested_framework=framework if chosen.name != framework else None)
    return script.with_segments(script.segments())
