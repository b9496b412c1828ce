"""``Idempotency-Key`` for every POST (Stripe's contract), in one transaction.

1. The request's transaction first takes a PostgreSQL advisory lock on (workspace, key),
   without waiting, and reads any stored answer for the key, in one statement. A concurrent
   request with the same key cannot get the lock: it answers 409 at once. The lock is held
   until the transaction ends, so a slow request can never be overtaken by a retry, and a
   crashed one frees its key (its transaction rolls back, its connection closes).
2. The request runs in that transaction; its answer is stored in the same transaction, so
   the job rows, the credit hold and the stored answer commit together or not at all.
3. A replay (same key, same body) returns the stored status and body with
   ``Idempotent-Replayed: true``; a different body gets 422. Exceptions (validation, 402,
   5xx) store nothing, so fixing the request and retrying with the same key works.

Two statements per keyed POST (lock+read, store). Claims committed ``in_flight`` by an
earlier version of this module are still honoured (409 until API_IDEMPOTENCY_STALE_S).
SQLite (no advisory locks, one writer at a time) inserts the claim row in the transaction.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import ApiError
from .models import IdempotencyKey

logger = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
LOCK_CLASS = 0x1DE7  # first half of the two-int advisory lock key: this module's namespace
_T = IdempotencyKey._meta.db_table
_COLUMNS = ("id", "fingerprint", "method", "path", "state", "response_status", "response_body", "created_at")


def _fingerprint(request) -> str:
    """Method, path and the parsed body (key order ignored; uploaded files by content hash)."""
    data = request.data
    if hasattr(data, "lists"):  # QueryDict (multipart): values as lists, files as hashes
        canonical = {k: [v for v in vs] for k, vs in data.lists()}
    else:
        canonical = data
    files = {}
    for name, uploads in request.FILES.lists():
        files[name] = [hashlib.sha256(b"".join(upload.chunks())).hexdigest() for upload in uploads]
        for upload in uploads:
            upload.seek(0)
    blob = json.dumps([request.method, request.path, canonical, files], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _valid_key(raw: str) -> bool:
    return 0 < len(raw) <= 255 and raw.isascii() and raw.isprintable()


def _lock_id(workspace_id: int, key: str) -> int:
    """A signed 32-bit id for (workspace, key). Two keys sharing one id only make the later
    of two simultaneous requests answer 409 (Retry-After: 1)."""
    digest = hashlib.sha256(f"{workspace_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _lock_and_read(*, workspace_id: int, key: str) -> tuple[bool, dict | None]:
    """(lock taken, stored row or None), in one round trip; inside the request's transaction."""
    columns = ", ".join(f"k.{c}" for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_xact_lock(%s, %s), {columns} FROM (SELECT 1) AS one "
                       f"LEFT JOIN {_T} k ON k.workspace_id = %s AND k.key = %s",
                       [LOCK_CLASS, _lock_id(workspace_id, key), workspace_id, key])
        locked, *row = cursor.fetchone()
    if row[0] is None:
        return locked, None
    stored = dict(zip(_COLUMNS, row))
    if isinstance(stored["response_body"], str):
        stored["response_body"] = json.loads(stored["response_body"])
    return locked, stored


def _begin(*, workspace_id: int, key: str, request, fingerprint: str) -> Response | None:
    """Take the key for this transaction: None to run the request, or the stored answer
    (replay); ApiError for 409/422."""
    if connection.vendor != "postgresql":
        return _begin_without_advisory_locks(workspace_id=workspace_id, key=key, request=request,
                                             fingerprint=fingerprint)
    locked, stored = _lock_and_read(workspace_id=workspace_id, key=key)
    if not locked:
        raise ApiError("idempotency_in_flight", headers={"Retry-After": "1"})
    return _stored_answer(key=key, stored=stored, fingerprint=fingerprint)


def _begin_without_advisory_locks(*, workspace_id: int, key: str, request, fingerprint: str) -> Response | None:
    """SQLite (the laptop default): insert the claim in the request's transaction; SQLite runs
    one writer at a time, so a second request with the key waits, then finds the answer."""
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(workspace_id=workspace_id, key=key, method=request.method,
                                              path=request.path[:300], fingerprint=fingerprint)
            return None
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(workspace_id=workspace_id, key=key).values(*_COLUMNS).first()
            answer = _stored_answer(key=key, stored=stored, fingerprint=fingerprint) if stored else None
            if answer is not None:
                return answer
            IdempotencyKey.objects.filter(workspace_id=workspace_id, key=key).delete()  # expired: take it over
    raise ApiError("idempotency_in_flight", headers={"Retry-After": "1"})


def _stored_answer(*, key: str, stored: dict | None, fingerprint: str) -> Response | None:
    """The replay for a stored answer; None when the request should run; ApiError otherwise."""
    if stored is None:
        return None
    now = timezone.now()
    if stored["created_at"] < now - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_S):
        return None  # expired: a new request (its answer replaces the old row)
    if stored["state"] == IdempotencyKey.State.IN_FLIGHT:
        if stored["created_at"] < now - timedelta(seconds=settings.API_IDEMPOTENCY_STALE_S):
            return None  # an abandoned claim of the earlier two-transaction scheme
        raise ApiError("idempotency_in_flight", headers={"Retry-After": "1"})
    if stored["fingerprint"] != fingerprint:
        raise ApiError("idempotency_key_reused",
                       f"Idempotency-Key {key!r} was already used with a different request "
                       f"({stored['method']} {stored['path']}).")
    return Response(stored["response_body"], status=stored["response_status"],
                    headers={"Idempotent-Replayed": "true"})


def _store(*, workspace_id: int, key: str, request, fingerprint: str, response) -> None:
    """Store the answer in the request's transaction; an expired or abandoned row is replaced."""
    now = timezone.now()
    body = JSONRenderer().render(response.data).decode() or "null"
    if connection.vendor != "postgresql":  # the claim row exists (_begin_without_advisory_locks)
        IdempotencyKey.objects.filter(workspace_id=workspace_id, key=key).update(
            state=IdempotencyKey.State.DONE, response_status=response.status_code, response_body=json.loads(body),
            completed_at=now)
        return
    ttl_cutoff = now - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_S)
    stale_cutoff = now - timedelta(seconds=settings.API_IDEMPOTENCY_STALE_S)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_T} (workspace_id, key, method, path, fingerprint, state, response_status, "
            f"response_body, created_at, completed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s) "
            f"ON CONFLICT (workspace_id, key) DO UPDATE SET method = excluded.method, path = excluded.path, "
            f"fingerprint = excluded.fingerprint, state = excluded.state, "
            f"response_status = excluded.response_status, response_body = excluded.response_body, "
            f"created_at = excluded.created_at, completed_at = excluded.completed_at "
            f"WHERE {_T}.created_at < %s OR ({_T}.state = %s AND {_T}.created_at < %s) RETURNING id",
            [workspace_id, key, request.method, request.path[:300], fingerprint, IdempotencyKey.State.DONE,
             response.status_code, body, now, now, ttl_cutoff, IdempotencyKey.State.IN_FLIGHT, stale_cutoff])
        stored = cursor.fetchone()
    if stored is None:
        # A live claim appeared meanwhile (only a worker of the earlier scheme can do that):
        # roll this request back so the key still makes exactly one set of effects.
        raise ApiError("idempotency_in_flight", headers={"Retry-After": "1"})


def idempotent(handler):
    """Decorate a POST handler of a TenantAPIView (runs inside the key's tenant context)."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
            _after_commit(view)
            return response
        if not _valid_key(raw):
            raise ApiError("invalid_idempotency_key", param=HEADER)
        workspace_id, fingerprint = view.workspace.pk, _fingerprint(request)
        try:
            with transaction.atomic():
                replay = _begin(workspace_id=workspace_id, key=raw, request=request, fingerprint=fingerprint)
                if replay is not None:
                    logger.info("api.idempotent_replay key=%s workspace=%s", raw, workspace_id)
                    return replay
                response = handler(view, request, *args, **kwargs)
                if response.status_code >= 500 or response.status_code == 429:
                    raise _Release(response)
                _store(workspace_id=workspace_id, key=raw, request=request, fingerprint=fingerprint,
                       response=response)
        except _Release as released:
            return released.response
        try:
            _after_commit(view)
        except BaseException:
            # The request committed but must not be replayed (e.g. its first stage was refused
            # by a down broker: the job is failed and refunded): free the key for a retry.
            IdempotencyKey.objects.filter(workspace_id=workspace_id, key=raw).delete()
            raise
        return response

    return wrapper


def _after_commit(view) -> None:
    """Checks that can only run once the request committed (its on_commit work ran), e.g. the
    first stage was refused by a down broker: they raise, and the key is released above."""
    check = getattr(view, "after_commit", None)
    if check is not None:
        check()


class _Release(Exception):
    """Roll the request back and store nothing (a server-side failure must not be replayed)."""

    def __init__(self, response):
        super().__init__("release")
        self.response = response


def idempotency_keys_purge(*, workspace) -> int:
    """Delete this workspace's keys older than the retention window."""
    cutoff = timezone.now() - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_S)
    deleted, _ = IdempotencyKey.objects.filter(workspace=workspace, created_at__lt=cutoff).delete()
    return deleted
