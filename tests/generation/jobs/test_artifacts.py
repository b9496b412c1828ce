"""Job artifacts against a real S3-protocol server (moto's server mode as a subprocess on
loopback, never an in-process patch): put/fetch round trips, pull/push of a job's folder,
signed URLs, and a refusing bucket raising a clear, transient StorageUnavailable."""
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from generation.drills.s3server import S3Server
from generation.jobs import artifacts
from generation.jobs.errors import TransientError


@pytest.fixture(scope="module")
def s3():
    with S3Server(bucket="artifacts-test") as server:
        yield server


@pytest.fixture
def bucket(s3, tmp_path):
    s3.restore()
    with override_settings(STORAGES={**settings.STORAGES, "default": s3.storages_setting()}, MEDIA_ROOT=tmp_path):
        yield s3


class _Job:  # only media_dir() is read by the artifact functions (no worker: not claimed)
    worker = ""

    def __init__(self, workspace_id: int, pk: int):
        self.workspace_id, self.pk = workspace_id, pk

    def media_dir(self) -> str:
        return f"workspaces/{self.workspace_id}/jobs/{self.pk}"


def test_local_media_is_a_no_op(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path, STORAGES={**settings.STORAGES, "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage"}}):
        assert artifacts.artifacts_local()
        (tmp_path / "x.txt").write_text("x")
        assert artifacts.artifact_put(None, "x.txt", tmp_path / "x.txt") == "x.txt"
        assert artifacts.artifact_fetch(None, "x.txt") == (tmp_path / "x.txt").resolve()


def test_put_fetch_and_signed_url(bucket, tmp_path):
    assert not artifacts.artifacts_local()
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00video" * 1000)
    assert artifacts.artifact_put(None, "workspaces/1/jobs/9/render/video.mp4", src) == "workspaces/1/jobs/9/render/video.mp4"
    assert "workspaces/1/jobs/9/render/video.mp4" in bucket.keys("workspaces/1/")
    # a second put of the same key overwrites it (a retried stage), never renames
    src.write_bytes(b"second")
    artifacts.artifact_put(None, "workspaces/1/jobs/9/render/video.mp4", src)
    local = artifacts.artifact_fetch(None, "workspaces/1/jobs/9/render/video.mp4")
    assert local == (Path(tmp_path) / "workspaces/1/jobs/9/render/video.mp4").resolve()
    assert local.read_bytes() == b"second"
    url = artifacts.artifact_url("workspaces/1/jobs/9/render/video.mp4", expire_s=60, download_name="v.mp4")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"second"
    assert 'filename="v.mp4"' in response.headers.get("Content-Disposition", "")
    with pytest.raises(ValueError):
        artifacts.artifact_fetch(None, "../../etc/passwd")


def test_stage_pulls_inputs_and_pushes_only_what_it_wrote(bucket, tmp_path):
    job = _Job(3, 41)
    other = _Job(4, 41)  # another workspace's job folder is never pulled
    folder = tmp_path / job.media_dir()
    folder.mkdir(parents=True)
    (folder / "script.json").write_text('{"a": 1}')
    image = tmp_path / "workspaces/3/products/5/images/ab.jpg"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"jpeg")
    (folder / "product.json").write_text('{"images": [{"key": "workspaces/3/products/5/images/ab.jpg"}]}')
    for key in ("script.json", "product.json"):
        artifacts.artifact_put(job, f"{job.media_dir()}/{key}", folder / key)
    artifacts.artifact_put(job, "workspaces/3/products/5/images/ab.jpg", image)
    other_file = tmp_path / "o.json"
    other_file.write_text("{}")
    artifacts.artifact_put(other, f"{other.media_dir()}/secret.json", other_file)
    # A fresh host: nothing local.
    for p in sorted(tmp_path.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()

    def stage(j):
        assert (tmp_path / j.media_dir() / "script.json").read_text() == '{"a": 1}'
        assert (tmp_path / "workspaces/3/products/5/images/ab.jpg").read_bytes() == b"jpeg"
        out = tmp_path / j.media_dir() / "voice"
        out.mkdir()
        (out / "voice.wav").write_bytes(b"RIFF")
        return {"voice": f"{j.media_dir()}/voice/voice.wav"}

    before = set(bucket.keys())
    assert artifacts.with_artifacts(stage)(job) == {"voice": "workspaces/3/jobs/41/voice/voice.wav"}
    assert set(bucket.keys()) - before == {"workspaces/3/jobs/41/voice/voice.wav"}
    assert not (tmp_path / other.media_dir()).exists()
    # unchanged local copies are not downloaded again
    assert artifacts.artifacts_pull(job) == 0


def test_refusing_bucket_is_a_clear_transient_error(bucket, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("x")
    bucket.refuse()
    try:
        with pytest.raises(artifacts.StorageUnavailable) as err:
            artifacts.artifact_put(None, "workspaces/1/jobs/1/f.txt", src)
        assert isinstance(err.value, TransientError)
        assert "object storage refused to write f.txt" in str(err.value)
        with pytest.raises(artifacts.StorageUnavailable, match="refused to read"):
            artifacts.artifact_fetch(None, "workspaces/1/jobs/1/g.txt")
    finally:
        bucket.restore()
    artifacts.artifact_put(None, "workspaces/1/jobs/1/f.txt", src)
    assert "workspaces/1/jobs/1/f.txt" in bucket.keys()


def test_a_superseded_holder_pushes_nothing_and_commits_nothing(bucket, tmp_path, tenant):
    """Fencing: the stage was taken over (another worker now named on the row) while this run
    was cut off; its outputs are neither uploaded nor committed."""
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context

    ws, brand = tenant["workspace"], tenant["brand"]
    with tenant_context(ws):
        job = VideoJob.objects.create(workspace=ws, brand=brand, product_url="https://shop.example/p", stage="voice",
                                      status=VideoJob.Status.RUNNING, worker="host-a:1")
        stale = VideoJob.objects.get(pk=job.pk)
        VideoJob.objects.filter(pk=job.pk).update(worker="host-b:2")  # the sweeper re-queued, B claimed

        def stage(j):
            out = tmp_path / j.media_dir() / "voice"
            out.mkdir(parents=True)
            (out / "voice.wav").write_bytes(b"RIFF-from-A")
            return {"voice": f"{j.media_dir()}/voice/voice.wav"}

        with pytest.raises(artifacts.StageSuperseded):
            artifacts.with_artifacts(stage)(stale)
        assert not bucket.keys(job.media_dir() + "/")
        # the holder named on the row runs normally
        current = VideoJob.objects.get(pk=job.pk)
        (tmp_path / job.media_dir() / "voice" / "voice.wav").unlink()
        (tmp_path / job.media_dir() / "voice").rmdir()
        assert artifacts.with_artifacts(stage)(current) == {"voice": f"{job.media_dir()}/voice/voice.wav"}
        assert bucket.keys(job.media_dir() + "/") == [f"{job.media_dir()}/voice/voice.wav"]


def test_runner_drops_a_stage_taken_over_while_it_ran(tenant, monkeypatch):
    """The runner's side of fencing: a stage whose row was handed to another worker while it
    ran (a healed partition) records nothing — no outputs, no timing, no next stage."""
    from generation.jobs import pipeline
    from generation.jobs.models import VideoJob
    from generation.jobs.runner import SKIP, video_job_run_stage
    from tenancy.context import tenant_context

    ws, brand = tenant["workspace"], tenant["brand"]

    def taken_over(job):
        VideoJob.objects.filter(pk=job.pk).update(worker="other-host:99")
        return {"script": f"{job.media_dir()}/script.json"}

    monkeypatch.setitem(pipeline.STAGE_SERVICES, "script", artifacts.with_artifacts(taken_over))
    with tenant_context(ws):
        job = VideoJob.objects.create(workspace=ws, brand=brand, product_url="https://shop.example/p", stage="script")
        assert video_job_run_stage(job_id=job.pk, stage="script") == SKIP
        job.refresh_from_db()
    assert job.stage == "script" and job.worker == "other-host:99" and job.status == "running"
    assert "script" not in job.outputs and "script" not in job.timings and "script" not in job.cpu_timings


def test_folders_round_trip_for_lora_uploads_and_adapters(bucket, tmp_path):
    """A trained adapter (or a folder of training uploads) pushed from one host is pulled on
    another; an unchanged local copy is not downloaded again."""
    adapter = tmp_path / "workspaces/5/loras/brand2/v1"
    adapter.mkdir(parents=True)
    (adapter / "adapter.safetensors").write_bytes(b"weights" * 100)
    (adapter / "metadata.json").write_text("{}")
    assert artifacts.artifacts_push_prefix("workspaces/5/loras/brand2/v1") == 2
    for p in adapter.iterdir():
        p.unlink()
    assert artifacts.artifacts_pull_prefix("workspaces/5/loras/brand2/v1") == 2
    assert (adapter / "adapter.safetensors").read_bytes() == b"weights" * 100
    assert artifacts.artifacts_pull_prefix("workspaces/5/loras/brand2/v1") == 0
    assert artifacts.artifacts_pull_prefix("workspaces/5/loras/brand2/v9") == 0  # nothing stored there


def test_a_stage_moves_its_files_a_few_at_a_time_each_thread_with_its_own_storage(bucket, tmp_path, monkeypatch):
    """Pull and push run on the transfer threads (the render stage pulls ~13 objects; one by
    one they were 0.35-0.5 s of its critical path); every thread talks to the bucket through
    its own storage instance (boto3 resources are not shared between threads), and a bucket
    that refuses a read mid-pull raises the clear transient error and leaves no partial file."""
    import threading

    job = _Job(6, 7)
    folder = tmp_path / job.media_dir() / "shots"
    folder.mkdir(parents=True)
    payloads = {f"shot_{i}.png": bytes([i]) * (50_000 + i) for i in range(12)}
    for name, data in payloads.items():
        (folder / name).write_bytes(data)
    seen: dict[int, object] = {}
    real = artifacts._thread_storage

    def spy():
        st = real()
        seen.setdefault(threading.get_ident(), st)
        assert seen[threading.get_ident()] is st  # one instance per thread, reused
        return st

    monkeypatch.setattr(artifacts, "_thread_storage", spy)
    assert artifacts.artifacts_push(job, before={}) == 12
    assert len(seen) > 1 and len({id(s) for s in seen.values()}) == len(seen)
    for p in folder.iterdir():
        p.unlink()
    assert artifacts.artifacts_pull(job) == 12
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == payloads
    assert artifacts.artifacts_pull(job) == 0  # unchanged copies (checked on the threads) stay
    for p in folder.iterdir():
        p.unlink()
    listing = artifacts._remote_objects(job.media_dir() + "/")
    monkeypatch.setattr(artifacts, "_remote_objects", lambda prefix: listing)  # listed, then the bucket goes
    bucket.refuse()
    try:
        with pytest.raises(artifacts.StorageUnavailable, match="refused to read"):
            artifacts.artifacts_pull(job)
    finally:
        bucket.restore()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no .part left behind


def test_a_warmed_worker_builds_no_storage_during_its_first_transfers(bucket, tmp_path, monkeypatch):
    """worker_process_init warms the transfer threads' storages in the background: the first
    stage's pull and push then build none (each was ~0.5 s of a first job)."""
    import threading

    from django.core.files.storage import storages

    artifacts.artifacts_warm_in_background()
    for th in [t for t in threading.enumerate() if t.name == "artifacts-warm"]:
        th.join(timeout=60)
    built = []
    real_create = storages.create_storage
    monkeypatch.setattr(storages, "create_storage", lambda params: built.append(params) or real_create(params))
    job = _Job(8, 1)
    folder = tmp_path / job.media_dir()
    folder.mkdir(parents=True)
    for i in range(8):
        (folder / f"f{i}.bin").write_bytes(bytes([i]) * 1000)
    assert artifacts.artifacts_push(job, before={}) == 8
    for p in folder.iterdir():
        p.unlink()
    assert artifacts.artifacts_pull(job) == 8
    assert built == []
