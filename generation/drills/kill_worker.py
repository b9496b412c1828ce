"""`manage.py drill kill-worker`: under `make serve`'s topology (a prefork worker and one beat
running the sweeper, Redis broker), SIGKILL the whole worker process — the main process, its
pool children die with it — while a job renders, then start a new worker. Every job must
complete exactly once: one video each, no stage run twice (beyond the killed one), credits
charged once.

Args: ``--jobs N`` (default 2), ``--timeout S`` (default 600)."""
from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from generation.drills.cluster import Cluster, drill_workspace, wait_until


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill kill-worker")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0)
    return parser.parse_args(args)


def _jobs(workspace, ids):
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context

    with tenant_context(workspace):
        return list(VideoJob.objects.filter(pk__in=ids).order_by("pk"))


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, only not yet reaped


def _credits_ok(workspace, jobs, granted: int) -> bool:
    from tenancy.context import tenant_context
    from tenancy.models import CreditLedger
    from tenancy.services import credit_balance

    with tenant_context(workspace):
        reserves = list(CreditLedger.objects.filter(kind="reserve").values_list("reference", "state"))
        refunds = CreditLedger.objects.filter(kind="refund").count()
    expected = sorted((f"video_job:{j.pk}", "committed") for j in jobs)
    charged = settings.CREDITS_PER_VIDEO * len(jobs)
    return sorted(reserves) == expected and refunds == 0 and credit_balance(workspace=workspace) == granted - charged


def run(args: list[str], out) -> dict:
    from catalog.sample_shop import sample_shop_serve
    from generation.jobs.services import video_job_create

    opts = _args(args)
    granted = opts.jobs * settings.CREDITS_PER_VIDEO + 1
    workspace, brand = drill_workspace(name="kill-worker", credits=granted)
    with sample_shop_serve() as shop_url:
        env = {
            "CATALOG_SSRF_ALLOWED_HOSTS": urlsplit(shop_url).netloc, "CATALOG_FETCH_MIN_INTERVAL_S": "0",
            "GENERATION_HEARTBEAT_S": "0.5", "GENERATION_HEARTBEAT_STALE_S": "3", "JOBS_SWEEP_INTERVAL_S": "1",
            # A stage message the dead worker had reserved but not started is gone with it (its
            # row stays QUEUED): the sweeper re-sends it after this, as in the restart-redis drill.
            "GENERATION_QUEUED_STALE_S": "10",
        }
        with Cluster(env=env, name="kill-worker") as cluster:
            cluster.start_beat()
            worker = cluster.start_worker(concurrency=2, tag="first")
            if not cluster.wait_ready():
                raise RuntimeError("the drill worker did not start:\n" + cluster.log("worker-first.log")[-3000:])
            ids = [video_job_create(workspace=workspace, brand=brand, product_url=shop_url,
                                    template="product_showcase", duration_s=6).pk for _ in range(opts.jobs)]
            victim = wait_until(lambda: next((j for j in _jobs(workspace, ids) if j.stage == "render"
                                              and j.status == "running" and j.worker), None), timeout=opts.timeout)
            children = _children(worker.pid)
            killed_at = time.monotonic()
            os.kill(worker.pid, signal.SIGKILL)  # the main process, not a pool child
            worker.wait(timeout=30)
            # Stages the kill interrupted (still RUNNING; the sweeper needs a stale heartbeat first):
            # each may run exactly twice, everything else exactly once.
            # Voice and shots run side by side: each running one has its own holder (branches).
            killed = {(j.pk, s) for j in _jobs(workspace, ids) if j.status == "running"
                      for s in ([s for s, b in j.branches.items() if b.get("state") == "running"]
                                if j.branches and j.stage in ("voice", "shots") else [j.stage])}
            orphans = wait_until(lambda: not any(_alive(c) for c in children) or None, timeout=10)
            out.write(f"[drill] killed worker {worker.pid} (children {children}) while job "
                      f"{victim.pk if victim else '?'} rendered\n")
            cluster.start_worker(concurrency=2, tag="second")
            done = wait_until(lambda: all(j.is_finished for j in _jobs(workspace, ids)), timeout=opts.timeout)
            recovered_s = time.monotonic() - killed_at
            jobs = _jobs(workspace, ids)
            if not done or any(j.status != "succeeded" for j in jobs):
                out.write(cluster.log("worker-second.log")[-4000:] + cluster.log("beat.log")[-2000:])
    media = Path(settings.MEDIA_ROOT)
    videos = sum(len(list((media / j.media_dir()).rglob("*.mp4"))) for j in jobs)
    expected_runs = {key: 2 for key in killed}
    duplicates = sum(max(0, n - expected_runs.get((j.pk, stage), 1)) for j in jobs for stage, n in j.attempts.items())
    result = {
        "jobs": len(jobs),
        "videos": videos,
        "killed_mid_render": victim is not None,
        "killed_stages": sorted(stage for _, stage in killed),
        "children_died_with_worker": bool(orphans),
        "recovered_s": round(recovered_s, 1),
        "duplicates": duplicates,
        "lost": sum(j.status != "succeeded" for j in jobs),
        "credits_ok": _credits_ok(workspace, jobs, granted),
    }
    result["ok"] = bool(victim and (victim.pk, "render") in killed and done and result["lost"] == 0
                        and duplicates == 0 and videos == len(jobs) and result["credits_ok"] and orphans)
    return result
