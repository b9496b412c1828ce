"""Job artifacts in object storage, so that workers on different hosts share nothing but the
database, the broker and the bucket.

Stages compute on local files under ``MEDIA_ROOT`` (a per-host working copy keyed exactly like
the bucket). When the default storage is the local ``MEDIA_ROOT`` itself (the embedded default)
nothing here does anything. When it is remote (S3: ``AWS_STORAGE_BUCKET_NAME`` set, see
docs/scaling.md) every stage:

1. pulls its inputs: every object under the job's prefix that is missing or different here,
   and the product images ``product.json`` names (ingest saved them straight to the bucket);
2. runs;
3. checks the row still names this worker as the stage's holder (fencing: a stage taken over
   after a partition, canceled, or finished elsewhere raises ``StageSuperseded`` and the
   runner records nothing);
4. pushes every file it wrote under the job's folder (an S3 PUT is atomic: an object is
   complete or absent), and only then returns — the runner commits the row after that, so a
   crash never leaves a row pointing at a missing object.

A bucket that refuses a read or a write raises ``StorageUnavailable`` (transient: the stage is
retried, and the job fails with that reason, credit refunded, once its retries are spent).
Downloads go through short-lived signed URLs (``artifact_url``)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages

from .errors import TransientError
from .models import PARALLEL_STAGES, VideoJob

logger = logging.getLogger(__name__)


class StorageUnavailable(TransientError):
    """The object store refused a read or a write (down, full, or denying writes)."""


class StageSuperseded(Exception):
    """The row no longer names this worker as the stage's holder (the stage was taken over
    after a partition or a stale heartbeat, canceled, or finished elsewhere): this run's
    outputs must not be pushed or committed."""


def _still_holder(job: VideoJob) -> bool:
    """True unless the job was claimed by a worker (``job.worker``) that the row no longer
    names; a direct call outside the runner (``bench truth``) has no holder to check."""
    if not job.worker:
        return True
    if job.stage in PARALLEL_STAGES and job.branches:  # voice and shots each have their own holder
        return VideoJob.objects.filter(pk=job.pk, status=VideoJob.Status.RUNNING, **{
            f"branches__{job.stage}__state": "running", f"branches__{job.stage}__worker": job.worker}).exists()
    return VideoJob.objects.filter(pk=job.pk, stage=job.stage, status=VideoJob.Status.RUNNING,
                                   worker=job.worker).exists()


def _storage():
    return storages["default"]


# A stage's files move a few at a time: the render stage pulls ~13 objects, and one after the
# other they took 0.35-0.5 s of its critical path on the harness (~35 ms of round trip each).
TRANSFER_THREADS = 4
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_tls = threading.local()


def _thread_storage():
    """This thread's own instance of the default storage: S3Storage caches one boto3 resource
    per instance, and boto3 resources must not be shared between threads. Rebuilt when the
    default storage itself changes (settings overridden)."""
    default = _storage()
    held = getattr(_tls, "held", None)
    if held is None or held[0] is not default:
        own = default if threading.current_thread() is threading.main_thread() else \
            storages.create_storage(settings.STORAGES["default"])
        held = _tls.held = (default, own)
    return held[1]


def _transfer_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=TRANSFER_THREADS, thread_name_prefix="artifacts")
    return _pool


def artifacts_warm_in_background() -> None:
    """Build the default storage's bucket handle and each transfer thread's own storage now
    (a boto3 resource loads its service model: ~0.5 s each on this box, 2 s for a stage's first
    pull), so a worker's first job does not wait for them. Returns at once; no network."""
    if artifacts_local():
        return

    def warm() -> None:
        getattr(_storage(), "bucket", None)  # the handle is built on first access
        barrier = threading.Barrier(TRANSFER_THREADS)

        def one() -> None:
            barrier.wait(timeout=60)  # one task per transfer thread, not four on the first
            getattr(_thread_storage(), "bucket", None)

        for future in [_transfer_pool().submit(one) for _ in range(TRANSFER_THREADS)]:
            future.result()

    def run() -> None:
        try:
            warm()
        except Exception as exc:  # noqa: BLE001 - a cold start is only slower, never wrong
            logger.warning("artifact.warm_failed error=%s: %s", type(exc).__name__, exc)

    threading.Thread(target=run, name="artifacts-warm", daemon=True).start()


def _each(fn: Callable[[object], object], items: Iterable) -> list:
    """``fn`` over items on the transfer threads (created in this process on first use, so
    never before a prefork worker forks); the first error is raised once all have ended."""
    items = list(items)
    if len(items) <= 1:
        return [fn(x) for x in items]
    pool = _transfer_pool()
    futures = [pool.submit(fn, x) for x in items]
    errors = [f.exception() for f in futures]
    for exc in errors:
        if exc is not None:
            raise exc
    return [f.result() for f in futures]


def artifacts_local() -> bool:
    """True when the default storage *is* this host's MEDIA_ROOT (nothing to copy)."""
    st = _storage()
    return isinstance(st, FileSystemStorage) and Path(st.location).resolve() == Path(settings.MEDIA_ROOT).resolve()


def _local(key: str) -> Path:
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise ValueError(f"artifact key escapes the media root: {key!r}")
    return path


def _fail(action: str, key: str, exc: Exception) -> StorageUnavailable:
    logger.error("artifact.%s_failed key=%s error=%s: %s", action, key, type(exc).__name__, exc)
    name = key.rstrip("/").rsplit("/", 1)[-1] if action != "list" else "the job's files"
    return StorageUnavailable(f"object storage refused to {action} {name} ({type(exc).__name__}); "
                              "nothing was kept, try again when storage is back")


def artifact_put(job: VideoJob | None, key: str, local_path: Path | str) -> str:
    """Upload ``local_path`` to ``key`` (overwriting: a retried stage writes the same keys)."""
    if artifacts_local():
        return key
    try:
        with open(local_path, "rb") as fh:
            saved = _thread_storage().save(key, File(fh, name=os.path.basename(key)))
    except Exception as exc:  # noqa: BLE001 - botocore/network errors of every kind
        raise _fail("write", key, exc) from exc
    if saved != key:  # the storage renamed instead of overwriting: a row would point elsewhere
        raise StorageUnavailable(f"object storage saved {key} as {saved}; file_overwrite must be on")
    return key


def artifact_fetch(job: VideoJob | None, key: str) -> Path:
    """The local path of ``key``, downloaded (atomically: temp file, then rename) if needed."""
    path = _local(key)
    if artifacts_local():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        with _thread_storage().open(key, "rb") as src, open(tmp, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                dst.write(chunk)
    except Exception as exc:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise _fail("read", key, exc) from exc
    tmp.replace(path)
    return path


def artifact_url(key: str, *, expire_s: int | None = None, download_name: str | None = None) -> str:
    """A short-lived signed URL for ``key`` (S3); the plain media URL for local storage."""
    st = _storage()
    if artifacts_local() or not hasattr(st, "bucket"):
        return st.url(key)
    params = {"ResponseContentDisposition": f'attachment; filename="{download_name}"'} if download_name else None
    return st.url(key, parameters=params, expire=expire_s or settings.ARTIFACT_URL_EXPIRE_S)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remote_objects(prefix: str) -> dict[str, str]:
    """key -> ETag of every object under ``prefix`` (one LIST, not a HEAD per file)."""
    st = _storage()
    try:
        if hasattr(st, "bucket"):
            return {o.key: o.e_tag.strip('"') for o in st.bucket.objects.filter(Prefix=prefix)}
        found, stack = {}, [prefix.rstrip("/")]
        while stack:
            folder = stack.pop()
            if not st.exists(folder):
                continue
            dirs, files = st.listdir(folder)
            stack += [f"{folder}/{d}" for d in dirs]
            found.update({f"{folder}/{f}": "" for f in files})
        return found
    except Exception as exc:  # noqa: BLE001
        raise _fail("list", prefix, exc) from exc


def _pull_listed(job: VideoJob | None, prefix: str) -> int:
    """Download every object under ``prefix`` that is missing here or differs from the local
    copy (ETag = MD5 of a single-part upload), on the transfer threads; returns how many."""
    def one(item: tuple[str, str]) -> bool:
        key, etag = item
        path = _local(key)
        if path.is_file() and etag and "-" not in etag and _md5(path) == etag:
            return False
        artifact_fetch(job, key)
        return True

    return sum(_each(one, _remote_objects(prefix).items()))


def artifacts_pull(job: VideoJob) -> int:
    """Bring the job's stored files (and its product's images) to this host; returns how many
    were downloaded. Files already here with the same content are kept."""
    if artifacts_local():
        return 0
    fetched = _pull_listed(job, job.media_dir() + "/")
    product_json = _local(f"{job.media_dir()}/product.json")
    if product_json.is_file():
        images = json.loads(product_json.read_text()).get("images") or []
        # product images are content-addressed: never change
        missing = [k for k in [img.get("key") for img in images if isinstance(img, dict) and img.get("key")]
                   if not _local(k).is_file()]
        _each(lambda key: artifact_fetch(job, key), missing)
        fetched += len(missing)
    return fetched


def artifacts_pull_prefix(prefix: str) -> int:
    """Bring every stored object under ``prefix`` (a folder key) to this host if missing or
    different here: LoRA training images before training, an adapter before generating."""
    if artifacts_local():
        return 0
    return _pull_listed(None, prefix.rstrip("/") + "/")


def artifacts_push_prefix(prefix: str) -> int:
    """Upload every file of this host's folder ``prefix`` (e.g. a trained LoRA adapter)."""
    if artifacts_local():
        return 0
    root = Path(settings.MEDIA_ROOT).resolve()
    folder = _local(prefix.rstrip("/"))
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else []
    _each(lambda path: artifact_put(None, str(path.relative_to(root)), path), files)
    return len(files)


def _snapshot(job: VideoJob) -> dict[Path, tuple[int, int]]:
    folder = Path(settings.MEDIA_ROOT).resolve() / job.media_dir()
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def artifacts_push(job: VideoJob, *, before: dict[Path, tuple[int, int]]) -> int:
    """Upload every file under the job's folder that is new or changed since ``before``
    (a ``_snapshot`` taken after the pull)."""
    if artifacts_local():
        return 0
    root = Path(settings.MEDIA_ROOT).resolve()
    changed = [path for path, state in sorted(_snapshot(job).items())
               if not (path.name.startswith(".") or path.suffix in (".tmp", ".part") or before.get(path) == state)]
    _each(lambda path: artifact_put(job, str(path.relative_to(root)), path), changed)
    return len(changed)


def _is_storage_error(exc: BaseException) -> bool:
    # boto3/botocore are pinned runtime requirements (django-storages' S3 backend); imported here
    # rather than at module top so local-files deployments don't pay botocore's import time.
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (BotoCoreError, ClientError))


def with_artifacts(service: Callable[[VideoJob], dict]) -> Callable[[VideoJob], dict]:
    """Wrap a stage service: pull inputs from storage, run, check this worker still holds the
    stage (else ``StageSuperseded``), push outputs before returning (the runner commits the row
    only after this returns)."""

    def run(job: VideoJob) -> dict:
        if artifacts_local():
            outputs = service(job)
            if not _still_holder(job):
                raise StageSuperseded(f"job {job.pk} {job.stage}: no longer held by {job.worker}")
            return outputs
        t0 = time.perf_counter()
        pulled = artifacts_pull(job)
        before = _snapshot(job)
        t1 = time.perf_counter()
        try:
            outputs = service(job)
        except Exception as exc:
            if _is_storage_error(exc):  # e.g. ingest saving product images to a refusing bucket
                raise _fail("write", job.media_dir(), exc) from exc
            raise
        # Fencing: a holder that lost the stage (it was partitioned and the stage re-ran on
        # another host) never overwrites the objects or the row of the one that took over.
        if not _still_holder(job):
            raise StageSuperseded(f"job {job.pk} {job.stage}: no longer held by {job.worker}")
        t2 = time.perf_counter()
        pushed = artifacts_push(job, before=before)
        logger.info("artifact.stage_synced job=%s stage=%s pulled=%s pushed=%s pull_s=%.2f run_s=%.2f push_s=%.2f",
                    job.pk, getattr(job, "stage", ""), pulled, pushed, t1 - t0, t2 - t1, time.perf_counter() - t2)
        return outputs

    run.__name__ = getattr(service, "__name__", "stage")
    run.__wrapped__ = service
    return run
