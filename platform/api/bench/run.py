"""`manage.py bench api`: the API under gunicorn on loopback with its own throwaway
PostgreSQL and Redis and a real Celery worker (webhooks queue), load from a separate process.

Prints one JSON object: create_p50_ms / create_p99_ms at create_rate (open loop),
status_rps (closed loop), errors, duplicates (jobs beyond one per accepted Idempotency-Key,
under client retries and concurrent same-key pairs), webhook_p99_s (cancel → signature-
verified delivery at a local receiver)."""
from __future__ import annotations

import argparse
import http.client
import re
import shutil
import http.server
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from standardwebhooks.webhooks import Webhook

REPO = Path(__file__).resolve().parents[3]
GUNICORN_CONF = REPO / "infra/docker/gunicorn.conf.py"


def _gunicorn_size(env: dict) -> str:
    """"3x2 gthread" as the production config resolves it in ``env`` (the server's own
    environment): the config file is run in a child with that environment, never in this
    process's."""
    code = ("import json, runpy, sys; v = runpy.run_path(sys.argv[1]); "
            "print(json.dumps({k: v[k] for k in ('workers', 'threads', 'worker_class', 'keepalive')}))")
    out = subprocess.run([sys.executable, "-c", code, str(GUNICORN_CONF)], env=env, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    values = json.loads(out.strip().splitlines()[-1])
    return f"{values['workers']}x{values['threads']} {values['worker_class']} keepalive {values['keepalive']}s"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench api")
    parser.add_argument("--rate", type=float, default=100.0, help="create requests per second (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the create phase")
    parser.add_argument("--warmup-seconds", type=float, default=2.0,
                        help="create load before the measured phase, at the same rate and mix; its latencies "
                             "are reported apart (warmup_p99_ms), its errors and jobs count like the rest")
    parser.add_argument("--status-seconds", type=float, default=8.0)
    parser.add_argument("--status-clients", type=int, default=16)
    parser.add_argument("--create-clients", type=int, default=24)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn worker processes (default: WEB_CONCURRENCY's default in the production config)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per gunicorn worker (default: the production config's)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto",
                        help="status phase driver: wrk (C, keep-alive, Lua-rotated ids) when installed, else Python")
    parser.add_argument("--cancel", type=int, default=50, help="videos canceled to measure webhook latency")
    parser.add_argument("--pg-port", type=int, default=55489)
    parser.add_argument("--redis-port", type=int, default=56439)
    return parser.parse_args(args)


class _Receiver:
    """Verifies every delivery with the standardwebhooks library; records event → receipt latency."""

    def __init__(self):
        self.secret, self.latencies, self.bad, self.ids = None, [], 0, set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    sent = datetime.fromisoformat(payload["timestamp"]).timestamp()
                    if payload["id"] not in receiver.ids:  # at-least-once: de-duplicate on the id
                        receiver.ids.add(payload["id"])
                        receiver.latencies.append(time.time() - sent)
                    self.send_response(204)
                except Exception:  # noqa: BLE001 - any failure is a bad delivery
                    receiver.bad += 1
                    self.send_response(400)
                self.end_headers()

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _services(env: dict, action: str) -> dict:
    out = subprocess.run(["bash", str(REPO / "infra/scripts/test-services.sh"), action], env=env, check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            found[name] = value
    return found


def _wait_http(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/docs/errors")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not come up")


def _load(py: str, env: dict, cfg: dict) -> dict:
    """One load phase in its own process (its CPU is not the server's; it is reported as
    ``loadgen_cpu_s``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([py, "-m", "api.bench.load", json.dumps(cfg)], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.strip().splitlines()[-1])
    result["loadgen_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


WRK_SCRIPT = """-- bench api: GET /api/v1/videos/{id}, ids rotated per connection, the key in a header
local ids = {%(ids)s}
local i = 0
local counter = 0
setup = function(thread)
  thread:set("offset", counter * 7)
  counter = counter + 1
end
init = function(args)
  i = tonumber(offset) or 0
end
request = function()
  i = i + 7
  return wrk.format("GET", "/api/v1/videos/" .. ids[(i %% #ids) + 1], {["Authorization"] = "Bearer %(key)s"})
end
"""


def _wrk_status(cfg: dict, ids: list[int], var: Path) -> dict:
    """The status phase driven by wrk (closed loop, keep-alive): a C client leaves the cores to
    the server. Errors: non-2xx/3xx answers and socket errors, as wrk counts them."""
    script = var / "status.lua"
    script.write_text(WRK_SCRIPT % {"ids": ",".join(str(i) for i in ids), "key": cfg["key"]})
    threads = max(1, min(2, cfg["status_clients"]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{cfg['status_clients']}", f"-d{max(1, round(cfg['status_seconds']))}s",
                          "--timeout", "10s", "-s", str(script), cfg["base"]], check=True, capture_output=True,
                         text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    kinds, errors = [], 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
        kinds.append("non-2xx")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sockets:
        for name, n in zip(("connect", "read", "write", "timeout"), map(int, sockets.groups())):
            if n:
                errors += n
                kinds.append(f"conn:{name}")
    return {"status_rps": round(rps, 1), "status_requests": requests, "status_errors": errors,
            "status_error_kinds": kinds,
            "loadgen_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}


def _pid_file(path: Path) -> int:
    return int(path.read_text().split()[0])


def _tree_cpu_s(roots: list[int]) -> float:
    """User+system CPU seconds of these processes and all their descendants (Linux /proc)."""
    tick, total, seen, todo = os.sysconf("SC_CLK_TCK"), 0.0, set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (children reaped: cutime/cstime)
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total


def _cancel_all(port: int, key: str, ids: list[int]) -> int:
    failures = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for vid in ids:
        conn.request("POST", f"/api/v1/videos/{vid}/cancel", headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        response.read()
        failures += response.status != 200
        time.sleep(0.02)
    return failures


def run(args: list[str], out) -> dict:
    opts = _parse(args)
    var = Path(tempfile.mkdtemp(prefix="adf-bench-api-"))
    py = sys.executable
    # postgres (not root) must be able to enter the services folder: keep it directly under /tmp
    env = {**os.environ, "TEST_SERVICES_DIR": f"/tmp/adf-bench-api-svc-{opts.pg_port}", "TEST_PG_PORT": str(opts.pg_port),
           "TEST_REDIS_PORT": str(opts.redis_port)}
    env.update(_services(env, "start"))
    receiver = _Receiver()
    port = _free_port()
    env.update({
        "PYTHONPATH": f"{REPO}:{REPO / 'platform'}", "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(40), "VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"), "LOG_LEVEL": "WARNING", "WEBHOOK_QUEUE": "webhooks",
        "API_RATE_LIMIT_KEY": "10000000/min", "API_RATE_LIMIT_WORKSPACE": "10000000/min",
        "WEBHOOK_SSRF_ALLOWED_HOSTS": receiver.url.split("/")[2], "CELERY_BROKER_URL": env["REDIS_URL"]})
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        seed = json.loads(subprocess.run([py, "-m", "api.bench.seed", "seed", receiver.url], cwd=REPO, env=env,
                                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        receiver.secret = seed["secret"]
        # The production gunicorn config itself (infra/docker/gunicorn.conf.py), only the bind,
        # sizes and logging from the environment: access lines would cost CPU and flood stdout.
        gunicorn_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning",
                        "GUNICORN_ACCESS_LOG": "off"}
        for name, value in (("WEB_CONCURRENCY", opts.workers), ("GUNICORN_THREADS", opts.threads)):
            if value is not None:
                gunicorn_env[name] = str(value)
        procs.append(subprocess.Popen(
            [py, "-m", "gunicorn", "config.wsgi:application", "-c", str(GUNICORN_CONF)], cwd=REPO, env=gunicorn_env))
        gunicorn_size = _gunicorn_size(gunicorn_env)
        procs.append(subprocess.Popen(
            [py, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks", "--pool", "threads", "-c", "4",
             "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"], cwd=REPO, env=env))
        _wait_http(port)
        cfg = {"base": f"http://127.0.0.1:{port}", "key": seed["key"], "rate": opts.rate, "seconds": opts.seconds,
               "warmup_seconds": opts.warmup_seconds,
               "status_seconds": opts.status_seconds, "status_clients": opts.status_clients,
               "create_clients": opts.create_clients, "retry_share": 0.1, "race_share": 0.05,
               "product_url": "https://shop.example/products/bench", "cancel": opts.cancel}
        server = [procs[0].pid, _pid_file(Path(env["TEST_SERVICES_DIR"]) / "pg" / "postmaster.pid"),
                  _pid_file(Path(env["TEST_SERVICES_DIR"]) / "redis.pid")]
        cpu0 = _tree_cpu_s(server)
        load = _load(py, env, {**cfg, "phase": "create"})
        cpu1 = _tree_cpu_s(server)
        ids = load.pop("video_ids")
        create_loadgen_s = load.pop("loadgen_cpu_s")
        use_wrk = opts.loadgen == "wrk" or (opts.loadgen == "auto" and shutil.which("wrk"))
        if not ids:
            load.update({"status_rps": 0.0, "status_errors": 0, "status_requests": 0, "loadgen_cpu_s": 0.0})
        elif use_wrk:
            load.update(_wrk_status(cfg, ids, var))
        else:
            load.update(_load(py, env, {**cfg, "phase": "status", "video_ids": ids}))
        load["status_loadgen"] = "wrk" if use_wrk and ids else "python"
        cpu2 = _tree_cpu_s(server)
        status_loadgen_s = load.pop("loadgen_cpu_s")
        cancel_failures = _cancel_all(port, seed["key"], ids[: opts.cancel])
        deadline = time.monotonic() + 60
        while len(receiver.latencies) < opts.cancel - cancel_failures and time.monotonic() < deadline:
            time.sleep(0.1)
        counts = json.loads(subprocess.run([py, "-m", "api.bench.seed", "count", str(seed["workspace"])], cwd=REPO,
                                           env=env, check=True, capture_output=True, text=True).stdout.strip()
                            .splitlines()[-1])
        jobs = counts["jobs"]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        receiver.server.shutdown()
        _services(env, "stop")
    lat = sorted(receiver.latencies)
    create_total = load["create_requests"] + load["warmup_requests"]  # both phases are in the CPU span
    webhook_p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))] if lat else None
    result = {
        "create_p50_ms": load["create_p50_ms"], "create_p99_ms": load["create_p99_ms"],
        "create_rate": load["create_rate"], "create_requests": load["create_requests"],
        "warmup_requests": load["warmup_requests"], "warmup_p99_ms": load["warmup_p99_ms"],
        "status_rps": load["status_rps"],
        "errors": load["create_errors"] + load["status_errors"] + cancel_failures + receiver.bad,
        "error_kinds": load.get("create_error_kinds", []) + load.get("status_error_kinds", []),
        "duplicates": jobs - load["keys_accepted"],  # one job per accepted key is the only right answer
        "keys_with_two_request_ids": load["keys_with_two_request_ids"],
        "webhook_p99_s": round(webhook_p99, 3) if webhook_p99 is not None else None,
        "webhooks_verified": len(lat), "webhooks_expected": opts.cancel - cancel_failures,
        "webhook_events": counts["events"], "webhook_deliveries": counts["deliveries"],
        "webhook_delivery_errors": counts["delivery_errors"], "receiver_rejected": receiver.bad,
        "gunicorn": gunicorn_size, "gunicorn_config": str(GUNICORN_CONF.relative_to(REPO)),
        "status_loadgen": load["status_loadgen"], "cpu_count": os.cpu_count(),
        # Server-side CPU (gunicorn + PostgreSQL + Redis) per request: robust to a shared, loaded
        # box; 1000 / cpu_ms is the request rate one dedicated core could sustain.
        "create_server_cpu_ms": round(1000 * (cpu1 - cpu0) / max(1, create_total), 2),
        "status_server_cpu_ms": round(1000 * (cpu2 - cpu1) / max(1, load.get("status_requests", 0)), 2),
        # The load generator's own CPU per request (it shares the box's cores with the server).
        "create_loadgen_cpu_ms": round(1000 * create_loadgen_s / max(1, create_total), 2),
        "status_loadgen_cpu_ms": round(1000 * status_loadgen_s / max(1, load.get("status_requests", 0)), 2),
        "load_average_1m": os.getloadavg()[0],
    }
    # What the measured CPU per request allows on this many dedicated cores, server alone and
    # server + this load generator (a ceiling: it ignores latency, locks and scheduling).
    cores = os.cpu_count() or 1
    for phase in ("create", "status"):
        server_ms, loadgen_ms = result[f"{phase}_server_cpu_ms"], result[f"{phase}_loadgen_cpu_ms"]
        result[f"{phase}_cpu_bound_rps"] = round(1000 * cores / server_ms, 1) if server_ms else None
        result[f"{phase}_cpu_bound_rps_with_loadgen"] = (round(1000 * cores / (server_ms + loadgen_ms), 1)
                                                         if server_ms else None)
    out.write(f"create: p50 {result['create_p50_ms']} ms, p99 {result['create_p99_ms']} ms at "
              f"{result['create_rate']} req/s (after {opts.warmup_seconds:g} s of warm-up, p99 there "
              f"{result['warmup_p99_ms']} ms); status: {result['status_rps']} req/s; errors {result['errors']}; "
              f"duplicates {result['duplicates']}; webhook p99 {result['webhook_p99_s']} s\n")
    return result
