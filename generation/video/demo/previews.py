"""Template preview thumbnails and the docs screenshot grid, drawn by the real compositor
from the demo inputs (no encoding needed: frames are taken straight from ``Compositor``)."""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from generation.video import demo
from generation.video import text as tx
from generation.video.render import Compositor
from generation.video.timeline import TEMPLATES_DIR, list_templates, load_template, timeline_build

ASPECTS = ("9:16", "1:1", "16:9")


def demo_inputs(work: Path, *, product: dict | None = None, brand: dict | None = None, n_shots: int = 5) -> dict:
    """Procedural shots + espeak voice + fallback script (cached in `work`)."""
    product, brand = product or demo.DEMO_PRODUCT, brand or demo.DEMO_BRAND
    script = demo.fallback_script(product)
    voice = json.loads((work / "voice.json").read_text()) if (work / "voice.json").exists() else demo.espeak_voice(script, work)
    shots, pack = demo.procedural_shots(work / "shots", product=product, brand=brand, n=n_shots)
    return {"script": script, "voice": voice, "voice_dir": work, "shots": shots,
            "product": {**product, "images": [{"key": str(pack)}]}, "brand": brand}


def stage_inputs(work: Path, framework: str, *, product: dict | None = None, brand: dict | None = None) -> dict:
    """Inputs from the real stages where installed (script writer, voice, shots), so each
    template's preview carries its own framework's copy; demo fallbacks otherwise."""
    from . import stages
    product, brand = product or demo.DEMO_PRODUCT, brand or demo.DEMO_BRAND
    work = work / framework
    work.mkdir(parents=True, exist_ok=True)
    cached = work / "inputs.json"
    if cached.exists():  # the stages are slow (shots); previews and grid share one run
        data = json.loads(cached.read_text())
        return {**data, "voice_dir": Path(data["voice_dir"])}
    notes: list[str] = []
    script = stages.make_script(product, framework=framework, language="en", duration=15, brand=brand, notes=notes)
    voice = stages.make_voice(script, work / "voice", language="en", notes=notes)
    shots, images = stages.make_shots(product, script, work, brand=brand, images=[], notes=notes)
    data = {"script": script, "voice": voice, "voice_dir": str(work / "voice"), "shots": shots,
            "product": {**product, "images": [{"key": str(p)} for p in images]}, "brand": brand}
    cached.write_text(json.dumps(data, default=str))
    return {**data, "voice_dir": work / "voice"}


def sample_frames(name: str, aspect: str, inputs: dict, *, scale: float) -> list[Image.Image]:
    """Hook, first body scene and CTA, each sampled once its entrances have settled."""
    tl = timeline_build(template=name, aspect=aspect, scale=scale, **inputs)
    comp = Compositor(tl, inputs["voice_dir"])
    picks = [(tl.scenes[0], 0.75), (tl.scenes[1] if len(tl.scenes) > 2 else tl.scenes[0], 0.6), (tl.scenes[-1], 0.8)]
    return [Image.fromarray(comp.frame(sc.start + f * (sc.end - sc.start))) for sc, f in picks]


def write_previews(work: Path, *, scale: float = 0.25) -> list[Path]:
    """templates/previews/<name>.jpg: mid first body scene (the template's character) in 9:16."""
    out = []
    (TEMPLATES_DIR / "previews").mkdir(exist_ok=True)
    for name in list_templates():
        inputs = stage_inputs(work, load_template(name).framework)
        tl = timeline_build(template=name, aspect="9:16", scale=scale, **inputs)
        body = next((sc for sc in tl.scenes if sc.role == "body"), tl.scenes[0])
        frame = Compositor(tl, inputs["voice_dir"]).frame(body.start + 0.6 * (body.end - body.start))
        path = TEMPLATES_DIR / "previews" / f"{name}.jpg"
        Image.fromarray(frame).save(path, quality=85)
        out.append(path)
    return out


def write_grid(work: Path, out: Path, *, cell_h: int = 420, scale: float = 0.5) -> Path:
    """One row per template; per aspect, frames from hook, body and CTA."""
    rows = []
    for name in list_templates():
        inputs = stage_inputs(work, load_template(name).framework)
        cells = []
        for aspect in ASPECTS:
            for im in sample_frames(name, aspect, inputs, scale=scale):
                cells.append(im.resize((round(im.width * cell_h / im.height), cell_h), Image.LANCZOS))
        rows.append((name, cells))
    gap, label_h = 8, 44
    width = max(sum(c.width for c in cells) + gap * (len(cells) + 1) for _, cells in rows)
    grid = Image.new("RGB", (width, len(rows) * (cell_h + label_h + gap) + gap), (18, 20, 26))
    d = ImageDraw.Draw(grid)
    font = tx.load_font(26, "bold")
    y = gap
    for name, cells in rows:
        d.text((gap, y + 8), f"{name}   ·   9:16   |   1:1   |   16:9", font=font, fill=(235, 235, 240))
        x = gap
        for c in cells:
            grid.paste(c, (x, y + label_h))
            x += c.width + gap
        y += cell_h + label_h + gap
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out, optimize=True)
    return out
