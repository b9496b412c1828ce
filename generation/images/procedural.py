"""Brand-coloured studio scenes drawn with numpy: the no-weights backend.

A scene is a cyclorama (wall gradient blending into a floor), a spotlight glow, optional
brand shapes (arch, disc, podium, bokeh) and a vignette, plus fine grain so gradients do not
band after H.264. ``layout_for`` decides where the product stands for each shot kind; the
seed varies the look (glow position, shapes) so best-of-N has real alternatives.
Pure functions of (size, brand, kind, seed): no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("product", "model", "detail", "lifestyle")


def hex_to_rgb(value: str | None, default: str = "#111827") -> np.ndarray:
    text = (value or default).strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float32)
    except ValueError:
        return hex_to_rgb(default)


def mix(a: np.ndarray, b: np.ndarray | float, t: float) -> np.ndarray:
    return a * (1 - t) + np.asarray(b, dtype=np.float32) * t


@dataclass(frozen=True)
class Layout:
    """Where the product goes (fractions of the frame) and which props are drawn."""

    box_w: float  # product bounding box, fraction of width
    box_h: float  # ... of height
    center_x: float
    base_y: float  # where the product stands, fraction of height
    horizon: float  # wall/floor boundary, fraction of height
    podium: bool
    arch: bool
    bokeh: bool
    reflection: bool
    dark: bool


def layout_for(kind: str, rng: np.random.Generator, *, product_luma: float = 0.5) -> Layout:
    """The composition of each shot kind; the renderer crops/pans the 9:16 frame, so the
    product stays in the central safe area. Detail shots go dark (moody) unless the product
    itself is dark (``product_luma`` 0..1), which would vanish into the backdrop."""
    if kind == "detail":
        return Layout(0.86, 0.58, 0.5, 0.80, 0.74, podium=False, arch=False, bokeh=True,
                      reflection=False, dark=product_luma > 0.4)
    if kind == "lifestyle":
        return Layout(0.62, 0.36, 0.5 + rng.uniform(-0.06, 0.06), 0.74, 0.62, podium=False,
                      arch=False, bokeh=True, reflection=False, dark=False)
    if kind == "model":
        return Layout(0.58, 0.40, 0.5, 0.70, 0.60, podium=True, arch=True, bokeh=False,
                      reflection=False, dark=False)
    podium = bool(rng.random() < 0.6)
    return Layout(0.70, 0.38, 0.5, 0.66 if podium else 0.70, 0.63, podium=podium,
                  arch=bool(rng.random() < 0.5), bokeh=False, reflection=not podium, dark=False)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys = np.arange(h, dtype=np.float32)[:, None] / max(1, h - 1)
    xs = np.arange(w, dtype=np.float32)[None, :] / max(1, w - 1)
    return ys, xs


def _ellipse(h: int, w: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """Anti-aliased filled ellipse (pixel units) as a 0..1 mask."""
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    d = np.sqrt(((xs - cx) / max(rx, 1)) ** 2 + ((ys - cy) / max(ry, 1)) ** 2)
    return np.clip((1 - d) * min(rx, ry) + 0.5, 0, 1)


def _blend(canvas: np.ndarray, color: np.ndarray, alpha: np.ndarray) -> None:
    """Blend ``color`` where ``alpha`` > 0, touching only the rows/columns it covers."""
    rows = np.flatnonzero(alpha.max(axis=1) > 1e-3)
    cols = np.flatnonzero(alpha.max(axis=0) > 1e-3)
    if rows.size == 0 or cols.size == 0:
        return
    ys, xs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    a = np.broadcast_to(alpha, canvas.shape[:2])[ys, xs, None]
    canvas[ys, xs] = canvas[ys, xs] * (1 - a) + color * a


def studio_background(size: tuple[int, int], brand: dict, kind: str, seed: int,
                      layout: Layout) -> tuple[np.ndarray, dict]:
    """A float32 HxWx3 scene (0..255) and the floor geometry the compositor needs."""
    w, h = size
    rng = np.random.default_rng([seed, KINDS.index(kind) if kind in KINDS else 0])
    primary = hex_to_rgb(brand.get("primary_color"), "#111827")
    secondary = hex_to_rgb(brand.get("secondary_color"), "#F9FAFB")
    accent = hex_to_rgb(brand.get("accent_color"), "#F59E0B")
    white = np.float32(255.0)
    ys, xs = _grid(h, w)
    if layout.dark:
        wall_top, wall_low = mix(primary, 0, 0.35), mix(primary, white, 0.12)
        floor_near, floor_far = mix(primary, 0, 0.55), mix(primary, 0, 0.15)
    else:
        wall_top, wall_low = mix(primary, white, 0.62), mix(secondary, white, 0.25)
        wall_low = mix(wall_low, primary, 0.10)
        floor_far, floor_near = mix(primary, white, 0.72), mix(primary, white, 0.48)
    t_wall = np.clip(ys / layout.horizon, 0, 1)
    wall = mix(wall_top, wall_low, 1.0) * t_wall[..., None] + wall_top * (1 - t_wall[..., None])
    t_floor = np.clip((ys - layout.horizon) / max(1e-3, 1 - layout.horizon), 0, 1)[..., None]
    floor = floor_far * (1 - t_floor) + floor_near * t_floor
    # A soft horizon: the cyclorama curve, never a hard line.
    blend = np.clip((ys - layout.horizon) / 0.035 + 0.5, 0, 1)[..., None]
    canvas = wall * (1 - blend) + floor * blend
    canvas = np.broadcast_to(canvas, (h, w, 3)).astype(np.float32).copy()

    glow_x = layout.center_x + rng.uniform(-0.08, 0.08)
    glow_y = layout.base_y - layout.box_h * rng.uniform(0.45, 0.7)
    d2 = ((xs - glow_x) * w / h) ** 2 + (ys - glow_y) ** 2
    glow = np.exp(-d2 / (2 * rng.uniform(0.16, 0.24) ** 2)).astype(np.float32)
    _blend(canvas, mix(secondary, white, 0.6) if not layout.dark else mix(primary, white, 0.5),
           glow * (0.55 if not layout.dark else 0.45))

    if layout.arch:
        cx, rx = layout.center_x * w, w * rng.uniform(0.34, 0.42)
        top = (layout.base_y - layout.box_h - 0.06) * h
        arch = np.maximum(_ellipse(h, w, cx, top + rx, rx, rx), 0)
        arch *= (ys * h <= layout.horizon * h + 2)  # stands on the floor line
        rect = ((xs * w >= cx - rx) & (xs * w <= cx + rx) & (ys * h >= top + rx) & (ys <= layout.horizon))
        _blend(canvas, mix(accent, white, 0.35), np.maximum(arch, rect.astype(np.float32)) * 0.55)
    if layout.bokeh:
        for _ in range(int(rng.integers(9, 15))):
            r = w * rng.uniform(0.03, 0.11)
            color = [accent, secondary, mix(primary, white, 0.6)][int(rng.integers(0, 3))]
            disc = _ellipse(h, w, rng.uniform(0, w), rng.uniform(0, h * layout.horizon), r, r)
            _blend(canvas, mix(color, white, 0.3), disc * rng.uniform(0.10, 0.28))
    geometry = {"floor_y": layout.base_y}
    if layout.podium:
        geometry["floor_y"] = _draw_podium(canvas, layout, primary, secondary, accent, rng)
    vignette = 1 - 0.22 * np.clip(((xs - 0.5) ** 2 + (ys - 0.5) ** 2 * 0.6) * 2.2, 0, 1)
    canvas *= vignette[..., None]
    canvas += rng.normal(0, 1.1, size=(h, w, 1)).astype(np.float32)  # grain against banding
    return np.clip(canvas, 0, 255), geometry


def _draw_podium(canvas, layout, primary, secondary, accent, rng) -> float:
    """A cylinder plinth; returns the y (fraction) of its top surface centre."""
    h, w = canvas.shape[:2]
    cx = layout.center_x * w
    rx = w * layout.box_w * rng.uniform(0.52, 0.62)
    ry = rx * 0.16
    top_y = layout.base_y * h
    bottom_y = min(h * 0.96, top_y + h * rng.uniform(0.12, 0.18))
    body_color = mix(secondary, primary, 0.18) if rng.random() < 0.5 else mix(accent, primary, 0.15)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    side = np.clip(rx - np.abs(xs - cx) + 0.5, 0, 1) * ((ys >= top_y) & (ys <= bottom_y))
    side = np.maximum(side, _ellipse(h, w, cx, bottom_y, rx, ry))
    shade = 0.78 + 0.22 * np.cos(np.clip((xs - cx) / rx, -1, 1) * np.pi / 2)  # round body
    rows, cols = np.flatnonzero(side.any(axis=1)), np.flatnonzero(side.any(axis=0))
    if rows.size:  # only where the plinth is: elsewhere the blend would leave pixels as they are
        ys_, xs_ = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        a = side[ys_, xs_, None]
        body = body_color * shade[:, xs_, None] * np.ones((rows[-1] + 1 - rows[0], 1, 1), np.float32)
        canvas[ys_, xs_] = canvas[ys_, xs_] * (1 - a) + body * a
    _blend(canvas, mix(body_color, 255.0, 0.35), _ellipse(h, w, cx, top_y, rx, ry))
    return layout.base_y
