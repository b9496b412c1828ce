"""`manage.py check_claims SCRIPT.json PRODUCT.json`: exit 0 when grounded, 1 + the claims otherwise."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError

from generation.scripts import AdScript, check_claims

from .write_script import read_product


class Command(BaseCommand):
    help = "Check that every number, price, rating and superlative of a script traces to the product."

    def add_arguments(self, parser):
        parser.add_argument("script")
        parser.add_argument("product")
        parser.add_argument("--approved", action="append", default=[], help="a brand-approved claim (repeatable)")

    def handle(self, *args, script: str, product: str, approved: list[str], **opts):
        try:
            ad = AdScript.model_validate(json.loads(Path(script).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, ValidationError) as exc:
            raise CommandError(f"{script} is not a script.json: {str(exc)[:300]}") from exc
        claims = check_claims(ad, read_product(product), approved_claims=approved)
        if not claims:
            self.stdout.write("grounded: every claim traces to the product facts")
            return
        for c in claims:
            self.stdout.write(f"segment {c.segment} {c.field}: {c.text!r} [{c.kind}] {c.reason}")
        self.stdout.flush()
        sys.exit(1)
