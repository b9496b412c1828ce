"""Edits to a built timeline: the one place that knows how a ``Timeline`` is edited.

Both front ends speak this vocabulary (``TimelineEdits``): the dashboard's job page
(whole caption lines, on-screen texts, which picture a shot shows) and
``PUT /api/v1/videos/{id}/timeline`` (texts, single caption words, shot order). Layers are
addressed by their index in the timeline, never by a file. Pure: no database, no files.
The voice track is never re-spoken: edits change what is *shown*, the audio stays as recorded."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .schema import Timeline

EDITS_FILE = "timeline_edits.json"  # the API's edits, next to the job's other stage files
EDITABLE_TEXT_VARIANTS = {"plain", "cta", "quote", "badge"}  # price/rating are drawn from facts
MAX_LINE = 200
MAX_WORD = 40
SHOT_TYPES = ("shot", "image")


class TimelineEditError(ValueError):
    """The edits cannot be applied. ``code`` is the API's problem code, ``param`` the field."""
    code = "invalid_request"

    def __init__(self, message: str, *, param: str | None = None):
        super().__init__(message)
        self.param = param


class TimelineEditConflict(TimelineEditError):
    """The video is not in a state that can be edited (not finished, no timeline, busy)."""
    code = "conflict"


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextEdit(_Edit):
    layer: int = Field(ge=0)
    text: str = Field(min_length=1, max_length=MAX_LINE)


class CaptionWordEdit(_Edit):
    layer: int = Field(ge=0)
    chunk: int = Field(ge=0)
    word: int = Field(ge=0)
    text: str = Field(min_length=1, max_length=MAX_WORD)


class TimelineEdits(_Edit):
    """What to change. ``lines``: caption chunk i of the captions layer shows this line, its
    words spread evenly over the chunk's time. ``shots``: shot layer k shows picture n of
    ``shot_assets``. ``shot_order``: the non-product shot layers' pictures, permuted."""
    texts: list[TextEdit] = Field(default_factory=list, max_length=500)
    captions: list[CaptionWordEdit] = Field(default_factory=list, max_length=500)
    shot_order: list[int] | None = Field(default=None, max_length=100)
    lines: dict[int, str] = Field(default_factory=dict, max_length=500)
    shots: dict[int, int] = Field(default_factory=dict, max_length=500)

    def is_empty(self) -> bool:
        return not (self.texts or self.captions or self.shot_order or self.lines or self.shots)


def shot_assets(timeline: Timeline) -> list[str]:
    """The distinct pictures the timeline's shot layers show, in order of first use: the only
    choices a scene's shot may be swapped for (never a path typed by a user)."""
    return list(dict.fromkeys(ly.asset for ly in timeline.layers if ly.type in SHOT_TYPES and ly.asset))


def timeline_editable(timeline: Timeline) -> dict:
    """What a person may edit: caption chunks (by index), on-screen texts (by layer index) and
    which picture each shot layer shows (by layer index, as an index into ``shot_assets``)."""
    lines, texts = [], []
    assets = shot_assets(timeline)
    shots = [{"index": li, "start": round(ly.start or 0, 2), "end": round(ly.end or 0, 2),
              "asset": assets.index(ly.asset)}
             for li, ly in enumerate(timeline.layers) if ly.type in SHOT_TYPES and ly.asset in assets]
    for li, layer in enumerate(timeline.layers):
        if layer.type == "captions" and not lines:
            lines = [{"index": ci, "start": round(c.start, 2), "end": round(c.end, 2),
                      "text": " ".join(w.word for w in c.words)} for ci, c in enumerate(layer.chunks)]
        elif layer.type == "text" and layer.variant in EDITABLE_TEXT_VARIANTS:
            texts.append({"index": li, "start": round(layer.start or 0, 2), "text": layer.text})
    return {"lines": lines, "texts": texts, "shots": shots, "assets": len(assets)}


def timeline_edits_check(*, timeline: Timeline, edits: TimelineEdits) -> None:
    """Every edit must name a layer of the right kind; raises ``TimelineEditError`` naming the
    parameter. (``apply`` silently skips what this refuses.)"""
    layers = timeline.layers

    def layer(i: int, kinds: tuple[str, ...], param: str):
        if i >= len(layers) or layers[i].type not in kinds:
            raise TimelineEditError(f"Layer {i} is not a {' or '.join(kinds)} layer.", param=param)
        return layers[i]

    for n, edit in enumerate(edits.texts):
        layer(edit.layer, ("text",), f"texts[{n}].layer")
    for n, edit in enumerate(edits.captions):
        chunks = layer(edit.layer, ("captions",), f"captions[{n}].layer").chunks
        if edit.chunk >= len(chunks) or edit.word >= len(chunks[edit.chunk].words):
            raise TimelineEditError("No such caption chunk/word.", param=f"captions[{n}]")
    if edits.shot_order is not None:
        shots = _orderable_shots(timeline)
        if sorted(edits.shot_order) != shots:
            raise TimelineEditError(f"shot_order must be a permutation of the shot layers {shots}.",
                                    param="shot_order")


def _orderable_shots(timeline: Timeline) -> list[int]:
    return [i for i, la in enumerate(timeline.layers) if la.type in SHOT_TYPES and la.source != "product"]


def timeline_edits_apply(timeline: Timeline, edits: TimelineEdits | dict) -> Timeline:
    """Pure: a copy of ``timeline`` with ``edits`` applied (the original is untouched).
    Edits naming a missing layer, chunk, word or picture are skipped."""
    edits = TimelineEdits.model_validate(edits)
    layers = list(timeline.layers)
    assets = shot_assets(timeline)
    for li, choice in edits.shots.items():
        if 0 <= li < len(layers) and layers[li].type in SHOT_TYPES and 0 <= choice < len(assets):
            layers[li] = layers[li].model_copy(update={"asset": assets[choice]})
    for edit in edits.texts:
        if edit.layer < len(layers) and layers[edit.layer].type == "text":
            layers[edit.layer] = layers[edit.layer].model_copy(update={"text": edit.text})
    for edit in edits.captions:
        _caption_word_set(layers, edit)
    if edits.lines:
        _caption_lines_set(layers, edits.lines)
    order = edits.shot_order
    if order and sorted(order) == _orderable_shots(timeline):
        pictures = [(layers[i].source, layers[i].asset) for i in order]
        for slot, (source, asset) in zip(sorted(order), pictures):
            layers[slot] = layers[slot].model_copy(update={"source": source, "asset": asset})
    return timeline.model_copy(update={"layers": layers})


def _caption_word_set(layers: list, edit: CaptionWordEdit) -> None:
    captions = layers[edit.layer] if edit.layer < len(layers) else None
    if captions is None or captions.type != "captions" or edit.chunk >= len(captions.chunks) \
            or edit.word >= len(captions.chunks[edit.chunk].words):
        return
    chunks = list(captions.chunks)
    words = list(chunks[edit.chunk].words)
    words[edit.word] = words[edit.word].model_copy(update={"word": edit.text})
    chunks[edit.chunk] = chunks[edit.chunk].model_copy(update={"words": words})
    layers[edit.layer] = captions.model_copy(update={"chunks": chunks})


def _caption_lines_set(layers: list, lines: dict[int, str]) -> None:
    """Chunk i of the first captions layer shows ``lines[i]``, its words spread evenly over
    the chunk's spoken time (the voice is not re-spoken)."""
    at = next((i for i, ly in enumerate(layers) if ly.type == "captions"), None)
    if at is None:
        return
    chunks = list(layers[at].chunks)
    for ci, text in lines.items():
        words = text.split()
        if not words or not 0 <= ci < len(chunks) or not chunks[ci].words:
            continue
        t0, t1 = chunks[ci].words[0].start, chunks[ci].words[-1].end
        step = max(t1 - t0, 0.05) / len(words)
        new = [{"word": w, "start": round(t0 + k * step, 3), "end": round(t0 + (k + 1) * step, 3)}
               for k, w in enumerate(words)]
        chunks[ci] = chunks[ci].model_validate({**chunks[ci].model_dump(), "words": new})
    layers[at] = layers[at].model_copy(update={"chunks": chunks})
