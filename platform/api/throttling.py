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


# SET NX EX + INCR per counter, then GET per read: one command instead of a pipeline of five
# (the auth check of every API request; redis-py's per-command packing and parsing was most of
# its cost). Missing values come back as nil.
_COUNT_AND_READ = """
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  redis.call('SET', KEYS[i], 0, 'EX', ARGV[i + 1], 'NX')
  out[i] = redis.call('INCR', KEYS[i])
end
for i = n + 1, #KEYS do
  out[i] = redis.call('GET', KEYS[i])
end
return out
"""
_scripts: dict = {}


def _count_and_read_script(backend: RedisCache):
    script = _scripts.get(id(backend))
    if script is None:  # redis-py's Script: EVALSHA, and EVAL again after a Redis restart
        script = _scripts[id(backend)] = _redis_client(backend).register_script(_COUNT_AND_READ)
    return script


def window_counts(counters: list[tuple[str, int]], *, reads: tuple[str, ...] = ()) -> tuple[list[int], list]:
    """Increment each (name, ttl) counter once, and read the raw values of ``reads`` (cache
    names written raw, e.g. the auth epoch): (new counts, values), one round trip on Redis."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # make_key without the memcached-safety scan: these names are ours (ASCII, short).
        keys = [backend.make_key(name) for name, _ in counters] + [backend.make_key(name) for name in reads]
        results = _count_and_read_script(backend)(keys=keys, args=[len(counters), *[ttl for _, ttl in counters]])
        results += [None] * (len(keys) - len(results))  # trailing nils may be dropped from a Lua table
        values = [v.decode() if isinstance(v, bytes) else v for v in results[len(counters):]]
        return [int(v) for v in results[: len(counters)]], values
    out = []
    for name, ttl in counters:
        backend.add(name, 0, timeout=ttl)
        try:
            out.append(backend.incr(name))
        except ValueError:  # expired between add and incr
            backend.add(name, 1, timeout=ttl)
            out.append(1)
    return out, [backend.get(name) for name in reads]


def _limits(key: ApiKey, now: float) -> tuple[list, list[tuple[str, int]]]:
    limits = [("key", key.pk, *parse_rate(settings.API_RATE_LIMIT_KEY)),
              ("workspace", key.workspace_id, *parse_rate(settings.API_RATE_LIMIT_WORKSPACE))]
    counters = [(f"throttle:{scope}:{ident}:{int(now // period)}", period + 1) for scope, ident, _, period in limits]
    return limits, counters


def throttle_count_and_read(request, key: ApiKey, *, reads: tuple[str, ...]) -> list | None:
    """Count this request against ``key``'s limits now and read ``reads`` in the same round
    trip (the authentication's cache check); ApiRateThrottle then uses the counts kept on the
    request. None when the cache is down (the throttle then tries again and fails open)."""
    now = time.time()
    limits, counters = _limits(key, now)
    try:
        counts, values = window_counts(counters, reads=reads)
    except Exception:  # noqa: BLE001 - a cache outage must not take the API down
        logger.warning("api.throttle_unavailable", exc_info=True)
        return None
    request._api_throttle_counted = (key.pk, now, limits, counts)
    return values


def throttle_wait(limits: list, counts: list[int], now: float) -> float:
    """Seconds until every limit that ``counts`` exceed has a new window; 0 when none is exceeded."""
    over = [(int(now // period) + 1) * period - now
            for (_, _, limit, period), count in zip(limits, counts) if count > limit]
    return max(over) if over else 0.0


class ApiRateThrottle(BaseThrottle):
    """API_RATE_LIMIT_KEY per API key and API_RATE_LIMIT_WORKSPACE per workspace."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True  # unauthenticated requests are refused before they cost anything
        counted = getattr(request, "_api_throttle_counted", None)
        if counted is not None and counted[0] == key.pk:
            _, now, limits, counts = counted
        else:
            now = time.time()
            limits, counters = _limits(key, now)
            try:
                counts, _ = window_counts(counters)
            except Exception:  # noqa: BLE001 - a cache outage must not take the API down
                logger.warning("api.throttle_unavailable", exc_info=True)
                return True
        self._wait = throttle_wait(limits, counts, now)
        return self._wait <= 0

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))
