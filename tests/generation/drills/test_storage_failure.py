"""The storage-failure drill, bounded: artifacts in a real S3-protocol bucket (moto server on
loopback), a real worker with its own media folder. A job's MP4 lands in the bucket and
downloads by a signed URL; with the bucket refusing, a job fails with a storage reason and its
credit is refunded; when it returns, the retry succeeds."""
import io
import json

import pytest

from generation.drills import storage_failure

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_storage_failure_drill_bounded(broker_required):
    out = io.StringIO()
    result = storage_failure.run(["--timeout", "120"], out)
    print(json.dumps(result), out.getvalue()[-3000:])
    assert result["ok"], result
    assert result == {**result, "jobs": 3, "videos": 2, "lost": 0, "duplicates": 0, "credits_ok": True,
                      "signed_download_ok": True, "refused_job_failed": True}
    assert "object storage refused" in result["refused_reason"]
    # per-stage wall and CPU seconds, as the API's video representation shows them
    assert set(result["stage_cpu_s"]) == {"ingest", "script", "voice", "shots", "render"}
    assert all(v >= 0 for v in result["stage_cpu_s"].values()) and result["stage_cpu_s"]["render"] > 0
