"""The management commands: re-render an edited timeline; clear errors for bad input."""
import json

import pytest
from django.core.management import CommandError, call_command

from generation.video import timeline_build
from generation.video.ffmpeg import probe

pytestmark = pytest.mark.render


def test_render_video_rerenders_an_edited_timeline(short_inputs, tmp_path):
    inputs, work = short_inputs
    tl = timeline_build(template="three_reasons", aspect="1:1", scale=0.25, **inputs)
    doc = json.loads(tl.model_dump_json())
    doc["brand"]["accent"] = "#FF0000"  # an edit: timelines are editable documents
    path = work / "edited.timeline.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "ad.mp4"
    call_command("render_video", str(path), "--out", str(out), "--preset", "ultrafast")
    v = probe(out)["streams"][0]
    assert (v["width"], v["height"]) == (tl.width, tl.height)
    assert out.with_suffix(".jpg").exists() and out.with_suffix(".srt").exists()
    assert json.loads(out.with_suffix(".timeline.json").read_text())["brand"]["accent"] == "#FF0000"


def test_render_video_rejects_a_broken_timeline(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "template": "x"}))
    with pytest.raises(CommandError, match="not a valid timeline"):
        call_command("render_video", str(bad), "--out", str(tmp_path / "o.mp4"))


def test_render_template_unknown_name_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="unknown template 'nope'"):
        call_command("render_template", "nope", "--out", str(tmp_path / "o.mp4"))


def test_unreadable_asset_is_a_clear_error(short_inputs, tmp_path):
    from generation.video import render
    inputs, work = short_inputs
    broken = work / "broken.png"
    broken.write_text("not a png")
    shots = [{"key": str(broken), "kind": "product", "segment": 0}]
    tl = timeline_build(template="product_showcase", aspect="9:16", scale=0.25, **{**inputs, "shots": shots})
    with pytest.raises(ValueError, match="not a readable image"):
        render(tl, work, tmp_path)


def test_encoder_failure_reports_ffmpeg_reason(short_inputs, tmp_path):
    from generation.video import render
    from generation.video.ffmpeg import FFmpegError
    inputs, work = short_inputs
    tl = timeline_build(template="price_drop", aspect="9:16", scale=0.25, **inputs)
    with pytest.raises(FFmpegError, match="(?i)preset"):
        render(tl, work, tmp_path, preset="no-such-preset")
