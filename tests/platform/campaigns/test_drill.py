"""The campaign-schedule drill, bounded: two beats (one SIGKILLed and restarted), two workers
(one SIGKILLed and restarted), a campaign every 5 seconds for 40 seconds -> every occurrence
runs exactly once and no item gets two jobs."""
import io
import json

import pytest

from campaigns.drills import campaign_schedule

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_two_beats_and_a_killed_worker_make_every_run_once(broker_required):
    out = io.StringIO()
    result = campaign_schedule.run(["--seconds", "40", "--interval-s", "5", "--tick-s", "1", "--drain-s", "60"], out)
    print(out.getvalue(), json.dumps(result))
    assert result["expected_runs"] >= 7
    assert (result["runs"], result["duplicates"], result["missed"], result["duplicate_jobs"]) == (
        result["expected_runs"], 0, 0, 0), result
    assert result["runs_finished"] == result["runs"] and result["jobs"] == 2 * result["runs"]
    assert result["ok"] is True
    assert "kill beat-a" in out.getvalue() and "kill worker-a" in out.getvalue()
