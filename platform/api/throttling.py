"""Per-key and per-workspace rate limits: fixed windows counted with an atomic cache
increment (Redis in production, shared by every web worker). A refused request gets a
429 problem with ``Retry-After`` (seconds to the window's end)."""
from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from tenancy.models import ApiKey

logger = logging.getLogger(__name__)
PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' → (600, 60). Raises ValueError on anything else."""
    count, _, period = rate.partition("/")
    if period not in PERIODS or not count.isdigit():
        raise ValueError(f"bad rate {rate!r}: use N/s, N/min or N/h")
    return int(count), PERIODS[period]


def _count(name: str, ttl: int) -> int:
    """Increment a window counter: one pipelined round trip on Redis, add+incr elsewhere."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full = backend.make_and_validate_key(name)
        pipe = backend._cache.get_client(full, write=True).pipeline(transaction=False)
        pipe.set(full, 0, ex=ttl, nx=True)
        pipe.incr(full)
        return int(pipe.execute()[1])
    cache.add(name, 0, timeout=ttl)
    try:
        return cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.add(name, 1, timeout=ttl)
        return 1


class _WindowThrottle(BaseThrottle):
    scope = ""
    setting = ""

    def ident(self, key: ApiKey) -> str:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True  # unauthenticated requests are refused before they cost anything
        limit, period = parse_rate(getattr(settings, self.setting))
        now = time.time()
        window = int(now // period)
        name = f"throttle:{self.scope}:{self.ident(key)}:{window}"
        self._wait = (window + 1) * period - now
        try:
            count = _count(name, period + 1)
        except Exception:  # noqa: BLE001 - a cache outage must not take the API down: fail open, loudly
            logger.warning("api.throttle_unavailable scope=%s", self.scope, exc_info=True)
            return True
        return count <= limit

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))


class ApiKeyThrottle(_WindowThrottle):
    scope, setting = "key", "API_RATE_LIMIT_KEY"

    def ident(self, key: ApiKey) -> str:
        return str(key.pk)


class WorkspaceThrottle(_WindowThrottle):
    scope, setting = "workspace", "API_RATE_LIMIT_WORKSPACE"

    def ident(self, key: ApiKey) -> str:
        return str(key.workspace_id)
