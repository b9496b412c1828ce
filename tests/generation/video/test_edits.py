"""The one timeline-edit vocabulary: what the dashboard offers, what the API checks, and
how both are applied to a typed Timeline (pure: no database, no files)."""
import pytest

from generation.video import Timeline, timeline_build
from generation.video.edits import (TimelineEditError, TimelineEdits, shot_assets, timeline_editable,
                                    timeline_edits_apply, timeline_edits_check)
from generation.video.schema import CaptionChunk, CaptionsLayer, CaptionWord, ShotLayer, TextLayer


def _built_timeline() -> Timeline:
    lines = ["Meet the Aurora bottle.", "No leaks.", "Shop now."]
    words, sentences, t = [], [], 0.0
    for segment, line in enumerate(lines):
        sentences.append({"text": line, "start": t, "end": t + 0.5 * len(line.split()), "segment": segment})
        for word in line.split():
            words.append({"word": word, "start": t, "end": t + 0.4, "segment": segment})
            t += 0.5
    voice = {"duration": t, "sample_rate": 22050, "language": "en", "sentences": sentences, "words": words}
    part = {"shot": {"kind": "product", "prompt": ""}, "facts": []}
    script = {"language": "en", "framework": "price_drop", "target_duration": 3,
              "hook": {"role": "hook", "voice_line": lines[0], "on_screen_text": "Meet Aurora", **part},
              "scenes": [{"role": "scene", "voice_line": lines[1], "on_screen_text": "Leak-proof lid", **part}],
              "cta": {"role": "cta", "voice_line": lines[2], "on_screen_text": "Shop now", **part}}
    return timeline_build(template="product_showcase", aspect="9:16", script=script, voice=voice,
                          voice_dir="voice", shots=[{"key": "shots/shot.png", "segment": 0, "kind": "product"}],
                          product={"title": "Aurora", "images": [{"key": "products/aurora.png"}]},
                          brand={"name": "Northwind"}, scale=0.25)


def _two_shots(**first) -> Timeline:
    layer = {"type": "shot", "start": 0.0, "end": 1.0, "rect": [0, 0, 64, 64], "asset": "shots/a.png"}
    return Timeline.model_validate({
        "template": "t", "framework": "three_reasons", "aspect": "9:16", "width": 64, "height": 64, "fps": 10,
        "duration": 2.0, "safe_rect": [0, 0, 64, 64], "brand": {}, "scenes": [],
        "layers": [{**layer, **first}, {**layer, "start": 1.0, "end": 2.0, "asset": "shots/b.png"},
                   {"type": "text", "text": "Old", "start": 0.0, "end": 2.0, "rect": [0, 0, 64, 20]}]})


def test_a_caption_line_replaces_the_chunk_words_within_its_spoken_time():
    timeline = _built_timeline()
    editable = timeline_editable(timeline)
    assert editable["lines"] and editable["texts"]
    edited = timeline_edits_apply(timeline, TimelineEdits(lines={0: "Brand new words"}))
    after = timeline_editable(edited)
    assert after["lines"][0]["text"] == "Brand new words"
    first = editable["lines"][0]
    assert (after["lines"][0]["start"], after["lines"][0]["end"]) == (first["start"], first["end"])
    assert timeline_editable(timeline)["lines"][0]["text"] == first["text"]  # the original is untouched
    Timeline.model_validate(edited.model_dump(mode="json"))  # still a valid render document


def test_shot_swap_uses_only_pictures_of_the_timeline():
    timeline = _two_shots()
    assert shot_assets(timeline) == ["shots/a.png", "shots/b.png"]
    assert [s["asset"] for s in timeline_editable(timeline)["shots"]] == [0, 1]
    edited = timeline_edits_apply(timeline, TimelineEdits(shots={0: 1, 1: 7}))
    assert [ly.asset for ly in edited.layers[:2]] == ["shots/b.png", "shots/b.png"]  # 7: out of range, ignored


def test_api_edits_apply_to_the_rebuilt_timeline():
    timeline = Timeline.model_construct(layers=[
        ShotLayer.model_construct(type="shot", source="segment", asset="a.png"),
        TextLayer.model_construct(type="text", text="Old"),
        ShotLayer.model_construct(type="shot", source="segment", asset="b.png"),
        CaptionsLayer.model_construct(type="captions", chunks=[CaptionChunk(start=0, end=1, words=[
            CaptionWord(word="hello", start=0, end=1)])])])
    # as stage_render reads them back from EDITS_FILE: a plain dict
    edited = timeline_edits_apply(timeline, {"texts": [{"layer": 1, "text": "New"}], "shot_order": [2, 0],
                                             "captions": [{"layer": 3, "chunk": 0, "word": 0, "text": "hi"}]})
    assert [edited.layers[0].asset, edited.layers[2].asset] == ["b.png", "a.png"]
    assert edited.layers[1].text == "New" and edited.layers[3].chunks[0].words[0].word == "hi"
    assert timeline.layers[1].text == "Old" and timeline.layers[3].chunks[0].words[0].word == "hello"  # untouched


@pytest.mark.parametrize("edits, param", [
    ({"texts": [{"layer": 0, "text": "x"}]}, "texts[0].layer"),
    ({"texts": [{"layer": 9, "text": "x"}]}, "texts[0].layer"),
    ({"captions": [{"layer": 2, "chunk": 0, "word": 0, "text": "x"}]}, "captions[0].layer"),
    ({"shot_order": [0]}, "shot_order"),
    ({"shot_order": [0, 2]}, "shot_order"),
])
def test_check_names_the_parameter_of_a_wrong_edit(edits, param):
    with pytest.raises(TimelineEditError) as exc:
        timeline_edits_check(timeline=_two_shots(), edits=TimelineEdits.model_validate(edits))
    assert exc.value.param == param and exc.value.code == "invalid_request"


def test_check_accepts_good_edits_and_product_shots_stay_in_place():
    timeline = _two_shots(source="product")
    timeline_edits_check(timeline=timeline, edits=TimelineEdits(shot_order=[1], texts=[{"layer": 2, "text": "New"}]))
    with pytest.raises(TimelineEditError, match=r"permutation of the shot layers \[1\]"):
        timeline_edits_check(timeline=timeline, edits=TimelineEdits(shot_order=[1, 0]))
    # apply skips an order the check refuses, rather than moving the product picture
    edited = timeline_edits_apply(timeline, TimelineEdits(shot_order=[1, 0]))
    assert [ly.asset for ly in edited.layers[:2]] == ["shots/a.png", "shots/b.png"]
