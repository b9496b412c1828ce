"""Scope checks for API keys; session users (dashboard) act with their membership's role."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenancy.models import ApiKey


class HasScope(BasePermission):
    message = "This API key lacks the scope for this request."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = view.read_scope if request.method in SAFE_METHODS else view.write_scope
        return needed in (key.scopes or [])
