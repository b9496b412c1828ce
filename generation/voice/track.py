"""``VoiceTrack``: the voice stage's output as the spine carries it (``voice.json``).

The same document ``synthesize`` writes (``VoiceResult``), read back strictly: an unknown or
renamed field fails validation instead of silently losing word timings. ``wav`` is a file
name inside the voice folder.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict

from .synth import VoiceResult


class VoiceTrack(VoiceResult):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def read(cls, folder: Path) -> "VoiceTrack":
        """Validate ``folder/voice.json`` (raises FileNotFoundError / pydantic.ValidationError)."""
        return cls.model_validate_json((Path(folder) / "voice.json").read_text(encoding="utf-8"))
