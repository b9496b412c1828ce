"""`manage.py write_script PRODUCT.json --framework NAME --language en|zh --duration 15 [--json]`.

PRODUCT.json is one line of `extract_product --jsonl` output (a facts dict).
`write_script --list-frameworks` prints the framework names, one per line.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.scripts import FRAMEWORK_NAMES, ScriptError, write_script


def read_product(path: str) -> dict:
    """A product facts file: the pipeline's indented ``product.json`` or one ``--jsonl`` line."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    try:
        product = json.loads(text)  # a whole JSON document (the pipeline writes it indented)
    except json.JSONDecodeError:
        try:
            product = json.loads(text.splitlines()[0] if text else "")  # first line of a JSONL file
        except (json.JSONDecodeError, IndexError) as exc:
            raise CommandError(f"{path} is not a JSON product (product.json or one extract_product "
                               "--jsonl line)") from exc
    if not isinstance(product, dict):
        raise CommandError(f"{path} must hold a JSON object")
    return product


class Command(BaseCommand):
    help = "Write an ad script for a product facts JSON file."

    def add_arguments(self, parser):
        parser.add_argument("product", nargs="?", help="product facts JSON (one extract_product --jsonl line)")
        parser.add_argument("--framework", default="feature_tour", choices=FRAMEWORK_NAMES)
        parser.add_argument("--language", default="en")
        parser.add_argument("--duration", type=float, default=15.0)
        parser.add_argument("--backend", default=None, choices=["offline", "llm"],
                            help="default: settings.GENERATION.script_backend")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="print the script as JSON (script.json)")
        parser.add_argument("--list-frameworks", action="store_true")

    def handle(self, *args, **opts):
        if opts["list_frameworks"]:
            self.stdout.write("\n".join(FRAMEWORK_NAMES))
            return
        if not opts["product"]:
            raise CommandError("give PRODUCT.json (or --list-frameworks)")
        from django.conf import settings
        backend = opts["backend"] or settings.GENERATION.script_backend
        try:
            script = write_script(read_product(opts["product"]), framework=opts["framework"],
                                  language=opts["language"], duration=opts["duration"], seed=opts["seed"],
                                  backend=backend)
        except ScriptError as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(script.model_dump(mode="json"), ensure_ascii=False, indent=1))
            return
        for i, seg in enumerate(script.segments()):
            self.stdout.write(f"[{i}] {seg.role:5} {seg.shot.kind:9} {seg.voice_line}  | {seg.on_screen_text}")
        for note in script.notes:
            self.stdout.write(f"note: {note}")
