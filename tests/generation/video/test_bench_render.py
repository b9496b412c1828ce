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
