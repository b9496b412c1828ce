"""`manage.py drill restart-redis`: the broker is restarted mid-run. A private redis-server
*without persistence* (the worst case: every queued and unacked message is gone after the
restart) serves a prefork worker and one beat; while jobs are in their stages, Redis is stopped,
stays down a few seconds and comes back empty. Workers and beat reconnect by themselves; a stage
message lost with the restart is sent again by the sweeper from the job row (the outbox:
QUEUED and unclaimed for ``GENERATION_QUEUED_STALE_S``); a redelivery of a stage that a live
worker holds is dropped. Every job must finish exactly once with its credit charged once.

Args: ``--jobs N`` (default 3), ``--down S`` (default 3), ``--timeout S`` (default 300)."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from generation.drills.cluster import Cluster, drill_workspace, free_port, wait_until
from generation.drills.kill_worker import _credits_ok, _jobs


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill restart-redis")
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--down", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    return parser.parse_args(args)


class BrokerCluster(Cluster):
    """A Cluster whose broker is always its own redis-server on a fixed port, so the drill can
    stop and start it; this process publishes to it for the drill and goes back afterwards."""

    def _broker(self) -> str:
        from config.celery import app

        if not shutil.which("redis-server"):
            raise FileNotFoundError("this drill needs redis-server")
        self.redis_port = free_port()
        self._previous = (app.conf.broker_url, app.conf.broker_transport_options)
        self._start_redis()
        url = f"redis://127.0.0.1:{self.redis_port}/0"
        app.conf.broker_url = url
        app.conf.broker_transport_options = {**(app.conf.broker_transport_options or {}),
                                             "visibility_timeout": 4 * 3600, "unacked_restore_interval": 5,
                                             "socket_connect_timeout": 2}
        self._reset_pools(app)
        return url

    @staticmethod
    def _reset_pools(app) -> None:
        app._pool = None
        app.amqp._producer_pool = None

    def _start_redis(self) -> None:
        from generation.drills.s3server import _port_open

        self.redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _port_open("127.0.0.1", self.redis_port), timeout=10)

    def restart_broker(self, *, down_s: float) -> None:
        self.redis_proc.terminate()
        self.redis_proc.wait(timeout=10)
        time.sleep(down_s)
        self._start_redis()

    def close(self) -> None:
        from config.celery import app

        super().close()
        app.conf.broker_url, app.conf.broker_transport_options = self._previous
        self._reset_pools(app)


def run(args: list[str], out) -> dict:
    from catalog.sample_shop import sample_shop_serve
    from generation.jobs.services import video_job_create

    opts = _args(args)
    granted = opts.jobs * settings.CREDITS_PER_VIDEO + 1
    workspace, brand = drill_workspace(name="restart-redis", credits=granted)
    with sample_shop_serve() as shop_url:
        env = {
            "CATALOG_SSRF_ALLOWED_HOSTS": urlsplit(shop_url).netloc, "CATALOG_FETCH_MIN_INTERVAL_S": "0",
            "GENERATION_HEARTBEAT_S": "0.5", "GENERATION_HEARTBEAT_STALE_S": "4", "JOBS_SWEEP_INTERVAL_S": "1",
            "GENERATION_QUEUED_STALE_S": "6", "GENERATION_WORKSPACE_MAX_RUNNING": str(opts.jobs + 1),
        }
        with BrokerCluster(env=env, name="restart-redis") as cluster:
            cluster.start_beat()
            cluster.start_worker(concurrency=2, tag="w")
            if not cluster.wait_ready():
                raise RuntimeError("the drill worker did not start:\n" + cluster.log("worker-w.log")[-3000:])
            ids = [video_job_create(workspace=workspace, brand=brand, product_url=shop_url,
                                    template="product_showcase", duration_s=6).pk for _ in range(opts.jobs)]
            # Restart while work is in flight: some stage running, the rest queued behind it.
            wait_until(lambda: any(j.status == "running" and j.stage in ("voice", "shots", "render")
                                   for j in _jobs(workspace, ids)), timeout=opts.timeout, interval=0.1)
            in_flight = sorted(f"{j.pk}:{j.stage}:{j.status}" for j in _jobs(workspace, ids) if not j.is_finished)
            restarted_at = time.monotonic()
            cluster.restart_broker(down_s=opts.down)
            out.write(f"[drill] redis restarted (down {opts.down:.0f} s, came back empty); in flight: {in_flight}\n")
            done = wait_until(lambda: all(j.is_finished for j in _jobs(workspace, ids)), timeout=opts.timeout,
                              interval=0.2)
            recovered_s = time.monotonic() - restarted_at
            jobs = _jobs(workspace, ids)
            resent = cluster.log("worker-w.log").count("video_job.swept")
            if not done or any(j.status != "succeeded" for j in jobs):
                out.write(cluster.log("worker-w.log")[-4000:] + cluster.log("beat.log")[-2000:])
    media = Path(settings.MEDIA_ROOT)
    videos = sum(len(list((media / j.media_dir()).rglob("*.mp4"))) for j in jobs)
    duplicates = sum(max(0, n - 1) for j in jobs for n in j.attempts.values())
    result = {
        "jobs": len(jobs),
        "videos": videos,
        "in_flight_at_restart": len(in_flight),
        "recovered_s": round(recovered_s, 1),
        "resent_by_sweeper": resent,
        "lost": sum(j.status != "succeeded" for j in jobs),
        "duplicates": duplicates,
        "credits_ok": _credits_ok(workspace, jobs, granted),
    }
    result["ok"] = bool(done and in_flight and result["lost"] == 0 and duplicates == 0 and videos == len(jobs)
                        and result["credits_ok"])
    return result
