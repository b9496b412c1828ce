"""The kill-host drill, bounded: eight hosts from network namespaces (PostgreSQL, Redis, S3
server, gunicorn, default worker + beat, two render workers, the drill client); the rendering
host's link is cut mid-render and the job completes exactly once on the other render host."""
import io
import json

import pytest

from generation.drills import kill_host
from generation.drills.netns import netns_available

pytestmark = [pytest.mark.e2e]


def test_kill_host_drill_bounded():
    why = netns_available()
    if why:
        pytest.skip(f"network namespaces unavailable: {why}")
    out = io.StringIO()
    result = kill_host.run(["--timeout", "150"], out)
    print(json.dumps(result), out.getvalue()[-3000:])
    assert result["ok"], result
    assert result == {**result, "jobs": 1, "videos": 1, "lost": 0, "duplicates": 0, "credits_ok": True,
                      "render_attempts": 2, "download_ok": True}
    assert result["finished_on"] and result["cut_host"] not in result["finished_on"]
