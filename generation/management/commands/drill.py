"""`manage.py drill NAME [ARGS...]`: run a fault or attack drill; its last output line is one JSON object.

Each drill is a module exposing ``run(args: list[str], out) -> dict`` (like the benchmarks). A drill
starts what it needs (listeners, workers, servers on loopback), is bounded in time, cleans up after
itself, and returns its figures; ``ok: false`` in the result makes the command exit 1."""
from __future__ import annotations

import importlib
import json
import sys

from django.core.management.base import BaseCommand, CommandError

# name -> module; drills live in `<package>/drills/` modules that the runtime never imports.
DRILLS: dict[str, str] = {
    "drop-db": "generation.drills.drop_db",
    "kill-host": "generation.drills.kill_host",
    "kill-worker": "generation.drills.kill_worker",
    "restart-redis": "generation.drills.restart_redis",
    "slow-origin": "generation.drills.slow_origin",
    "ssrf": "catalog.drills.ssrf",
    "campaign-schedule": "campaigns.drills.campaign_schedule",
    "storage-failure": "generation.drills.storage_failure",
}


class Command(BaseCommand):
    help = "Run a drill (" + ", ".join(sorted(DRILLS)) + "); prints a final JSON line."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(DRILLS))
        parser.add_argument("args", nargs="*", help="arguments for the drill")

    def run_from_argv(self, argv):
        if len(argv) > 2 and argv[2] in DRILLS:
            self._drill_args = argv[3:]
            argv = argv[:3]
        return super().run_from_argv(argv)

    def handle(self, *args, name: str, **options):
        drill_args = getattr(self, "_drill_args", None) or list(options.get("args") or [])
        module = importlib.import_module(DRILLS[name])
        try:
            result = module.run(drill_args, self.stdout)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, sort_keys=True, default=str))
        if result.get("ok") is False:
            sys.exit(1)
