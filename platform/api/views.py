"""Shared API plumbing: every authenticated request runs inside its key's workspace."""
from __future__ import annotations

from rest_framework.views import APIView

from tenancy.context import tenant_context


class TenantAPIView(APIView):
    """Enters the API key's tenant context for the handler (DRF authenticates after middleware)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._tenant_cm = tenant_context(request.auth.workspace)
        self._tenant_cm.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        cm = getattr(self, "_tenant_cm", None)
        if cm is not None:
            self._tenant_cm = None
            cm.__exit__(None, None, None)
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def workspace(self):
        return self.request.auth.workspace
