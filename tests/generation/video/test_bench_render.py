"""`bench render` at quarter size (270×480, the same 450 frames and audio): the bench itself
works — the render and the encode floor ran on identical frames, the ratios are computed from
the runs it printed, and the delivered file is what the full-size bench would check."""
import io
import shutil

import pytest

from generation.video.bench import render as bench_render


@pytest.mark.skipif(not shutil.which("ffmpeg") or not shutil.which("espeak-ng"), reason="needs ffmpeg and espeak-ng")
def test_bench_render_quarter_size():
    out = io.StringIO()
    result = bench_render.run(["--no-naive", "--repeat", "2", "--scale", "0.25"], out)
    assert (result["width"], result["height"], result["frames"]) == (270, 480, 450)
    assert result["duration_s"] == 15.0 and result["profile"] == "High"
    assert len(result["render_runs_s"]) == len(result["floor_runs_s"]) == 2
    # (the runs are printed rounded to 10 ms: the ratios are checked to that precision)
    assert result["ratio_to_floor"] == pytest.approx(min(result["render_runs_s"]) / min(result["floor_runs_s"]), abs=0.03)
    ratios = sorted(r / f for r, f in zip(result["render_runs_s"], result["floor_runs_s"]))
    assert result["pair_ratio_median"] == pytest.approx((ratios[0] + ratios[1]) / 2, abs=0.03)
    assert result["render_cpu_s"] > 0 and result["encode_floor_cpu_s"] > 0
    # the floor before the renderer converted colour itself: the same pictures from RGBX
    assert result["encode_floor_rgb_s"] > 0 and result["encode_floor_rgb_cpu_s"] > 0
    assert result["ratio_to_rgb_floor"] == pytest.approx(result["render_s"] / result["encode_floor_rgb_s"], abs=0.03)
    assert out.getvalue().count("from RGBX") == 2
    assert -15.0 <= result["lufs"] <= -13.0 and result["true_peak_db"] <= -1.0
    assert out.getvalue().count("encode floor") == 2


def test_bench_render_refuses_a_silly_scale():
    with pytest.raises(SystemExit):
        bench_render.run(["--scale", "3"], io.StringIO())


def _job_like_timeline(root):
    """The quarter-size bench ad saved the way a job saves it: render/timeline.json with its
    asset paths relative to the media root."""
    from pathlib import Path
    root.mkdir(exist_ok=True)
    tl = bench_render._timeline(root, "price_drop", "veryfast", 0.25)
    layers = []
    for ly in tl.layers:
        asset = getattr(ly, "asset", None)
        if asset and Path(asset).is_absolute():
            ly = ly.model_copy(update={"asset": str(Path(asset).relative_to(root))})
        layers.append(ly)
    path = root / "workspaces" / "1" / "jobs" / "1" / "render" / "timeline.json"
    path.parent.mkdir(parents=True)
    path.write_text(tl.model_copy(update={"layers": layers}).model_dump_json())
    return path


@pytest.mark.skipif(not shutil.which("ffmpeg") or not shutil.which("espeak-ng"), reason="needs ffmpeg and espeak-ng")
def test_bench_render_measures_a_saved_job_timeline(tmp_path):
    path = _job_like_timeline(tmp_path)
    out = io.StringIO()
    result = bench_render.run(["--no-naive", "--repeat", "1", "--timeline", str(path)], out)
    # the assets were found under the media root above the timeline, without --assets
    assert result["inputs"] == f"job timeline: {path}"
    assert (result["width"], result["height"], result["frames"]) == (270, 480, 450)
    assert result["template"] == "price_drop" and result["preset"] == "veryfast"
    assert result["ratio_to_floor"] == pytest.approx(result["render_s"] / result["encode_floor_s"], abs=0.03)
    assert out.getvalue().count("encode floor") == 1


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")
def test_bench_render_says_where_a_timelines_assets_are_missing(tmp_path, capsys):
    moved = tmp_path / "elsewhere" / "timeline.json"
    moved.parent.mkdir()
    moved.write_text(_job_like_timeline(tmp_path / "media").read_text())
    with pytest.raises(SystemExit):
        bench_render.run(["--timeline", str(moved)], io.StringIO())
    assert "pass --assets" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # the wrong root, named
        bench_render.run(["--timeline", str(moved), "--assets", str(tmp_path)], io.StringIO())
    assert f"are not under {tmp_path}" in capsys.readouterr().err


def test_bench_render_refuses_a_broken_timeline_where_a_timelines_assets_are_missing(tmp_path, capsys):
    path = tmp_path / "timeline.json"
    path.write_text('{"not": "a timeline"}')
    with pytest.raises(SystemExit):
        bench_render.run(["--timeline", str(path)], io.StringIO())
    assert "--timeline" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_render.run(["--assets", str(tmp_path)], io.StringIO())
