"""API-key authentication: `Authorization: Bearer adf_xxxx.yyyy`.

A key acts for its workspace only while the person who created it may: the creator must be
active and still a member of that workspace (checked on every request, not only when the
off-boarding services ran). A key without a creator is a workspace service key (created so,
or re-homed by explicit choice); a deleted user's keys are revoked before the row goes.

Keys that passed these checks are kept in a small per-process cache for at most
``API_KEY_CACHE_TTL_S`` seconds, and only while the shared auth epoch (tenancy.auth_epoch)
is the one they were checked under: every change made through Django that can withdraw a
key (revoke, re-home, membership removed, user deactivated or deleted, workspace deleted)
changes the epoch, so the next request in any process checks the database again. When the
shared cache is unreachable nothing is served from the cache (every request hits the DB)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.db.models.base import ModelState
from django.utils import timezone
from rest_framework import authentication, exceptions

from tenancy.auth_epoch import CACHE_KEY as AUTH_EPOCH_CACHE_KEY
from tenancy.auth_epoch import auth_epoch_read
from tenancy.models import ApiKey, Membership

from .throttling import throttle_count_and_read

LAST_USED_RESOLUTION = timedelta(seconds=60)
CACHE_MAX_KEYS = 2048


@dataclass
class _Checked:
    key: ApiKey            # with workspace and created_by loaded; never handed out itself (copied)
    epoch: str
    expires: float         # time.monotonic()
    last_used_at: datetime | None


_cache: dict[str, _Checked] = {}
_lock = threading.Lock()


def key_cache_clear() -> None:
    """Forget every cached key of this process (tests; the epoch does it across processes)."""
    with _lock:
        _cache.clear()


def _load(key_hash: str) -> ApiKey:
    """The key row with its workspace and creator, checked: one query."""
    key = (ApiKey.objects.select_related("workspace", "created_by")
           .annotate(creator_is_member=Exists(Membership.objects.filter(
               workspace_id=OuterRef("workspace_id"), user_id=OuterRef("created_by_id"))))
           .filter(key_hash=key_hash).first())
    if key is None or not key.is_active:
        raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
    creator = key.created_by
    if creator is not None and (not creator.is_active or not key.creator_is_member):
        raise exceptions.AuthenticationFailed("This API key's creator no longer has access to the workspace.")
    return key


def _clone(instance):
    """A shallow copy of a model instance with its own state (no related objects cached)."""
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    clone._state = ModelState()
    clone._state.db, clone._state.adding = instance._state.db, False
    return clone


def _private_copy(key: ApiKey) -> ApiKey:
    """A request's own copy of a cached key, its workspace and creator (views may touch the
    instances they get; the cached ones are shared by every thread of the process)."""
    mine = _clone(key)
    mine._state.fields_cache["workspace"] = _clone(key.workspace)
    mine._state.fields_cache["created_by"] = _clone(key.created_by) if key.created_by is not None else None
    return mine


def cached_key(key_hash: str) -> _Checked | None:
    """This process's cache entry for a key (api.fast_status checks its epoch and expiry)."""
    return _cache.get(key_hash)


def _epoch_for(request, key_hash: str, checked: _Checked | None) -> str | None:
    """The auth epoch; for a key checked before, read in the same Redis round trip that
    counts the request against its rate limits (the key's id and workspace never change).
    api.fast_status may have done that round trip already for this request: reuse it."""
    prefetched = getattr(request, "_api_prefetched_epoch", None)
    if prefetched is not None and prefetched[0] == key_hash:
        return prefetched[1] if prefetched[1] is not None else auth_epoch_read()
    if checked is not None:
        values = throttle_count_and_read(request, checked.key, reads=(AUTH_EPOCH_CACHE_KEY,))
        if values is not None and values[0] is not None:
            return values[0]
    return auth_epoch_read()


def _authenticated_key(request, key_hash: str) -> ApiKey:
    checked = _cache.get(key_hash)
    epoch = _epoch_for(request, key_hash, checked)  # before any DB read: a change committed after it changes the epoch again
    now = time.monotonic()
    if checked is None or checked.epoch != epoch or checked.expires <= now or epoch is None:
        key = _load(key_hash)
        if epoch is None:
            return key
        checked = _Checked(key=key, epoch=epoch, expires=now + settings.API_KEY_CACHE_TTL_S,
                           last_used_at=key.last_used_at)
        with _lock:
            if len(_cache) >= CACHE_MAX_KEYS:
                _cache.clear()  # rare (thousands of distinct keys in one process): start over
            _cache[key_hash] = checked
    return _private_copy(checked.key)


def touch(key: ApiKey, key_hash: str) -> None:
    """Record the last use at most once a minute per process (a write per request would
    double the cost of a status poll; a minute is precise enough)."""
    now = timezone.now()
    checked = _cache.get(key_hash)
    last = checked.last_used_at if checked is not None else key.last_used_at
    if last is None or now - last > LAST_USED_RESOLUTION:
        if checked is not None:
            checked.last_used_at = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        key_hash = ApiKey.hash_key(parts[1])
        key = _authenticated_key(request, key_hash)
        touch(key, key_hash)
        return (key.created_by or _ApiKeyUser(key), key)

    def authenticate_header(self, request):
        return self.keyword


class _ApiKeyUser:
    """Stands for a key whose creator was deleted: authenticated, no Django user row."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key
