"""`manage.py drill slow-origin`: workspace A queues several jobs on a shop that trickles one
byte a second; workspace B queues one normal job at the same time. With a real worker and beat
(sweeper), B's job must finish promptly, each of A's stages must end at its deadline with a
readable reason, no stage may run twice at once, and no worker may stay stuck.

Args: ``--a-jobs N`` (default 4), ``--deadline S`` ingest stage deadline (default 20),
``--timeout S`` overall bound (default 600), ``--cap N`` running stages per workspace (default 1;
``--cap 99`` shows the starvation the cap prevents)."""
from __future__ import annotations

import argparse
import time
from urllib.parse import urlsplit

from generation.drills.cluster import Cluster, drill_workspace, wait_until
from generation.drills.servers import SlowOrigin


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill slow-origin")
    parser.add_argument("--a-jobs", type=int, default=4)
    parser.add_argument("--deadline", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--cap", type=int, default=1, help="running stages per workspace (a large cap = no fairness)")
    return parser.parse_args(args)


def _jobs(workspace, ids):
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context

    with tenant_context(workspace):
        return list(VideoJob.objects.filter(pk__in=ids).order_by("pk"))


def run(args: list[str], out) -> dict:
    from catalog.sample_shop import sample_shop_serve
    from generation.jobs.services import video_job_create

    opts = _args(args)
    ws_a, brand_a = drill_workspace(name="slow-a", credits=opts.a_jobs + 1)
    ws_b, brand_b = drill_workspace(name="slow-b", credits=2)
    with SlowOrigin(mode="body", rate_s=1.0) as origin, sample_shop_serve() as shop_url:
        env = {
            "CATALOG_SSRF_ALLOWED_HOSTS": f"{origin.host},{urlsplit(shop_url).netloc}",
            "CATALOG_FETCH_MIN_INTERVAL_S": "0",
            "GENERATION_STAGE_DEADLINES": f"ingest={opts.deadline:g}",
            "GENERATION_WORKSPACE_MAX_RUNNING": str(opts.cap), "GENERATION_DEFER_S": "1",
            "GENERATION_HEARTBEAT_S": "0.5", "GENERATION_HEARTBEAT_STALE_S": "3", "JOBS_SWEEP_INTERVAL_S": "1",
        }
        with Cluster(env=env, name="slow-origin") as cluster:
            cluster.start_beat()
            cluster.start_worker(concurrency=2)
            if not cluster.wait_ready():
                raise RuntimeError("the drill worker did not start:\n" + cluster.log("worker-w.log")[-3000:])
            started = time.monotonic()
            a_ids = [video_job_create(workspace=ws_a, brand=brand_a, product_url=origin.url(f"/a/{i}"),
                                      template="product_showcase", duration_s=6).pk for i in range(opts.a_jobs)]
            b_job = video_job_create(workspace=ws_b, brand=brand_b, product_url=shop_url,
                                     template="product_showcase", duration_s=6)
            out.write(f"[drill] {opts.a_jobs} slow jobs in workspace A, 1 job in workspace B\n")
            b_done = wait_until(lambda: next((j for j in _jobs(ws_b, [b_job.pk]) if j.is_finished), None),
                                timeout=opts.timeout)
            other_job_s = time.monotonic() - started
            a_left_when_b_done = sum(not j.is_finished for j in _jobs(ws_a, a_ids))
            a_done = wait_until(lambda: all(j.is_finished for j in _jobs(ws_a, a_ids)), timeout=opts.timeout)
            a_jobs = _jobs(ws_a, a_ids)
            time.sleep(1.5)  # the origin notices closed sockets on its next byte
            from config.celery import app

            alive = app.control.ping(timeout=3) if b_done and a_done else []
            stuck = origin.open_connections() + (0 if alive else 1)
            duplicates = max(0, origin.max_concurrent_per_path() - 1)
            if b_done is not None:
                duplicates += sum(n - 1 for n in b_done.attempts.values())
            slow_stage_s = max(((j.finished_at - j.stage_started_at).total_seconds() for j in a_jobs
                                if j.finished_at and j.stage_started_at), default=None)
            if not (b_done and a_done):
                out.write(cluster.log("worker-w.log")[-4000:])
    result = {
        "stage_deadline_s": opts.deadline,
        "slow_stage_s": None if slow_stage_s is None else round(slow_stage_s, 1),
        "other_job_s": round(other_job_s, 1),
        "other_job_status": b_done.status if b_done else "unfinished",
        # Time B spent waiting rather than running (queue, other tenants): the fairness figure.
        "other_job_wait_s": round(other_job_s - sum(b_done.timings.values()), 1) if b_done else None,
        "other_job_run_s": round(sum(b_done.timings.values()), 1) if b_done else None,
        "slow_jobs": len(a_ids),
        "slow_jobs_unfinished_when_other_done": a_left_when_b_done,
        "slow_reasons": sorted({j.failure_reason for j in a_jobs}),
        "duplicates": duplicates,
        "stuck_workers": stuck,
    }
    result["ok"] = bool(
        b_done and b_done.status == "succeeded" and a_done and duplicates == 0 and stuck == 0
        and all(j.status == "failed" and ("too slow" in j.failure_reason or "limit" in j.failure_reason)
                for j in a_jobs)
        and slow_stage_s is not None and slow_stage_s <= opts.deadline + 5
        and result["other_job_wait_s"] < opts.deadline)  # B never waited behind A's slow stages
    return result
