"""A shared token that changes whenever an API key's access may have been withdrawn: a key is
saved (revoked, re-homed) or deleted, a membership changes or goes, a user is deactivated or
deleted, a workspace is deleted. Caches of authenticated keys (api.auth) remember the token
they were filled under and refill when it differs, so a revocation made through Django
(services, admin, ORM saves and deletes) applies to the next request in every process.

The token lives in the shared cache (Redis in production). It is random, not a counter, so a
cache that lost its data can never hand an old value back. ``auth_epoch_read`` returns None
when the cache is unreachable: callers must then not use cached keys (fail closed)."""
from __future__ import annotations

import logging
import secrets

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

logger = logging.getLogger(__name__)
CACHE_KEY = "tenancy:auth_epoch"
_clients: dict = {}


def _redis(backend: RedisCache):
    """(client, full key): one redis-py client per cache backend; a plain GET/SET on a raw key
    skips the cache API's pickling (this is read on every API request)."""
    client = _clients.get(id(backend))
    if client is None:
        client = _clients[id(backend)] = backend._cache.get_client(write=True)
    return client, backend.make_and_validate_key(CACHE_KEY)


def auth_epoch_read() -> str | None:
    """The current token (created if absent), or None when the shared cache cannot be read."""
    backend = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            client, key = _redis(backend)
            value = client.get(key)
            if value is None:
                client.set(key, secrets.token_hex(8), nx=True)
                value = client.get(key)
            return value.decode() if isinstance(value, bytes) else value
        value = backend.get(CACHE_KEY)
        if value is None:
            backend.add(CACHE_KEY, secrets.token_hex(8), timeout=None)
            value = backend.get(CACHE_KEY)
        return value
    except Exception:  # noqa: BLE001 - an outage must not take the API down; callers fall back to the DB
        logger.warning("tenancy.auth_epoch_unavailable", exc_info=True)
        return None


def _set_new_token() -> None:
    backend = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            client, key = _redis(backend)
            client.set(key, secrets.token_hex(8))
        else:
            backend.set(CACHE_KEY, secrets.token_hex(8), timeout=None)
    except Exception:  # noqa: BLE001 - caches then hold keys at most API_KEY_CACHE_TTL_S longer
        logger.error("tenancy.auth_epoch_bump_failed", exc_info=True)


def auth_epoch_bump() -> None:
    """Invalidate every process's cached keys: now, and again once the current transaction
    commits (a process that re-read the rows before the commit saw the old state)."""
    _set_new_token()
    transaction.on_commit(_set_new_token)
