"""Self-made inputs for previews, tests and the bench — clearly *not* the production stages.
The runtime never imports this package (``stages``: inputs of ``render_template`` and the
previews; ``previews``: template thumbnails and the docs grid).

``render_template`` uses the real stages (generation.scripts / voice / images) and only
falls back to these for a product without pictures: a drawn product packshot, studio-style shots composed around it, a
minimal script, and an espeak-ng voice whose word timings are *estimated* by splitting each
measured line duration in proportion to word length (labelled ``timing: estimated``).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .. import text as tx

DEMO_PRODUCT = {
    "title": "AeroBrew Insulated Bottle 750 ml", "brand": "Nordkap", "price": "24.99", "currency": "USD",
    "original_price": "34.99", "rating": 4.7, "review_count": 1284, "availability": "InStock",
    "features": ["Keeps drinks cold for 24 hours", "Leak-proof one-hand lid", "Dishwasher safe"],
    "images": [], "description": None, "specs": {}, "sku": None, "gtin": None, "mpn": None,
    "variants": [], "canonical_url": None,
}
DEMO_BRAND = {"name": "Nordkap", "primary_color": "#1F6FEB", "secondary_color": "#0B1F3A",
              "accent_color": "#FFC83D", "font_family": "Inter", "logo_path": None, "language": "en",
              "tone": "friendly"}


def _hex(c: str) -> tuple[int, int, int]:
    return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))


def product_packshot(path: Path, *, title: str, brand: dict, size: int = 900) -> Path:
    """A drawn bottle with cap, gloss and a brand label on a transparent background."""
    s = size
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    prim, sec, acc = (_hex(brand.get(k) or "#1F6FEB") for k in ("primary_color", "secondary_color", "accent_color"))
    bw, bx = int(s * 0.36), int(s * 0.32)
    d.rounded_rectangle((bx, int(s * 0.2), bx + bw, int(s * 0.95)), radius=int(bw * 0.28), fill=prim + (255,))
    d.rounded_rectangle((bx + bw * 0.12, int(s * 0.05), bx + bw * 0.88, int(s * 0.22)), radius=int(bw * 0.12),
                        fill=sec + (255,))
    d.rectangle((bx, int(s * 0.48), bx + bw, int(s * 0.72)), fill=(250, 250, 250, 255))
    font, lines, lh = tx.fit((brand.get("name") or title).upper(), max_size=int(bw * 0.2), max_w=int(bw * 0.8),
                             max_h=int(s * 0.1), max_lines=1, weight="black")
    d.text((bx + bw / 2, int(s * 0.56)), lines[0], font=font, fill=sec + (255,), anchor="mm")
    d.rectangle((bx + bw * 0.2, int(s * 0.635), bx + bw * 0.8, int(s * 0.65)), fill=acc + (255,))
    gloss = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    ImageDraw.Draw(gloss).rounded_rectangle((bx + bw * 0.1, int(s * 0.25), bx + bw * 0.22, int(s * 0.9)),
                                            radius=int(bw * 0.06), fill=(255, 255, 255, 90))
    img = Image.alpha_composite(img, gloss.filter(ImageFilter.GaussianBlur(s / 120)))
    img.save(path)
    return path


def studio_shot(path: Path, packshot: Path, *, brand: dict, variant: int, size=(1080, 1920)) -> Path:
    """The packshot on a lit studio backdrop; variants change backdrop, light and framing."""
    w, h = size
    prim, sec, acc = (np.array(_hex(brand.get(k) or "#1F6FEB"), np.float32)
                      for k in ("primary_color", "secondary_color", "accent_color"))
    light = np.array([245, 243, 238], np.float32)
    top, bottom = [(light, prim * 0.35 + light * 0.65), (sec, prim), (acc * 0.5 + light * 0.5, light),
                   (prim * 0.6 + sec * 0.4, sec)][variant % 4]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = (yy / h)[..., None]
    bg = top * (1 - g) + bottom * g
    cx, cy = w * (0.3 + 0.4 * ((variant * 37) % 10) / 10), h * 0.3
    glow = np.exp(-(((xx - cx) / (w * 0.6)) ** 2 + ((yy - cy) / (h * 0.35)) ** 2))[..., None]
    bg = np.clip(bg + glow * 40, 0, 255).astype(np.uint8)
    canvas = Image.fromarray(bg).convert("RGBA")
    floor_y = int(h * (0.70 + 0.04 * (variant % 2)))
    ImageDraw.Draw(canvas).rectangle((0, floor_y, w, h), fill=tuple(int(c) for c in (bottom * 0.85)) + (255,))
    prod = Image.open(packshot).convert("RGBA")
    scale = [0.95, 1.25, 0.8, 1.6][variant % 4]
    pw = int(w * scale)
    prod = prod.resize((pw, pw), Image.LANCZOS)
    px, py = (w - pw) // 2 + int(w * 0.08 * ((variant % 3) - 1)), floor_y - int(pw * 0.95)
    shadow = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).ellipse((px + pw * 0.3, floor_y - pw * 0.03, px + pw * 0.7, floor_y + pw * 0.04),
                                   fill=(0, 0, 0, 120))
    canvas = Image.alpha_composite(canvas, shadow.filter(ImageFilter.GaussianBlur(w / 60)))
    canvas.alpha_composite(prod, (px, py))
    canvas.convert("RGB").save(path)
    return path


def procedural_shots(out_dir: Path, *, product: dict, brand: dict, n: int, size=(1080, 1920)) -> tuple[list[dict], Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    pack = product_packshot(out_dir / "packshot.png", title=product.get("title") or "", brand=brand)
    kinds = ["product", "detail", "lifestyle", "product"]
    shots = [{"key": str(studio_shot(out_dir / f"shot_{i}.png", pack, brand=brand, variant=i, size=size)),
              "kind": kinds[i % 4], "segment": i, "fidelity": None} for i in range(n)]
    return shots, pack


def fallback_script(product: dict, *, framework: str = "problem_solution", language: str = "en") -> dict:
    """A minimal English script from the facts (used only when generation.scripts is absent)."""
    name = product.get("title") or "this"
    feats = list(product.get("features") or [])[:3] or ["Made to last"]
    seg = lambda role, spoken, shown, kind: {"role": role, "voice_line": spoken, "on_screen_text": shown,  # noqa: E731
                                             "shot": {"kind": kind, "prompt": name}, "facts": []}
    scenes = [seg("scene", f"{f}.", f, "detail") for f in feats]
    return {"language": language, "framework": framework, "target_duration": 15,
            "hook": seg("hook", f"Meet the {name}.", f"Meet the {name}", "product"),
            "scenes": scenes, "cta": seg("cta", "Tap the link to get yours today.", "Shop now", "product")}


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def espeak_voice(script: dict, out_dir: Path, *, language: str = "en", gap: float = 0.18) -> dict:
    """Speak each segment with espeak-ng, join with short gaps; voice.json per the contract.
    Word times are ESTIMATED (proportional split of each measured line)."""
    if not shutil.which("espeak-ng"):
        raise FileNotFoundError("espeak-ng not installed (apt-get install espeak-ng)")
    out_dir.mkdir(parents=True, exist_ok=True)
    segs = [script["hook"], *script["scenes"], script["cta"]]
    voice_id = "cmn" if language.startswith("zh") else "en-us"
    pcm, sentences, words, t, sr = [], [], [], 0.0, 22050
    for i, seg in enumerate(segs):
        part = out_dir / f"_seg{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice_id, "-s", "170", "-w", str(part), seg["voice_line"]],
                       check=True, capture_output=True, timeout=60)
        with wave.open(str(part)) as w:
            sr = w.getframerate()
            data = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        part.unlink()
        nz = np.flatnonzero(np.abs(data) > 300)  # trim espeak's leading/trailing silence
        data = data[max(0, nz[0] - 200): nz[-1] + 400] if len(nz) else data
        dur = len(data) / sr
        sentences.append({"text": seg["voice_line"], "start": round(t, 3), "end": round(t + dur, 3), "segment": i})
        toks = seg["voice_line"].split() if voice_id == "en-us" else list(seg["voice_line"].replace(" ", ""))
        weights = np.array([len(x) + 2 for x in toks], np.float64)
        edges = t + dur * np.concatenate([[0], np.cumsum(weights) / weights.sum()])
        words += [{"word": tok, "start": round(edges[k], 3), "end": round(edges[k + 1], 3), "segment": i}
                  for k, tok in enumerate(toks)]
        pcm += [data, np.zeros(int(gap * sr), np.int16)]
        t += dur + gap
    audio = np.concatenate(pcm)
    with wave.open(str(out_dir / "voice.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(sr)
        w.writeframes(audio.tobytes())
    # The VoiceTrack document (word times estimated: "proportional").
    voice = {"duration": round(len(audio) / sr, 3), "sample_rate": sr, "language": language, "wav": "voice.wav",
             "srt": "", "sentences": sentences, "words": words, "word_timing": "proportional",
             "backend": "espeak-ng"}
    (out_dir / "voice.json").write_text(json.dumps(voice, indent=1))
    return voice
