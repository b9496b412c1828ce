"""Scope checks for API keys: read < write < admin (each includes the ones below it).

A view declares ``read_scope`` (GET/HEAD/OPTIONS) and ``write_scope`` (every other method);
keys/webhooks/usage management declare ``admin``."""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenancy.models import ApiKey

RANK = {"read": 1, "write": 2, "admin": 3}
LEGACY = {"videos:read": "read", "videos:write": "write"}


def key_rank(scopes: list[str]) -> int:
    return max((RANK.get(LEGACY.get(s, s), 0) for s in scopes or []), default=0)


def key_has_scope(key: ApiKey, needed: str) -> bool:
    return key_rank(key.scopes) >= RANK[LEGACY.get(needed, needed)]


class HasScope(BasePermission):
    message = "This API key lacks the scope for this request."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = view.read_scope if request.method in SAFE_METHODS else view.write_scope
        if key_has_scope(key, needed):
            return True
        self.message = f"This API key lacks the '{needed}' scope needed for {request.method} on this route."
        return False
