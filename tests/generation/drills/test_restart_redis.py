"""The restart-redis drill, bounded: a non-persistent broker restarted while jobs are in their
stages; workers and beat reconnect, the sweeper re-sends lost stage messages from the job rows,
every job finishes exactly once, credits charged once."""
import io
import json

import pytest

from generation.drills import restart_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_restart_redis_drill_bounded(broker_required):
    out = io.StringIO()
    result = restart_redis.run(["--jobs", "2", "--down", "2", "--timeout", "150"], out)
    print(json.dumps(result), out.getvalue()[-3000:])
    assert result["ok"], result
    assert result == {**result, "jobs": 2, "videos": 2, "lost": 0, "duplicates": 0, "credits_ok": True}
    assert result["in_flight_at_restart"] >= 1
