"""The ad-script document: plain pydantic data written to ``script.json``.

Invariant: ``segments()`` is ``[hook, *scenes, cta]``; a "segment index" anywhere in the
pipeline (voice sentences, shots, captions) is an index into that list.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ShotKind = Literal["product", "model", "detail", "lifestyle"]
Role = Literal["hook", "scene", "cta"]


class ScriptError(ValueError):
    """A script cannot be written as asked (unknown framework/language, bad LLM output)."""


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ShotKind = "product"
    prompt: str = ""


class Segment(BaseModel):
    """One spoken line: ``voice_line`` is the SPOKEN form, ``on_screen_text`` the formatted one."""
    model_config = ConfigDict(extra="forbid")
    role: Role
    voice_line: str
    on_screen_text: str = ""
    shot: Shot = Field(default_factory=Shot)
    facts: list[str] = Field(default_factory=list)


class AdScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str
    framework: str
    target_duration: float
    hook: Segment
    scenes: list[Segment]
    cta: Segment
    facts_used: list[str] = Field(default_factory=list)
    seed: int = 0
    backend: str = "offline"
    requested_framework: str | None = None  # set when the writer fell back to another framework
    estimated_duration: float | None = None  # seconds, by the duration model of fitting.py
    notes: list[str] = Field(default_factory=list)  # grounding edits, fallbacks, trims

    def segments(self) -> list[Segment]:
        return [self.hook, *self.scenes, self.cta]

    def with_segments(self, segments: list[Segment]) -> "AdScript":
        """A copy whose hook/scenes/cta are taken from ``segments`` (first, middle, last)."""
        return self.model_copy(update={
            "hook": segments[0], "scenes": list(segments[1:-1]), "cta": segments[-1],
            "facts_used": sorted({f for s in segments for f in s.facts}),
        })
