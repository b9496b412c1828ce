"""The slow-origin drill, bounded: a 1 B/s shop holds workspace A's jobs while workspace B's one
job runs on a real worker (prefork, Redis, beat + sweeper). B finishes while A still has
backlog, each slow stage ends at its deadline, nothing runs twice, no worker stays stuck."""
import io
import json

import pytest

from generation.drills import slow_origin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_slow_origin_drill_bounded(broker_required):
    out = io.StringIO()
    result = slow_origin.run(["--a-jobs", "4", "--deadline", "8", "--timeout", "120"], out)
    print(json.dumps(result), out.getvalue()[-3000:])
    assert result["ok"], result
    assert result["duplicates"] == 0 and result["stuck_workers"] == 0
    assert result["slow_stage_s"] <= 8 + 5
    assert result["other_job_status"] == "succeeded"
