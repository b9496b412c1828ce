"""`manage.py render_video TIMELINE.json --out OUT.mp4`: re-render a resolved timeline exactly."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError


class Command(BaseCommand):
    help = "Render a timeline JSON (from a previous render or edited by hand) to an MP4."

    def add_arguments(self, parser):
        parser.add_argument("timeline", type=Path)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--assets", type=Path, help="folder relative asset paths resolve against "
                                                        "(default: the timeline's folder)")
        parser.add_argument("--preset", help="x264 preset override (e.g. ultrafast for a preview)")

    def handle(self, *args, timeline: Path, out: Path, assets: Path | None, preset: str | None, **opts):
        from generation.video import Timeline, render
        try:
            tl = Timeline.model_validate(json.loads(timeline.read_text()))
        except (OSError, ValueError, ValidationError) as exc:
            raise CommandError(f"{timeline}: not a valid timeline: {exc}") from exc
        with tempfile.TemporaryDirectory(prefix="render_video_") as tmp:
            res = render(tl, assets or timeline.resolve().parent, Path(tmp), preset=preset)
            _deliver(res, out)
        self.stdout.write(json.dumps({"video": str(out), "duration": res.duration, "render_s": res.render_s,
                                      "loudness": res.loudness}))


def _deliver(res, out: Path) -> None:
    """OUT.mp4 plus OUT.jpg (thumbnail), OUT.srt and OUT.timeline.json next to it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(res.video), out)
    shutil.move(str(res.thumbnail), out.with_suffix(".jpg"))
    shutil.move(str(res.captions), out.with_suffix(".srt"))
    shutil.move(str(res.timeline_json), out.with_suffix(".timeline.json"))
