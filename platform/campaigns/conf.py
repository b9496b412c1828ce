"""Campaign settings: a Django setting when present (tests override them), else the environment,
else an embedded default."""
from __future__ import annotations

from django.conf import settings

from config.env import env_float, env_int

_DEFAULTS = {
    # Densest schedule a campaign may have (seconds between runs). The drill lowers it.
    "CAMPAIGNS_MIN_INTERVAL_S": lambda: env_float("CAMPAIGNS_MIN_INTERVAL_S", 60.0),
    # A run that has not reported for this long (worker killed mid-read) is re-queued by the tick.
    "CAMPAIGNS_RUN_LEASE_S": lambda: env_float("CAMPAIGNS_RUN_LEASE_S", 300.0),
    # Jobs of one run in flight at once: a 500-product run drips in, so other work keeps flowing.
    "CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN": lambda: env_int("CAMPAIGNS_MAX_ACTIVE_JOBS_PER_RUN", 4),
    # Source reads per run before it fails (transient errors only: timeouts, 5xx, 429).
    "CAMPAIGNS_READ_MAX_ATTEMPTS": lambda: env_int("CAMPAIGNS_READ_MAX_ATTEMPTS", 3),
    # Inbound store webhook body limit.
    "CAMPAIGNS_WEBHOOK_MAX_BYTES": lambda: env_int("CAMPAIGNS_WEBHOOK_MAX_BYTES", 256 * 1024),
}


def setting(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    return _DEFAULTS[name]()
