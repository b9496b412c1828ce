"""``Shot``: one finished picture of the shots stage, as the spine carries it to the timeline.

``key`` names the image file: storage-relative in the job system (the job folder's
``shots.json`` never holds an absolute server path); standalone tools (``render_template``,
previews) may use a path relative to their assets folder or an absolute local path.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1)
    config_key: str | None = None
    kind: str = "product"
    segment: int = Field(0, ge=0)
    fidelity: float | None = None
    scores: dict = Field(default_factory=dict)
    source_image: str | None = None  # key of the product photo this shot was made from
    # Where the product stands in this picture: (x, y, w, h) as fractions of its size, so the
    # timeline can keep text off it. None when unknown (a picture not made by make_shots).
    product_box: tuple[float, float, float, float] | None = None

    @field_validator("key", "config_key", "source_image")
    @classmethod
    def _no_climb(cls, v: str | None) -> str | None:
        if v is not None and (".." in PurePosixPath(v).parts or "://" in v):
            raise ValueError(f"a shot file must be a storage key or local path, got {v!r}")
        return v

    @classmethod
    def from_result(cls, result, *, root: Path | None = None) -> "Shot":
        """From a ``make_shots`` ``ShotResult``; paths made relative to ``root`` when given."""
        def rel(p):
            if p is None:
                return None
            p = Path(p)
            return str(p.resolve().relative_to(Path(root).resolve())) if root else str(p)
        return cls(key=rel(result.path), config_key=rel(result.config_path), kind=result.kind,
                   segment=result.segment, fidelity=result.fidelity, scores=dict(result.scores or {}),
                   product_box=product_box_of(result.config_path))


def product_box_of(config_path) -> tuple[float, float, float, float] | None:
    """The product's placement in a ``make_shots`` picture, from its generation config."""
    import json

    try:
        config = json.loads(Path(config_path).read_text())
        p, (w, h) = config["details"]["placement"], config["size"]
        return (round(p["x"] / w, 4), round(p["y"] / h, 4), round(p["width"] / w, 4), round(p["height"] / h, 4))
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None


SHOT_LIST = TypeAdapter(list[Shot])
