"""The drop-db drill, bounded: PostgreSQL kills the web app's connections and refuses new ones
for a few seconds; every request answers 503 problem+json (never 500), a video created then
charges nothing, and the same gunicorn process recovers by itself."""
import io
import json

import pytest

from generation.drills import drop_db

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.e2e]


def test_drop_db_drill_bounded(broker_required):
    out = io.StringIO()
    result = drop_db.run(["--outage", "2", "--requests", "4"], out)
    print(json.dumps(result), out.getvalue()[-3000:])
    assert result["ok"], result
    assert result == {**result, "problem_503": 4, "other_status": [], "recovered": True, "web_restarted": False,
                      "create_after_recovery": 202, "lost": 0, "duplicates": 0, "credits_ok": True}
