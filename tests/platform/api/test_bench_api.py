"""`bench api`, bounded: the whole harness (its own PostgreSQL and Redis, the production gunicorn
config, a real webhooks worker, a load generator in its own process, a signature-checking
receiver) run for a second of load, so the command the speed figures come from keeps working
and keeps its guarantees (no errors, no duplicate jobs, every webhook verified)."""
import io
import shutil
import socket

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (make install)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bench_api_short_run_keeps_every_guarantee():
    from api.bench import run as bench

    out = io.StringIO()
    result = bench.run(["--rate", "20", "--seconds", "1", "--warmup-seconds", "0.5", "--status-seconds", "1",
                        "--cancel", "3", "--pg-port", str(_free_port()), "--redis-port", str(_free_port())], out)

    assert result["errors"] == 0, result["error_kinds"]
    assert result["duplicates"] == 0 and result["keys_with_two_request_ids"] == 0
    # the warm-up's requests are made and reported apart from the measured ones
    assert result["warmup_requests"] >= 10 and result["create_requests"] >= 20
    assert result["create_p99_ms"] >= result["create_p50_ms"] > 0
    assert result["status_rps"] > 0 and result["status_server_cpu_ms"] > 0
    assert result["webhooks_verified"] == result["webhooks_expected"] == 3
    assert result["webhook_deliveries"] == {"succeeded": 3}
    assert "warm-up" in out.getvalue()
