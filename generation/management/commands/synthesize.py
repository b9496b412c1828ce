"""`manage.py synthesize SCRIPT.json --out DIR [--backend auto|piper|espeak|openai] [--voice V]`."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError

from generation.scripts import AdScript


class Command(BaseCommand):
    help = "Speak a script: writes voice.wav, captions.srt, words.json and voice.json into --out."

    def add_arguments(self, parser):
        parser.add_argument("script")
        parser.add_argument("--out", required=True)
        parser.add_argument("--backend", choices=["auto", "piper", "espeak", "openai"], default=None)
        parser.add_argument("--voice", default=None, help="Piper .onnx path, espeak voice or cloud voice name")

    def handle(self, *args, script: str, out: str, backend: str | None, voice: str | None, **opts):
        from generation.voice import TTSError, synthesize
        try:
            ad = AdScript.model_validate(json.loads(Path(script).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, ValidationError) as exc:
            raise CommandError(f"{script} is not a script.json: {str(exc)[:300]}") from exc
        try:
            result = synthesize(ad, Path(out), backend=backend, voice=voice)
        except TTSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{result.backend}: {result.duration:.2f}s, {len(result.sentences)} sentences, "
                          f"{len(result.words)} words, {result.loudness_lufs} LUFS -> {out}")
