"""Runs each signed-in dashboard request inside its workspace's tenant context.

The API authenticates inside DRF (after middleware), so API views enter the context
themselves (api.views.TenantAPIView) and API requests pass straight through: no session
read, no membership query, no database round trip. They start with no tenant in context
(scoped querysets fail closed) and the database setting is empty (every tenant_context
restores it on exit)."""
from __future__ import annotations

from .context import no_tenant, tenant_context
from .models import Membership

SESSION_KEY = "workspace_id"
API_PREFIX = "/api/"


def membership_for(request) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = list(Membership.objects.filter(user=user).select_related("workspace").order_by("created_at"))
    wanted = request.session.get(SESSION_KEY)
    chosen = next((m for m in memberships if m.workspace_id == wanted), None)
    return chosen or (memberships[0] if memberships else None)


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            request.membership = request.workspace = None
            return self.get_response(request)
        membership = membership_for(request)
        request.membership = membership
        request.workspace = membership.workspace if membership else None
        if membership is None:
            with no_tenant():
                return self.get_response(request)
        with tenant_context(membership.workspace):
            return self.get_response(request)
