"""``Idempotency-Key`` for every POST (Stripe's contract).

1. The key is *claimed* first: an IN_FLIGHT row inserted and committed in its own
   transaction. Two concurrent requests with one key collide on the unique constraint
   (workspace, key), so only one runs; the other gets 409 (or the replay once done).
2. The request then runs inside one transaction together with the claim's completion: the
   job rows, the credit hold and the stored response commit together or not at all.
3. A replay (same key, same body) returns the stored status and body with
   ``Idempotent-Replayed: true``; a different body gets 422. Exceptions (validation, 402,
   5xx) release the claim, so fixing the request and retrying with the same key works.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import ApiError
from .models import IdempotencyKey

logger = logging.getLogger(__name__)
HEADER = "Idempotency-Key"


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


def _claim(*, workspace, key: str, request, fingerprint: str) -> IdempotencyKey | Response:
    """Insert the claim (committed), or answer from the existing one."""
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(workspace=workspace, key=key, method=request.method,
                                                     path=request.path[:300], fingerprint=fingerprint)
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(key=key).first()
        if existing is None:
            continue  # purged between our insert and read: try the insert again
        expired = existing.created_at < now - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_S)
        abandoned = (existing.state == IdempotencyKey.State.IN_FLIGHT
                     and existing.created_at < now - timedelta(seconds=settings.API_IDEMPOTENCY_STALE_S))
        if expired or abandoned:
            # Take the old claim over only if nobody else did in the meantime.
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise ApiError("idempotency_key_reused",
                           f"Idempotency-Key {key!r} was already used with a different request "
                           f"({existing.method} {existing.path}).")
        if existing.state == IdempotencyKey.State.IN_FLIGHT:
            raise ApiError("idempotency_in_flight", headers={"Retry-After": "1"})
        return Response(existing.response_body, status=existing.response_status,
                        headers={"Idempotent-Replayed": "true"})
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
        claim = _claim(workspace=view.workspace, key=raw, request=request, fingerprint=_fingerprint(request))
        if isinstance(claim, Response):
            logger.info("api.idempotent_replay key=%s workspace=%s", raw, view.workspace.pk)
            return claim
        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if response.status_code >= 500 or response.status_code == 429:
                    raise _Release(response)
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                kept = IdempotencyKey.objects.filter(pk=claim.pk, state=IdempotencyKey.State.IN_FLIGHT).update(
                    state=IdempotencyKey.State.DONE, response_status=response.status_code,
                    response_body=body, completed_at=timezone.now())
                if not kept:
                    # Ran past API_IDEMPOTENCY_STALE_S and a retry took the key over: roll this
                    # request back so the key still makes exactly one set of effects.
                    raise ApiError("idempotency_in_flight", "This request took too long and was superseded by "
                                   "a retry with the same Idempotency-Key.", headers={"Retry-After": "1"})
            _after_commit(view)
            return response
        except _Release as released:
            IdempotencyKey.objects.filter(pk=claim.pk).delete()
            return released.response
        except BaseException:
            IdempotencyKey.objects.filter(pk=claim.pk).delete()  # also a DONE claim whose after-commit check failed
            raise

    return wrapper


def _after_commit(view) -> None:
    """Checks that can only run once the request committed (its on_commit work ran), e.g. the
    first stage was refused by a down broker: they raise, and the key is released above."""
    check = getattr(view, "after_commit", None)
    if check is not None:
        check()


class _Release(Exception):
    """Roll the request back and free the key (a server-side failure must not be replayed)."""

    def __init__(self, response):
        super().__init__("release")
        self.response = response


def idempotency_keys_purge(*, workspace) -> int:
    """Delete this workspace's keys older than the retention window."""
    cutoff = timezone.now() - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_S)
    deleted, _ = IdempotencyKey.objects.filter(workspace=workspace, created_at__lt=cutoff).delete()
    return deleted
