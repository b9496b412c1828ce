"""Templates and timelines as validated documents (pydantic, ``schema_version``).

A *template* is data: scenes by role (``hook``, ``body`` repeated per script scene, ``cta``)
plus ``overlay`` layers spanning the whole ad, each layer keyed on ``type``. A *timeline* is
the same layer models fully resolved by ``timeline_build``: every layer has its pixel rect,
its start/end in seconds and its asset path, so ``render`` needs nothing else and a JSON
dump re-renders the same frames.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1
Aspect = Literal["9:16", "1:1", "16:9"]
Easing = Literal["linear", "ease_in_out", "ease_out", "ease_in"]
_COLOR = re.compile(r"^(#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?|brand\.(primary|secondary|accent|text|dark|light)|transparent)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_color(value: str | None) -> str | None:
    if value is not None and not _COLOR.match(value):
        raise ValueError(f"{value!r} is not a colour: use #RRGGBB, #RRGGBBAA, 'transparent' or brand.<role>")
    return value


class Box(_Model):
    """A layout rule, not pixels: a box anchored inside a region (the platform-safe area or
    the whole frame), sized as fractions of that region. ``landscape`` moves the box into the
    left or right column of a 16:9 frame, so one template lays out all three aspects."""
    anchor: Literal["top", "center", "bottom", "left", "right",
                    "top_left", "top_right", "bottom_left", "bottom_right"] = "center"
    region: Literal["safe", "frame"] = "safe"
    w: float = Field(1.0, gt=0, le=1)
    h: float = Field(1.0, gt=0, le=1)
    dx: float = Field(0.0, ge=-1, le=1)
    dy: float = Field(0.0, ge=-1, le=1)
    landscape: Literal["same", "left", "right"] = "same"


class Anim(_Model):
    """Entrance/exit of an overlay; ``pulse`` makes a price tag or CTA breathe gently."""
    enter: Literal["none", "fade", "slide_up", "slide_left", "pop", "wipe"] = "fade"
    exit: Literal["none", "fade", "slide_down", "pop"] = "fade"
    duration: float = Field(0.35, ge=0, le=2)
    delay: float = Field(0.0, ge=0, le=5)
    pulse: bool = False


class Motion(_Model):
    """Ken Burns: zoom from/to and the focal point (fractions of the image) from/to."""
    kind: Literal["ken_burns", "none"] = "ken_burns"
    zoom: tuple[float, float] = (1.0, 1.12)
    focus: tuple[tuple[float, float], tuple[float, float]] = ((0.5, 0.5), (0.5, 0.45))
    easing: Easing = "ease_in_out"

    @field_validator("zoom")
    @classmethod
    def _zoom_positive(cls, v):
        if min(v) < 1.0 or max(v) > 3.0:
            raise ValueError("zoom values must lie within 1.0..3.0 (1.0 = the image just covers its box)")
        return v


class Transition(_Model):
    type: Literal["cut", "crossfade", "slide", "zoom"] = "crossfade"
    duration: float = Field(0.35, ge=0, le=1.5)


class TextStyle(_Model):
    size: float = Field(0.06, gt=0, le=0.3)  # max font size as a fraction of the frame width (portrait)
    weight: Literal["regular", "medium", "semibold", "bold", "extrabold", "black"] = "bold"
    color: str = "#FFFFFF"
    background: str | None = None
    outline: str | None = None  # stroke colour for text over busy images
    align: Literal["left", "center", "right"] = "center"
    uppercase: bool = False
    max_lines: int = Field(3, ge=1, le=8)
    radius: float = Field(0.25, ge=0, le=0.5)  # background corner radius, fraction of its height

    _colors = field_validator("color", "background", "outline")(_check_color)


class _Layer(_Model):
    """Fields every layer shares; the resolved ones (start, end, rect, asset) are filled by
    ``timeline_build`` and required in a Timeline."""
    box: Box = Field(default_factory=lambda: Box(region="frame"))
    layout: dict[Aspect, Box] = Field(default_factory=dict)  # per-aspect override of box
    aspects: list[Aspect] | None = None  # None = every aspect
    requires: list[str] = Field(default_factory=list)  # product facts needed, else the layer is dropped
    z: int = 0
    start: float | None = None
    end: float | None = None
    rect: tuple[int, int, int, int] | None = None  # x, y, w, h in output pixels


class ShotLayer(_Layer):
    type: Literal["shot", "image"]
    source: str = "segment"  # segment | product | shot:N | a path relative to the assets folder
    fit: Literal["auto", "cover", "contain_blur", "blur"] = "auto"  # blur: a static soft backdrop
    motion: Motion = Field(default_factory=Motion)
    transition: Transition = Field(default_factory=Transition)
    asset: str | None = None

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        # Templates may come from users: a path must stay inside the ad's assets folder.
        if v in ("segment", "product") or re.fullmatch(r"shot:\d+", v):
            return v
        if v.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", v) or ":" in v:
            raise ValueError("use segment, product, shot:N or a relative path inside the assets folder")
        return v


class ProductLayer(_Layer):
    type: Literal["product"]
    card: bool = True
    card_color: str = "#FFFFFF"
    anim: Anim = Field(default_factory=lambda: Anim(enter="pop"))
    asset: str | None = None

    _colors = field_validator("card_color")(_check_color)


class TextLayer(_Layer):
    type: Literal["text"]
    text: str
    fallback: str | None = None  # used when a placeholder of `text` has no value
    variant: Literal["plain", "price", "rating", "cta", "quote", "badge"] = "plain"
    style: TextStyle = Field(default_factory=TextStyle)
    anim: Anim = Field(default_factory=Anim)
    values: dict[str, str | float | int | None] = Field(default_factory=dict)  # resolved facts for variants


class CaptionWord(_Model):
    word: str
    start: float
    end: float


class CaptionChunk(_Model):
    start: float
    end: float
    words: list[CaptionWord]


class CaptionsLayer(_Layer):
    type: Literal["captions"]
    max_words: int = Field(3, ge=1, le=8)
    style: TextStyle = Field(default_factory=lambda: TextStyle(size=0.07, weight="black", outline="#000000"))
    highlight: str = "brand.accent"
    chunks: list[CaptionChunk] = Field(default_factory=list)

    _colors = field_validator("highlight")(_check_color)


class LogoLayer(_Layer):
    type: Literal["logo"]
    anim: Anim = Field(default_factory=lambda: Anim(enter="fade", exit="none"))
    asset: str | None = None  # None: a wordmark of the brand name is drawn
    label: str | None = None


class ShapeLayer(_Layer):
    type: Literal["shape"]
    shape: Literal["rect", "gradient", "progress"] = "rect"
    color: str = "#000000"
    opacity: float = Field(1.0, ge=0, le=1)
    direction: Literal["up", "down"] = "up"  # gradient: where it is opaque
    anim: Anim = Field(default_factory=lambda: Anim(enter="none", exit="none"))

    _colors = field_validator("color")(_check_color)


class VoiceoverLayer(_Layer):
    type: Literal["voiceover"]
    volume_db: float = Field(0.0, ge=-30, le=12)
    asset: str | None = None


class MusicLayer(_Layer):
    type: Literal["music"]
    volume_db: float = Field(-8.0, ge=-40, le=6)
    duck_db: float = Field(-12.0, ge=-40, le=0)
    fade_in: float = Field(0.6, ge=0, le=5)
    fade_out: float = Field(1.5, ge=0, le=10)
    mood: Literal["upbeat", "calm", "bold"] = "upbeat"
    asset: str | None = None  # None: a procedural bed is synthesised (no downloads)


Layer = Annotated[Union[ShotLayer, ProductLayer, TextLayer, CaptionsLayer, LogoLayer,
                        ShapeLayer, VoiceoverLayer, MusicLayer], Field(discriminator="type")]
AUDIO_TYPES = ("voiceover", "music")


class Scenes(_Model):
    hook: list[Layer]
    body: list[Layer]
    cta: list[Layer]


class Template(_Model):
    """A built-in or user template. ``framework`` names the script framework it suits."""
    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    framework: Literal["problem_solution", "three_reasons", "social_proof", "price_drop",
                       "feature_tour", "ugc_testimonial"]
    description: str = ""
    preview: str | None = None
    fps: int = Field(30, ge=10, le=60)
    tail: float = Field(0.8, ge=0, le=5)  # seconds held after the last word (CTA)
    scenes: Scenes
    overlay: list[Layer] = Field(default_factory=list)


class BrandKit(_Model):
    name: str = ""
    primary: str = "#1F6FEB"
    secondary: str = "#0B1F3A"
    accent: str = "#FFC83D"
    text: str = "#FFFFFF"
    dark: str = "#0B0F19"
    light: str = "#F5F7FA"
    font_family: str = "Inter"
    language: str = "en"


class AudioSpec(_Model):
    target_lufs: float = -14.0
    true_peak_db: float = -1.0
    sample_rate: int = 48000
    speech: list[tuple[float, float]] = Field(default_factory=list)  # for ducking
    seed: int = 0


class EncodeSpec(_Model):
    platform: Literal["generic", "tiktok", "reels", "shorts", "youtube"] = "generic"
    preset: str = "veryfast"
    crf: int = Field(20, ge=0, le=51)
    audio_bitrate: str = "192k"


class Scene(_Model):
    role: Literal["hook", "body", "cta"]
    index: int
    start: float
    end: float


class Timeline(_Model):
    """Fully resolved, self-contained render document (paths absolute or relative to the
    assets directory). Invariant: every visual layer has start < end and a rect."""
    schema_version: Literal[1] = SCHEMA_VERSION
    template: str
    framework: str
    aspect: Aspect
    width: int
    height: int
    fps: int
    duration: float = Field(gt=0, le=600)
    scale: float = 1.0
    safe_rect: tuple[int, int, int, int]
    brand: BrandKit
    scenes: list[Scene]
    layers: list[Layer]
    audio: AudioSpec = Field(default_factory=AudioSpec)
    encode: EncodeSpec = Field(default_factory=EncodeSpec)
    thumbnail_time: float = 0.0

    @model_validator(mode="after")
    def _resolved(self):
        if self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even (yuv420p)")
        for i, layer in enumerate(self.layers):
            if layer.start is None or layer.end is None or layer.end <= layer.start:
                raise ValueError(f"layers.{i} ({layer.type}): start/end not resolved")
            if layer.type not in AUDIO_TYPES and layer.rect is None:
                raise ValueError(f"layers.{i} ({layer.type}): rect not resolved")
        return self

    @property
    def n_frames(self) -> int:
        return max(1, round(self.duration * self.fps))
