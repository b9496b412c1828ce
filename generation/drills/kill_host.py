"""`manage.py drill kill-host`: the multi-host harness (generation/drills/netns.py: PostgreSQL,
Redis, an S3 server, gunicorn, a default worker + beat and two render workers, each in its own
network namespace on its own address) runs a job created through the web API; while it renders,
the render host's cable is pulled (its link set down — no clean shutdown, its processes keep
running with hanging sockets). The job must complete exactly once on the other render host: its
heartbeat goes stale, the sweeper re-queues the render, the other host pulls the inputs from the
bucket and renders; one MP4 in the bucket, downloadable through the API, one credit charged.

The drill client (job creation, watching, the cut) runs inside the harness's ``ctl`` namespace.
Args: ``--timeout S`` (default 240)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from generation.drills.netns import Harness, netns_available

ENV = {
    "GENERATION_HEARTBEAT_S": "0.5", "GENERATION_HEARTBEAT_STALE_S": "3", "JOBS_SWEEP_INTERVAL_S": "1",
    "GENERATION_QUEUED_STALE_S": "10", "CATALOG_FETCH_MIN_INTERVAL_S": "0", "GENERATION_RENDER_SCALE": "0.25",
}


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill kill-host")
    parser.add_argument("--timeout", type=float, default=240.0)
    return parser.parse_args(args)


def run(args: list[str], out) -> dict:
    why = netns_available()
    if why:
        raise FileNotFoundError(f"drill kill-host needs network namespaces: {why}")
    opts = _args(args)
    started = time.monotonic()
    with Harness(env={**ENV}) as harness:
        harness.extra_env["CATALOG_SSRF_ALLOWED_HOSTS"] = f"{harness.addr('ctl')}:8080"
        harness.build()
        harness.start_services()
        harness.start_app()
        workers = ["worker-default", "worker-render1", "worker-render2"]
        if not harness.wait_workers(workers, timeout=120):
            raise RuntimeError("harness workers did not start:\n" + "\n".join(harness.log(w)[-1500:] for w in workers))
        boot_s = time.monotonic() - started
        state = {
            "web": f"http://{harness.addr('web')}:8000", "shop_host": harness.addr("ctl"),
            "render_mains": {h: harness.procs[f"worker-{h}"].pid for h in ("render1", "render2")},
            "cut": {h: ["ip", "-n", harness.ns("net"), "link", "set", harness._port(h), "down"]
                    for h in ("render1", "render2")},
            "timeout": opts.timeout,
        }
        client = harness.run_in("ctl", [sys.executable, "-c", (
            "import json, sys, django; django.setup(); from generation.drills.kill_host import client; "
            "print(json.dumps(client(json.loads(sys.argv[1]))))"), json.dumps(state)], timeout=opts.timeout + 60)
        lines = [line for line in client.stdout.splitlines() if line.startswith("{")]
        if client.returncode != 0 or not lines:
            raise RuntimeError("the drill client failed:\n" + client.stdout[-2000:] + client.stderr[-4000:])
        found = json.loads(lines[-1])
        job_id = found.get("job")
        finished_on = [h for h in ("render1", "render2")
                       if f"video_job.stage_done job={job_id} stage=render" in harness.log(f"worker-{h}")]
        out.write(f"[drill] harness up in {boot_s:.0f} s; cut {found.get('cut_host')} while it rendered job "
                  f"{job_id}; render finished on {finished_on}\n")
        if not found.get("succeeded"):
            out.write("\n".join(harness.log(n)[-2500:] for n in ("worker-render1", "worker-render2", "beat")))
    survivor = {"render1": "render2", "render2": "render1"}.get(found.get("cut_host"))
    result = {
        "jobs": 1,
        "videos": found["videos"],
        "cut_host": found.get("cut_host"),
        "finished_on": finished_on,
        "render_attempts": found["attempts"].get("render"),
        "recovered_s": found.get("recovered_s"),
        "download_ok": found["download_ok"],
        "lost": 0 if found["succeeded"] else 1,
        "duplicates": sum(max(0, n - 1) for s, n in found["attempts"].items() if s != "render")
        + max(0, found["attempts"].get("render", 0) - 2),
        "credits_ok": found["credits_ok"],
        "hosts": 8,
    }
    result["ok"] = bool(found["succeeded"] and found.get("cut_mid_render") and finished_on == [survivor]
                        and result["videos"] == 1 and result["download_ok"] and result["duplicates"] == 0
                        and result["credits_ok"])
    return result


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1 and len(chain) < 10:
        chain.append(pid)
        try:
            pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return chain


def client(state: dict) -> dict:
    """Runs inside the ``ctl`` namespace with Django set up against the harness database."""
    import functools
    import http.server
    import threading

    import requests
    from django.conf import settings

    from catalog.sample_shop import SHOP_DIR
    from generation.drills.cluster import drill_workspace, wait_until
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context
    from tenancy.models import CreditLedger, Membership
    from tenancy.services import api_key_create, credit_balance

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    shop = http.server.ThreadingHTTPServer((state["shop_host"], 8080), functools.partial(Quiet, directory=str(SHOP_DIR)))
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    granted = 2 * settings.CREDITS_PER_VIDEO
    workspace, _brand = drill_workspace(name="kill-host", credits=granted)
    owner = Membership.objects.filter(workspace=workspace).first().user
    _, raw = api_key_create(workspace=workspace, name="kill-host", created_by=owner)
    headers = {"Authorization": f"Bearer {raw}"}
    created = requests.post(f"{state['web']}/api/v1/videos", headers=headers, timeout=30, json={
        "product_url": f"http://{state['shop_host']}:8080/products/aurora-bottle.html",
        "template": "product_showcase", "duration": 6})
    if created.status_code != 202:
        return {"error": f"create: {created.status_code} {created.text[:500]}"}
    job_id = created.json()["videos"][0]["id"]  # one aspect, one variant: one job

    def job():
        with tenant_context(workspace):
            return VideoJob.objects.get(pk=job_id)

    def rendering():
        j = job()
        if j.stage == "render" and j.status == "running" and j.worker:
            pid = int(j.worker.rsplit(":", 1)[1])
            for host, main in state["render_mains"].items():
                if main in _ancestors(pid):
                    return host
        return None

    cut_host = wait_until(rendering, timeout=state["timeout"], interval=0.05)
    cut_mid_render = bool(cut_host) and job().status == "running"
    if cut_host:
        subprocess.run(state["cut"][cut_host], check=True)
    cut_at = time.monotonic()
    wait_until(lambda: job().is_finished, timeout=state["timeout"], interval=0.2)
    final = job()
    recovered_s = round(time.monotonic() - cut_at, 1)
    videos, download_ok = 0, False
    if final.outputs.get("video"):
        import boto3

        s3 = boto3.client("s3", endpoint_url=os.environ["AWS_S3_ENDPOINT_URL"], region_name="us-east-1")
        listing = s3.list_objects_v2(Bucket=os.environ["AWS_STORAGE_BUCKET_NAME"], Prefix=final.media_dir() + "/")
        videos = sum(1 for o in listing.get("Contents", []) if o["Key"].endswith(".mp4"))
        # The API's signed download link: it answers 302 to a short-lived presigned bucket URL.
        detail = requests.get(f"{state['web']}/api/v1/videos/{job_id}", headers=headers, timeout=30).json()
        got = requests.get(detail["downloads"]["video"]["url"], timeout=30)
        download_ok = got.status_code == 200 and got.content[4:8] == b"ftyp" and bool(got.history)
    with tenant_context(workspace):
        reserves = dict(CreditLedger.objects.filter(kind="reserve").values_list("reference", "state"))
    credits_ok = (reserves == {f"video_job:{job_id}": "committed"}
                  and credit_balance(workspace=workspace) == granted - settings.CREDITS_PER_VIDEO)
    shop.shutdown()
    return {"job": job_id, "succeeded": final.status == "succeeded", "reason": final.failure_reason,
            "attempts": final.attempts, "cut_host": cut_host, "cut_mid_render": cut_mid_render,
            "recovered_s": recovered_s, "videos": videos, "download_ok": download_ok, "credits_ok": credits_ok}
