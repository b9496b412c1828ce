"""`manage.py bench throughput`: N jobs through the real pipeline on the multi-host harness
(generation/drills/netns.py: PostgreSQL, Redis, S3 server, gunicorn, a default worker + beat and
render workers, each in its own network namespace; jobs created through the web API).

0. ``--warmup`` jobs (default 4, the default host's slots; not counted: model and browser loads);
1. N jobs with **one** render worker -> ``videos_per_hour_1``;
2. a second render host joins; N more jobs -> ``videos_per_hour_2``;
   ``scaling_efficiency`` = vph_2 / (2 × vph_1);
3. one job of a small workspace on the idle system (``p50_job_s`` of single jobs), then the
   same job while a large workspace floods the queue with N jobs:
   ``fairness_ratio`` = flooded latency / idle latency.

``p50_job_s`` / ``p95_job_s`` are job latencies (created -> finished) over all batch jobs.
Every host shares the same cores here: a second render host can only use cores the first one
left idle, so efficiency on a 2-core box measures contention, not the design (docs/scaling.md).
Args: ``--jobs N`` (default 20), ``--timeout S`` per phase (default 1200), ``--warmup N`` (4).

``--single N`` instead: N jobs one at a time on the idle harness at full size (the latency a
brand sees for one video), from the bundled sample page; with ``--corpus DIR`` from N saved
real product pages of the shared corpus (pages with a known main image, spread over the
manifest), each served from the ``ctl`` host with its image URLs rewritten to photo-like
stand-ins (``bench.truth.StandinPage``): the real HTML, its size and its image candidates,
so ingest does what it does on the real page."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from generation.drills.netns import Harness, netns_available

ENV = {
    "GENERATION_HEARTBEAT_S": "2", "GENERATION_HEARTBEAT_STALE_S": "30", "JOBS_SWEEP_INTERVAL_S": "10",
    "CATALOG_FETCH_MIN_INTERVAL_S": "0", "GENERATION_RENDER_SCALE": "0.25",
}


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench throughput")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--warmup", type=int, default=4, help="uncounted warm-up jobs (default: the default host's slots)")
    parser.add_argument("--single", type=int, default=0,
                        help="instead: N jobs one at a time on an idle harness at full size (p50_job_s of one video)")
    parser.add_argument("--duration", type=int, default=0, help="ad length in s (default 6; 15 with --single)")
    parser.add_argument("--corpus", default="",
                        help="with --single: one job per saved product page of this corpus (its manifest.json)")
    opts = parser.parse_args(args)
    if opts.corpus and not opts.single:
        parser.error("--corpus needs --single N (how many of its pages)")
    return opts


def _client(harness: Harness, state: dict) -> dict:
    proc = harness.run_in("ctl", [sys.executable, "-c", (
        "import json, sys, django; django.setup(); from generation.jobs.bench.throughput import client; "
        "print(json.dumps(client(json.loads(sys.argv[1]))))"), json.dumps(state)], timeout=state["timeout"] + 120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError("the bench client failed:\n" + proc.stdout[-2000:] + proc.stderr[-4000:])
    return json.loads(lines[-1])


def _harness_up(harness: Harness, *, timeout: float, duration: int) -> dict:
    """Build the hosts, start the services, the web app, the default worker and one render
    worker; the client's base state."""
    harness.extra_env["CATALOG_SSRF_ALLOWED_HOSTS"] = f"{harness.addr('ctl')}:8080"
    harness.build()
    harness.start_services()
    harness.start_app(render_hosts=("render1",))
    if not harness.wait_workers(["worker-default", "worker-render1"], timeout=120):
        raise RuntimeError("harness workers did not start")
    return {"web": f"http://{harness.addr('web')}:8000", "shop_host": harness.addr("ctl"),
            "timeout": timeout, "duration": duration}


def corpus_pages(corpus: Path, n: int) -> list[str]:
    """``n`` page files of a corpus manifest with a known main image, spread evenly over it
    (sites and languages vary along the manifest)."""
    manifest = corpus / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"no manifest.json in {corpus}")
    entries = [e for e in json.loads(manifest.read_text(encoding="utf-8"))
               if (e.get("expected") or {}).get("image_main") and (corpus / e["file"]).is_file()]
    if not entries:
        raise ValueError(f"{manifest} lists no saved page with a known main image")
    step = max(1.0, len(entries) / n)
    return [str(corpus / entries[int(i * step)]["file"]) for i in range(min(n, len(entries)))]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 1)


def run(args: list[str], out) -> dict:
    why = netns_available()
    if why:
        raise FileNotFoundError(f"bench throughput needs network namespaces: {why}")
    opts = _args(args)
    if opts.single:
        return _single(opts, out)
    with Harness(env={**ENV}) as harness:
        base = _harness_up(harness, timeout=opts.timeout, duration=opts.duration or 6)
        # Warm-up jobs first, not counted: every worker process loads its models (the Piper voice
        # ~3 CPU-s) and browser once. As many as the default host has slots, so each pool child
        # is likely warm; one job left most children cold and the measured jobs paid their loads.
        warm = _client(harness, {**base, "phase": "batch", "jobs": opts.warmup})
        out.write(f"[bench] warm-up job: {warm}\n")
        one = _client(harness, {**base, "phase": "batch", "jobs": opts.jobs})
        out.write(f"[bench] 1 render host: {one}\n")
        celery = str(harness._bin("celery"))
        harness.spawn("worker-render2", "render2", [celery, "-A", "config", "worker", "--pool=prefork", "-c", "1",
                                                    "-Q", "render", "-n", f"render2-{harness.tag}@%h",
                                                    "--without-mingle", "--without-gossip", "-l", "info"])
        if not harness.wait_workers(["worker-render2"], timeout=120):
            raise RuntimeError("the second render worker did not start")
        two = _client(harness, {**base, "phase": "batch", "jobs": opts.jobs})
        out.write(f"[bench] 2 render hosts: {two}\n")
        fair = _client(harness, {**base, "phase": "fairness", "jobs": opts.jobs})
        out.write(f"[bench] fairness: {fair}\n")
    latencies = one["latencies"] + two["latencies"]
    vph_1, vph_2 = one["videos_per_hour"], two["videos_per_hour"]
    return {
        "jobs": opts.jobs,
        "videos_per_hour_1": vph_1,
        "videos_per_hour_2": vph_2,
        "scaling_efficiency": round(vph_2 / (2 * vph_1), 2) if vph_1 else None,
        "p50_job_s": _pct(latencies, 0.5),
        "p95_job_s": _pct(latencies, 0.95),
        "single_job_idle_s": fair["alone_s"],
        "single_job_flooded_s": fair["flooded_s"],
        # the small job's stage walls and queue wait, alone and under the flood (where it lost time)
        "single_job_idle_stage_s": fair["alone_stages"],
        "single_job_flooded_stage_s": fair["flooded_stages"],
        "fairness_ratio": round(fair["flooded_s"] / fair["alone_s"], 2) if fair["alone_s"] else None,
        "failed": warm["failed"] + one["failed"] + two["failed"] + fair["failed"],
        "cpu_s_per_video": one["cpu_s_per_video"],
        "stage_cpu_s": one["stage_cpu_s"],
        "cores": os.cpu_count(),
    }


def _single(opts, out) -> dict:
    """The latency a brand sees for its first video: jobs one at a time, idle harness, the
    offline defaults at full size (render scale 1, 1080x1920, a 15 s ad), warm workers."""
    # Warm workers as deployed: the voice queue's processes preload Piper at start (on by
    # default, but off under the test settings a bench may run with).
    # Jobs run one at a time here, so the page fetch keeps its production politeness too.
    env = {**{k: v for k, v in ENV.items() if k != "CATALOG_FETCH_MIN_INTERVAL_S"},
           "GENERATION_RENDER_SCALE": "1", "GENERATION_WARM_VOICE": "1"}
    pages = corpus_pages(Path(opts.corpus), opts.single) if opts.corpus else []
    with Harness(env=env) as harness:
        base = _harness_up(harness, timeout=opts.timeout, duration=opts.duration or 15)
        warm = _client(harness, {**base, "phase": "single", "jobs": 1})
        out.write(f"[bench] warm-up job: {warm}\n")
        one = _client(harness, {**base, "phase": "single", "jobs": opts.single, "pages": pages})
        out.write(f"[bench] single jobs: {one}\n")
    walls = one["latencies"]
    return {
        "single_jobs": opts.single, "duration_s": base["duration"], "render_scale": 1,
        "pages": one["pages"],
        "source": f"corpus {opts.corpus}" if pages else "sample shop page",
        "p50_job_s": _pct(walls, 0.5) if walls else None, "job_s": walls,
        "stage_s_median": {k: round(statistics.median(s[k] for s in one["stages"]), 2) for k in one["stages"][0]}
        if one["stages"] else {},
        # CPU-seconds per stage (the worker process and its children, e.g. ffmpeg): steadier
        # than walls when other work shares the cores
        "stage_cpu_s_median": {k: round(statistics.median(c.get(k, 0) for c in one["cpu"]), 2)
                               for k in one["cpu"][0]} if one.get("cpu") else {},
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "failed": one["failed"] + warm["failed"], "cores": os.cpu_count(),
    }


def client(state: dict) -> dict:
    """Runs inside the harness's ``ctl`` namespace: creates jobs through the web API and reads
    their timings from the database."""
    import functools
    import http.server
    import threading

    import requests
    from django.conf import settings

    from catalog.sample_shop import SHOP_DIR
    from generation.drills.cluster import drill_workspace, wait_until
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context
    from tenancy.models import Membership
    from tenancy.services import api_key_create

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    shop = None
    if not state.get("pages"):  # the saved pages are served one at a time below, on the same port
        shop = http.server.ThreadingHTTPServer((state["shop_host"], 8080),
                                               functools.partial(Quiet, directory=str(SHOP_DIR)))
        threading.Thread(target=shop.serve_forever, daemon=True).start()
    url = f"http://{state['shop_host']}:8080/products/aurora-bottle.html"

    def tenant(name: str, jobs: int):
        workspace, _ = drill_workspace(name=name, credits=(jobs + 1) * settings.CREDITS_PER_VIDEO)
        owner = Membership.objects.filter(workspace=workspace).first().user
        _, raw = api_key_create(workspace=workspace, name=name, created_by=owner)
        return workspace, {"Authorization": f"Bearer {raw}"}

    def submit(headers, product_url: str = url) -> int:
        r = requests.post(f"{state['web']}/api/v1/videos", headers=headers, timeout=60,
                          json={"product_url": product_url, "template": "product_showcase",
                                "duration": state["duration"]})
        r.raise_for_status()
        return r.json()["videos"][0]["id"]  # API v1: one aspect, one variant -> one job

    def finished(workspace, ids) -> list:
        with tenant_context(workspace):
            jobs = list(VideoJob.objects.filter(pk__in=ids))
        return jobs if all(j.is_finished for j in jobs) else []

    def latency(job) -> float:
        return (job.finished_at - job.created_at).total_seconds()

    def stages(job) -> dict:  # wall seconds per stage, and what was spent waiting in queues
        if job is None or job.status != "succeeded":
            return {}
        t = job.timings
        running = t["ingest"] + t["script"] + max(t["voice"], t["shots"]) + t["render"]
        return {**{k: round(v, 1) for k, v in t.items()}, "queued": round(latency(job) - running, 1)}

    def one_job(workspace, headers, product_url: str = url, *, interval: float = 0.1):
        """Submit one job and wait for it to finish (None when it did not in time)."""
        pk = submit(headers, product_url)
        return (wait_until(lambda: finished(workspace, [pk]), timeout=state["timeout"], interval=interval)
                or [None])[0]

    try:
        if state["phase"] == "single":
            pages = state.get("pages") or []
            small, headers = tenant("bench-single", len(pages) or state["jobs"])
            done, rows = [], []
            if pages:
                from catalog.ingest.charset import decode_html
                from generation.jobs.bench.truth import StandinPage

                for path in pages:
                    text, _ = decode_html(Path(path).read_bytes())
                    page = StandinPage(text, photos=True)
                    for n in set(page.urls.values()):  # drawn before the clock starts, as a CDN has them
                        page.picture(n)
                    with page.serve(state["shop_host"], 8080) as origin:
                        # one address per page: the same address would be the same product, and
                        # the worker's short page cache would hand it the previous page
                        job = one_job(small, headers, f"{origin}/product.html?page={Path(path).stem}")
                    done.append(job)
                    ok = job is not None and job.status == "succeeded"
                    with tenant_context(small):
                        title = job.product.title[:60] if job is not None and job.product_id else None
                    rows.append({"page": Path(path).name, "product": title,
                                 "job_s": round(latency(job), 1) if ok else None,
                                 "stages": stages(job) if ok else {},
                                 "failed": None if ok else (job.failure_reason[:200] if job else "timed out")})
            else:
                done = [one_job(small, headers) for _ in range(state["jobs"])]
            good = [j for j in done if j is not None and j.status == "succeeded"]
            return {"latencies": [round(latency(j), 1) for j in good], "stages": [stages(j) for j in good],
                    "cpu": [{k: round(v, 2) for k, v in j.cpu_timings.items()} for j in good],
                    "failed": len(done) - len(good), "pages": rows}
        if state["phase"] == "batch":
            # One workspace per job: platform throughput, not one workspace's fairness cap
            # (GENERATION_WORKSPACE_MAX_RUNNING), which the fairness phase measures.
            tenants = [tenant(f"bench-batch-{i}", 1) for i in range(state["jobs"])]
            ids = [(workspace, submit(headers)) for workspace, headers in tenants]

            def all_finished():
                found = [finished(workspace, [pk]) for workspace, pk in ids]
                return [j[0] for j in found] if all(found) else []

            jobs = wait_until(all_finished, timeout=state["timeout"], interval=0.5) or []
            good = [j for j in jobs if j.status == "succeeded"]
            span = (max(j.finished_at for j in good) - min(j.created_at for j in jobs)).total_seconds() if good else 0
            stage_cpu = {s: round(statistics.median([j.cpu_timings.get(s, 0) for j in good]), 2)
                         for s in ("ingest", "script", "voice", "shots", "render")} if good else {}
            return {"videos_per_hour": round(len(good) * 3600 / span, 1) if span else 0.0,
                    "latencies": [round(latency(j), 1) for j in good], "failed": len(ids) - len(good),
                    "span_s": round(span, 1), "stage_cpu_s": stage_cpu,
                    "cpu_s_per_video": round(sum(stage_cpu.values()), 2)}
        small, small_headers = tenant("bench-small", 2)
        large, large_headers = tenant("bench-large", state["jobs"])
        alone = one_job(small, small_headers, interval=0.2)
        flood = [submit(large_headers) for _ in range(state["jobs"])]
        time.sleep(0.5)  # the flood is queued first
        flooded = one_job(small, small_headers, interval=0.2)
        rest = wait_until(lambda: finished(large, flood), timeout=state["timeout"], interval=0.5) or []

        return {"alone_stages": stages(alone), "flooded_stages": stages(flooded),
                "alone_s": round(latency(alone), 1) if alone and alone.status == "succeeded" else None,
                "flooded_s": round(latency(flooded), 1) if flooded and flooded.status == "succeeded" else None,
                "failed": sum(j.status != "succeeded" for j in rest) + (len(flood) - len(rest))
                + sum(1 for j in (alone, flooded) if j is None or j.status != "succeeded")}
    finally:
        if shop is not None:
            shop.shutdown()
            shop.server_close()
