"""bench throughput on the namespace harness, smallest size (slow: several minutes on 2 cores;
RUN_SLOW=1). The figures must come from real finished jobs: positive rates, latencies that
cover a job's stages, no failed job."""
import io
import os

import pytest

from generation.drills.netns import netns_available
from generation.jobs.bench import throughput as bench_throughput

pytestmark = [pytest.mark.e2e]


def test_percentile_picks_nearest_rank():
    assert bench_throughput._pct([5.0, 1.0, 3.0], 0.5) == 3.0
    assert bench_throughput._pct([1.0, 2.0, 3.0, 4.0, 100.0], 0.95) == 100.0


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
