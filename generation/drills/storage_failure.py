"""`manage.py drill storage-failure`: artifacts in a real S3-protocol bucket (moto's server on
loopback, behind a relay that can refuse every connection), a real prefork worker with its
*own* MEDIA_ROOT (it shares nothing with this process but PostgreSQL, the broker and the bucket).

1. a job runs end to end: its MP4 lands in the bucket and a signed URL downloads it;
2. the bucket refuses: a new job fails with a clear storage reason and its credit is refunded;
3. the bucket returns: the same product link submitted again (the retry) succeeds.

Final line: {"jobs", "videos", "lost", "duplicates", "credits_ok", "ok", ...}.
Args: ``--timeout S`` per phase (default 300)."""
from __future__ import annotations

import argparse
import shutil
import tempfile
from urllib.parse import urlsplit

from django.conf import settings

from generation.drills.cluster import Cluster, drill_workspace, wait_until
from generation.drills.s3server import S3Server
from generation.jobs.models import STAGES


def _args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill storage-failure")
    parser.add_argument("--timeout", type=float, default=300.0)
    return parser.parse_args(args)


def _job(workspace, pk):
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context

    with tenant_context(workspace):
        return VideoJob.objects.get(pk=pk)


def _ledger(workspace) -> dict[str, str]:
    from tenancy.context import tenant_context
    from tenancy.models import CreditLedger

    with tenant_context(workspace):
        return dict(CreditLedger.objects.filter(kind="reserve").values_list("reference", "state"))


def _download_ok(s3: S3Server, job) -> bool:
    """The MP4 as the API hands it out: a redirect to a short-lived signed bucket URL."""
    import requests
    from django.test import override_settings

    from api.videos import video_file_response

    with override_settings(STORAGES={**settings.STORAGES, "default": s3.storages_setting()}):
        redirect = video_file_response(job=job, name="video")
    url = redirect.get("Location", "")
    response = requests.get(url, timeout=30)
    return (redirect.status_code == 302 and "X-Amz-Signature" in url and response.status_code == 200
            and response.content[4:8] == b"ftyp")


def _costs_in_api(job) -> dict:
    """Per-stage wall and CPU seconds as the API's video representation shows them."""
    from django.test import RequestFactory

    from api.videos import VideoSerializer

    body = VideoSerializer(job, context={"request": RequestFactory().get("/")}).data
    return {"timings": body["timings"], "cpu_timings": body["cpu_timings"]}


def run(args: list[str], out) -> dict:
    from catalog.sample_shop import sample_shop_serve
    from generation.jobs.services import video_job_create
    from tenancy.services import credit_balance

    opts = _args(args)
    granted = 3 * settings.CREDITS_PER_VIDEO + 1
    workspace, brand = drill_workspace(name="storage-failure", credits=granted)
    worker_media = tempfile.mkdtemp(prefix="drill-storage-worker-media-")
    with sample_shop_serve() as shop_url, S3Server(bucket="drill-storage") as s3:
        env = {**s3.env, "MEDIA_ROOT": worker_media, "TEST_MEDIA_ROOT": worker_media,
               "CATALOG_SSRF_ALLOWED_HOSTS": urlsplit(shop_url).netloc, "CATALOG_FETCH_MIN_INTERVAL_S": "0"}
        with Cluster(env=env, name="storage-failure") as cluster:
            cluster.start_worker(concurrency=2, tag="w")
            if not cluster.wait_ready():
                raise RuntimeError("the drill worker did not start:\n" + cluster.log("worker-w.log")[-3000:])

            def submit() -> int:
                return video_job_create(workspace=workspace, brand=brand, product_url=shop_url,
                                        template="product_showcase", duration_s=6).pk

            def finish(pk: int):
                wait_until(lambda: _job(workspace, pk).is_finished, timeout=opts.timeout, interval=0.2)
                return _job(workspace, pk)

            first = finish(submit())
            out.write(f"[drill] job {first.pk} with the bucket up: {first.status} {first.failure_reason}\n")
            s3.refuse()
            refused = finish(submit())
            out.write(f"[drill] job {refused.pk} with the bucket refusing: {refused.status}: {refused.failure_reason}\n")
            s3.restore()
            retry = finish(submit())
            out.write(f"[drill] job {retry.pk} after the bucket returned: {retry.status} {retry.failure_reason}\n")
            if retry.status != "succeeded" or first.status != "succeeded":
                out.write(cluster.log("worker-w.log")[-4000:])
        keys = set(s3.keys())
        good = [first, retry]
        videos = sum(1 for j in good if j.outputs.get("video") in keys)
        downloads = all(_download_ok(s3, j) for j in good if j.outputs.get("video") in keys)
        refused_keys = [k for k in keys if k.startswith(refused.media_dir() + "/")]
    shutil.rmtree(worker_media, ignore_errors=True)
    ledger = _ledger(workspace)
    expected = {f"video_job:{first.pk}": "committed", f"video_job:{refused.pk}": "refunded",
                f"video_job:{retry.pk}": "committed"}
    credits_ok = ledger == expected and credit_balance(workspace=workspace) == granted - 2 * settings.CREDITS_PER_VIDEO
    reason = refused.failure_reason
    costs = _costs_in_api(retry)
    result = {
        "jobs": 3,
        "videos": videos,
        "signed_download_ok": downloads,
        "refused_job_failed": refused.status == "failed",
        "refused_reason": reason,
        "refused_objects": len(refused_keys),
        "lost": sum(j.status != "succeeded" for j in good),
        "duplicates": sum(max(0, n - 1) for j in good for n in j.attempts.values()),
        "credits_ok": credits_ok,
        "stage_wall_s": costs["timings"],
        "stage_cpu_s": costs["cpu_timings"],
    }
    result["ok"] = bool(videos == 2 and downloads and result["refused_job_failed"] and "storage" in reason
                        and result["lost"] == 0 and result["duplicates"] == 0 and credits_ok
                        and set(costs["cpu_timings"]) == set(costs["timings"]) == set(STAGES)
                        and costs["cpu_timings"]["render"] > 0)
    return result
