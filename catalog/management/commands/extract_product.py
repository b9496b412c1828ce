"""`manage.py extract_product --jsonl FILE [FILE ...]`: offline extraction from saved pages."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.ingest.extract import FACT_KEYS, extract_product


class Command(BaseCommand):
    help = "Extract product facts from saved HTML files (no network); one JSON object per line."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="saved HTML files")
        parser.add_argument("--jsonl", action="store_true", help="one JSON object per line (the only format)")
        parser.add_argument("--url", default=None, help="the page's original URL (resolves relative links)")
        parser.add_argument("--provenance", action="store_true", help="also print per-field provenance")

    def handle(self, *args, files, url=None, provenance=False, **options):
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no such file: {name}")
            facts = extract_product(path.read_bytes(), url=url)
            row = {"file": str(path)} | {key: facts.get(key) for key in FACT_KEYS}
            if provenance:
                row["provenance"] = facts["provenance"]
            self.stdout.write(json.dumps(row, ensure_ascii=False))
