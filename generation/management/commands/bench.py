"""`manage.py bench NAME [ARGS...]`: run a benchmark; its last output line is one JSON object.

Each benchmark is a module exposing ``run(args: list[str], out) -> dict``; it may print a
table to ``out`` first. Figures are ratios measured within one run (the box is noisy)."""
from __future__ import annotations

import importlib
import json

from django.core.management.base import BaseCommand, CommandError

BENCHMARKS = {
    "claims": "generation.scripts.bench",
    "api": "api.bench.run",
    "scrape": "catalog.bench.scrape",
    "shots": "generation.images.bench.shots",
    "zh-voice": "generation.voice.bench.zh_voice",
    "render": "generation.video.bench.render",
    "truth": "generation.jobs.bench.truth",
    "throughput": "generation.jobs.bench.throughput",
}


class Command(BaseCommand):
    help = "Run a benchmark (" + ", ".join(sorted(BENCHMARKS)) + "); prints a final JSON line."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(BENCHMARKS))
        parser.add_argument("args", nargs="*", help="arguments for the benchmark (after --)")

    def run_from_argv(self, argv):
        # Let each benchmark parse its own flags (e.g. `bench scrape --corpus DIR`).
        if len(argv) > 2 and argv[2] in BENCHMARKS:
            self._bench_args = argv[3:]
            argv = argv[:3]
        return super().run_from_argv(argv)

    def handle(self, *args, name: str, **options):
        bench_args = getattr(self, "_bench_args", None) or list(options.get("args") or [])
        module = importlib.import_module(BENCHMARKS[name])
        try:
            result = module.run(bench_args, self.stdout)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, sort_keys=True, default=str))
