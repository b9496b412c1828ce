"""Edits to a built timeline (text, caption words, shot order), as sent to
`PUT /api/v1/videos/{id}/timeline`. Pure: layers are addressed by index in the timeline."""
from __future__ import annotations

EDITS_FILE = "timeline_edits.json"  # next to the job's other stage files


def timeline_edits_apply(timeline, edits: dict):
    """Pure: the timeline (pydantic) with ``edits`` applied (text, caption words, shot order)."""
    layers = list(timeline.layers)
    for edit in edits.get("texts", []):
        layers[edit["layer"]] = layers[edit["layer"]].model_copy(update={"text": edit["text"]})
    for edit in edits.get("captions", []):
        captions = layers[edit["layer"]]
        chunks = [c.model_copy(update={"words": list(c.words)}) for c in captions.chunks]
        word = chunks[edit["chunk"]].words[edit["word"]]
        chunks[edit["chunk"]].words[edit["word"]] = word.model_copy(update={"word": edit["text"]})
        layers[edit["layer"]] = captions.model_copy(update={"chunks": chunks})
    order = edits.get("shot_order")
    if order:
        slots = sorted(order)
        pictures = [(layers[i].source, layers[i].asset) for i in order]
        for slot, (source, asset) in zip(slots, pictures):
            layers[slot] = layers[slot].model_copy(update={"source": source, "asset": asset})
    return timeline.model_copy(update={"layers": layers})
