"""bench throughput on the namespace harness, smallest size (slow: several minutes on 2 cores;
RUN_SLOW=1). The figures must come from real finished jobs: positive rates, latencies that
cover a job's stages, no failed job."""
import io
import json
import os
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from generation.drills.netns import netns_available
from generation.jobs.bench import throughput as bench_throughput
from generation.jobs.bench.truth import StandinPage

pytestmark = [pytest.mark.e2e]


def test_percentile_picks_nearest_rank():
    assert bench_throughput._pct([5.0, 1.0, 3.0], 0.5) == 3.0
    assert bench_throughput._pct([1.0, 2.0, 3.0, 4.0, 100.0], 0.95) == 100.0


def test_corpus_pages_are_spread_over_pages_with_a_known_main_image(tmp_path):
    entries = [{"file": f"pages/{i:03}.html", "expected": {"image_main": f"https://cdn.example/{i}.jpg"} if i % 3 else {}}
               for i in range(12)]
    (tmp_path / "pages").mkdir()
    for entry in entries[:-1]:  # the last one is listed but not saved
        (tmp_path / entry["file"]).write_text("<html></html>")
    (tmp_path / "manifest.json").write_text(json.dumps(entries))
    picked = [Path(p).name for p in bench_throughput.corpus_pages(tmp_path, 3)]
    # known main image and saved: 001 002 004 005 007 008 010 (011 is not on disk)
    assert picked == ["001.html", "004.html", "007.html"]
    assert len(bench_throughput.corpus_pages(tmp_path, 50)) == 7


def test_standin_page_rewrites_image_servers_without_extensions_but_not_trackers():
    html = ('<img src="//s7.landsend.com/is/image/LandsEnd/489021_AK17_HF_1CV?$pp_alt_v3$">'
            '<img data-src="https://i.otto.de/i/otto/18691657?%24tile_portrait%24">'
            '<img src="https://rover.ebay.com/roverimp/0/0/9?imp=2046301">'
            '<img src="https://images.example/i/brand/logo-header">'
            '<script type="application/ld+json">{"image": "https:\\/\\/s7.landsend.com\\/is\\/image\\/LandsEnd\\/x1"}</script>')
    page = StandinPage(html)
    assert '<img src="http://HOST/img/1.png">' in page.html and '<img data-src="http://HOST/img/2.png">' in page.html
    assert "rover.ebay.com/roverimp" in page.html and "logo-header" in page.html  # trackers and logos stay
    assert '"image": "http:\\/\\/HOST\\/img\\/3.png"' in page.html  # JSON keeps its escaping
    assert len(page.urls) == 3


def test_corpus_without_single_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        bench_throughput._args(["--corpus", "/tmp/corpus"])
    assert "--corpus needs --single N" in capsys.readouterr().err


def test_corpus_pages_say_what_is_wrong_with_the_corpus(tmp_path):
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        bench_throughput.corpus_pages(tmp_path, 3)
    (tmp_path / "manifest.json").write_text(json.dumps([{"file": "pages/a.html", "expected": {}}]))
    with pytest.raises(ValueError, match="no saved page with a known main image"):
        bench_throughput.corpus_pages(tmp_path, 3)


def test_standin_page_serves_photo_like_pictures_for_latency_benches():
    html = ('<html><img src="https://cdn.example/p/main-1000.jpg"><img src="https://cdn.example/sprite.gif">'
            '<script type="application/ld+json">{"image": "https:\\/\\/cdn.example\\/p\\/side.png"}</script></html>')
    page = StandinPage(html, photos=True)
    assert "/img/1.jpg" in page.html and "/img/2.jpg" in page.html and "\\/img\\/3.jpg" in page.html
    with page.serve() as origin:
        served = urllib.request.urlopen(f"{origin}/product.html").read().decode()
        assert f"{origin}/img/1.jpg" in served
        photo = urllib.request.urlopen(f"{origin}/img/1.jpg")
        assert photo.headers["Content-Type"] == "image/jpeg"
        big = Image.open(io.BytesIO(photo.read()))
        assert big.size == (800, 1000) and big.format == "JPEG"
        assert urllib.request.urlopen(f"{origin}/img/3.jpg").read() != urllib.request.urlopen(f"{origin}/img/1.jpg").read()
        tiny = urllib.request.urlopen(f"{origin}/img/2.jpg")  # a sprite stays a tiny picture
        assert tiny.headers["Content-Type"] == "image/png" and Image.open(io.BytesIO(tiny.read())).size == (32, 32)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="several minutes; RUN_SLOW=1")
def test_bench_throughput_smallest():
    if (why := netns_available()):
        pytest.skip(why)
    result = bench_throughput.run(["--jobs", "1", "--warmup", "1", "--timeout", "300"], io.StringIO())
    assert result["failed"] == 0, result
    assert result["videos_per_hour_1"] > 0 and result["videos_per_hour_2"] > 0
    assert result["p95_job_s"] >= result["p50_job_s"] > sum(result["stage_cpu_s"].values()) / 2 / 2
    assert result["fairness_ratio"] is not None


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="about two minutes; RUN_SLOW=1")
def test_bench_single_job_latency_at_full_size():
    if (why := netns_available()):
        pytest.skip(why)
    result = bench_throughput.run(["--single", "1", "--timeout", "300"], io.StringIO())
    assert result["failed"] == 0 and result["duration_s"] == 15 and result["render_scale"] == 1, result
    stages = result["stage_s_median"]
    # the job's wall covers its stages (voice and shots side by side) and nothing is left out
    assert result["p50_job_s"] >= stages["ingest"] + stages["script"] + max(stages["voice"], stages["shots"]) + stages["render"] - 0.5
    assert result["stage_cpu_s_median"]["render"] > 0  # CPU-seconds recorded on the job (worker + ffmpeg)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="about three minutes; RUN_SLOW=1")
def test_bench_single_job_latency_from_a_saved_real_page(corpus_dir):
    if (why := netns_available()):
        pytest.skip(why)
    result = bench_throughput.run(["--single", "2", "--corpus", str(corpus_dir), "--timeout", "300"], io.StringIO())
    assert result["source"].startswith("corpus") and len(result["pages"]) == 2, result
    for row in result["pages"]:
        assert row["page"].endswith(".html")
        # a page the quality gate refuses is reported with its reason, not as a latency
        assert (row["job_s"] is not None and row["failed"] is None) or (row["job_s"] is None and row["failed"]), row
        if row["job_s"] is not None:
            assert row["stages"]["render"] > 0
    # each page is its own product (not the previous page from the worker's page cache)
    assert len({row["product"] for row in result["pages"]}) == 2, result["pages"]
