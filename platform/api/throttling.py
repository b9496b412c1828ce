"""Per-key and per-workspace rate limits: fixed windows counted with atomic increments in the
cache (Redis in production, shared by every web worker): both counters in one pipelined
round trip. A refused request gets a 429 problem with ``Retry-After`` (seconds to the end
of the window that refused it). A cache outage fails open, loudly."""
from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from tenancy.models import ApiKey

logger = logging.getLogger(__name__)
PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_clients: dict = {}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' → (600, 60). Raises ValueError on anything else."""
    count, _, period = rate.partition("/")
    if period not in PERIODS or not count.isdigit():
        raise ValueError(f"bad rate {rate!r}: use N/s, N/min or N/h")
    return int(count), PERIODS[period]


def _redis_client(backend: RedisCache):
    """One redis-py client per process (building one per request costs ~1 ms of CPU)."""
    client = _clients.get(id(backend))
    if client is None:
        client = _clients[id(backend)] = backend._cache.get_client(write=True)
    return client


def window_counts(counters: list[tuple[str, int]]) -> list[int]:
    """Increment each (name, ttl) counter once; their new values, in one round trip on Redis."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        pipe = _redis_client(backend).pipeline(transaction=False)
        for name, ttl in counters:
            full = backend.make_and_validate_key(name)
            pipe.set(full, 0, ex=ttl, nx=True)
            pipe.incr(full)
        return [int(v) for v in pipe.execute()[1::2]]
    out = []
    for name, ttl in counters:
        backend.add(name, 0, timeout=ttl)
        try:
            out.append(backend.incr(name))
        except ValueError:  # expired between add and incr
            backend.add(name, 1, timeout=ttl)
            out.append(1)
    return out


class ApiRateThrottle(BaseThrottle):
    """API_RATE_LIMIT_KEY per API key and API_RATE_LIMIT_WORKSPACE per workspace."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True  # unauthenticated requests are refused before they cost anything
        now = time.time()
        limits = [("key", key.pk, *parse_rate(settings.API_RATE_LIMIT_KEY)),
                  ("workspace", key.workspace_id, *parse_rate(settings.API_RATE_LIMIT_WORKSPACE))]
        counters = [(f"throttle:{scope}:{ident}:{int(now // period)}", period + 1)
                    for scope, ident, _, period in limits]
        try:
            counts = window_counts(counters)
        except Exception:  # noqa: BLE001 - a cache outage must not take the API down
            logger.warning("api.throttle_unavailable", exc_info=True)
            return True
        over = [(int(now // period) + 1) * period - now
                for (_, _, limit, period), count in zip(limits, counts) if count > limit]
        self._wait = max(over) if over else 0.0
        return not over

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))
