"""The kill-worker drill, bounded: SIGKILL of the whole worker (main process) mid-render under
`make serve`'s topology; a new worker and the sweeper finish the job exactly once."""
import io
import json

import pytest

from generation.drills import kill_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_kill_worker_drill_bounded(broker_required):
    out = io.StringIO()
    result = kill_worker.run(["--jobs", "1", "--timeout", "150"], out)
    print(json.dumps(result), out.getvalue()[-3000:])
    assert result["ok"], result
    assert result == {**result, "jobs": 1, "videos": 1, "duplicates": 0, "lost": 0, "credits_ok": True}
    assert result["killed_mid_render"] and result["children_died_with_worker"]
