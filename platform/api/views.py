"""Shared API plumbing: every authenticated request runs inside its key's workspace."""
from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from rest_framework.views import APIView

from tenancy.context import tenant_context

from .parsers import BodyTooLarge


class TenantAPIView(APIView):
    """Enters the API key's tenant context for the handler (DRF authenticates after middleware)
    and always leaves it, also when the handler raises something DRF does not handle (DRF
    skips finalize_response then, which used to leak the tenant into the thread's next request)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._tenant_cm = tenant_context(request.auth.workspace)
        self._tenant_cm.__enter__()

    def _tenant_exit(self) -> None:
        cm = getattr(self, "_tenant_cm", None)
        if cm is not None:
            self._tenant_cm = None
            cm.__exit__(None, None, None)

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):  # Django's body cap, raised before any parser
            exc = BodyTooLarge()
        try:
            return super().handle_exception(exc)
        except BaseException:
            self._tenant_exit()
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        self._tenant_exit()
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def workspace(self):
        return self.request.auth.workspace
