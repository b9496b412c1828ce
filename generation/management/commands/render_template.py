"""`manage.py render_template NAME --product PRODUCT.json --aspect 9:16 --out OUT.mp4`.

Runs script → voice → shots → render for one product without the job system, using the
real stages where installed and the offline demo fallbacks otherwise (printed as notes)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Render a built-in template for a product facts JSON."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--product", type=Path, help="product facts JSON (default: a demo product)")
        parser.add_argument("--brand", type=Path, help="brand kit JSON (Brand.as_style())")
        parser.add_argument("--aspect", default="9:16", choices=["9:16", "1:1", "16:9"])
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--language", default="en")
        parser.add_argument("--duration", type=float, default=15.0)
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--preset", default="veryfast")
        parser.add_argument("--music", type=Path)
        parser.add_argument("--image", type=Path, action="append", default=[], help="local product image(s)")
        parser.add_argument("--keep", type=Path, help="keep the intermediate files in this folder")

    def handle(self, *args, **o):
        from generation.video import TemplateError, load_template, render, timeline_build
        from generation.video import demo
        from generation.video.demo import stages
        from .render_video import _deliver
        try:
            tpl = load_template(o["name"])
            product = json.loads(o["product"].read_text()) if o["product"] else dict(demo.DEMO_PRODUCT)
            brand = json.loads(o["brand"].read_text()) if o["brand"] else dict(demo.DEMO_BRAND)
        except (TemplateError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if isinstance(product, list):
            product = product[0]
        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="render_template_") as tmp:
            work = o["keep"] or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            script = stages.make_script(product, framework=tpl.framework, language=o["language"],
                                        duration=o["duration"], brand=brand, notes=notes)
            voice = stages.make_voice(script, work / "voice", language=o["language"], notes=notes)
            try:
                shots, images = stages.make_shots(product, script, work, brand=brand, images=o["image"], notes=notes)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            # The given product's own photos, main first (not the bundled sample bottle).
            facts = {**product, "images": [{"key": str(p)} for p in images]}
            tl = timeline_build(template=tpl.name, aspect=o["aspect"], script=script, voice=voice,
                                voice_dir=work / "voice", shots=shots, product=facts, brand=brand,
                                music=o["music"], scale=o["scale"], preset=o["preset"])
            res = render(tl, work, work / "out")
            _deliver(res, o["out"])
        for note in notes:
            self.stderr.write(f"note: {note}")
        self.stdout.write(json.dumps({"video": str(o["out"]), "duration": res.duration, "render_s": res.render_s,
                                      "loudness": res.loudness, "notes": notes}))
