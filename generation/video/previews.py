"""Template preview thumbnails and the docs screenshot grid, drawn by the real compositor
from the demo inputs (no encoding needed: frames are taken straight from ``Compositor``)."""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from . import demo
from . import text as tx
from .render import Compositor
from .timeline import TEMPLATES_DIR, list_templates, timeline_build

ASPECTS = ("9:16", "1:1", "16:9")


def demo_inputs(work: Path, *, product: dict | None = None, brand: dict | None = None, n_shots: int = 5) -> dict:
    """Procedural shots + espeak voice + fallback script (cached in `work`)."""
    product, brand = product or demo.DEMO_PRODUCT, brand or demo.DEMO_BRAND
    script = demo.fallback_script(product)
    voice = json.loads((work / "voice.json").read_text()) if (work / "voice.json").exists() else demo.espeak_voice(script, work)
    shots, pack = demo.procedural_shots(work / "shots", product=product, brand=brand, n=n_shots)
    return {"script": script, "voice": voice, "voice_dir": work, "shots": shots,
            "product": {**product, "image_paths": [str(pack)]}, "brand": brand}


def sample_frames(name: str, aspect: str, inputs: dict, *, scale: float, times=(0.3, 0.5, 0.9)) -> list[Image.Image]:
    tl = timeline_build(template=name, aspect=aspect, scale=scale, **inputs)
    comp = Compositor(tl, inputs["voice_dir"])
    return [Image.fromarray(comp.frame(min(tl.duration - 0.05, f * tl.duration if f < 1 else f))) for f in times]


def write_previews(work: Path, *, scale: float = 0.25) -> list[Path]:
    """templates/previews/<name>.jpg: the thumbnail moment of each template in 9:16."""
    inputs = demo_inputs(work)
    out = []
    (TEMPLATES_DIR / "previews").mkdir(exist_ok=True)
    for name in list_templates():
        tl = timeline_build(template=name, aspect="9:16", scale=scale, **inputs)
        frame = Compositor(tl, work).frame(tl.thumbnail_time)
        path = TEMPLATES_DIR / "previews" / f"{name}.jpg"
        Image.fromarray(frame).save(path, quality=85)
        out.append(path)
    return out


def write_grid(work: Path, out: Path, *, cell_h: int = 420, scale: float = 0.5) -> Path:
    """One row per template; per aspect, frames from hook, body and CTA."""
    inputs = demo_inputs(work)
    rows = []
    for name in list_templates():
        cells = []
        for aspect in ASPECTS:
            for im in sample_frames(name, aspect, inputs, scale=scale, times=(0.1, 0.45, 0.93)):
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
