"""Ad scripts: grounded, multi-framework, multi-language, fitted to a duration.

Public API (docs/scripts-and-voice.md):
``write_script(product, *, framework, language, duration, seed=0, backend="offline", brand=None)``,
``check_claims(script, product, *, approved_claims=())``, ``ground_script(script, product)``,
models ``AdScript``/``Segment``/``Shot``, ``ScriptError``, ``FRAMEWORK_NAMES``.
"""
from __future__ import annotations

from .claims import Claim, ClaimFlag, check_claims, ground_script, script_claims_gate
from .frameworks import FRAMEWORK_NAMES
from .models import AdScript, ScriptError, Segment, Shot

BACKENDS = ("offline", "llm")


def write_script(product: dict, *, framework: str, language: str, duration: float, seed: int = 0,
                 backend: str = "offline", brand: dict | None = None, llm=None,
                 approved_claims=()) -> AdScript:
    """Write a grounded script for ``product``; never fails on sparse products.

    ``backend="llm"`` uses ``llm`` (an ``LLMSettings``) or, when None, ``settings.GENERATION``.
    The result always passes ``check_claims`` (ungrounded lines are removed or rewritten and
    listed in ``notes``).
    """
    if backend not in BACKENDS:
        raise ScriptError(f"unknown script backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if not isinstance(product, dict) or not (product.get("title") or product.get("brand")):
        raise ScriptError("product facts need at least a title or a brand")
    approved = tuple(approved_claims) + tuple((brand or {}).get("approved_claims") or ())
    if backend == "llm":
        from .llm import LLMSettings, write_llm
        settings = llm or LLMSettings.from_django()
        script = write_llm(product, framework=framework, language=language, duration=duration, seed=seed,
                           brand=brand, settings=settings)
    else:
        from .offline import write_offline
        script = write_offline(product, framework=framework, language=language, duration=duration,
                               seed=seed, brand=brand)
    return ground_script(script, product, approved_claims=approved)


__all__ = ["AdScript", "Claim", "ClaimFlag", "script_claims_gate", "FRAMEWORK_NAMES", "ScriptError", "Segment", "Shot", "check_claims",
           "ground_script", "write_script"]
