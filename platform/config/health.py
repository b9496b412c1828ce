"""GET /healthz for compose and Kubernetes probes, answered before host validation and the
https redirect: probes address the pod by IP over plain HTTP. Says only "ok" (or 503)."""
from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse

logger = logging.getLogger(__name__)
PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != PATH:
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            logger.warning("healthz.database_unavailable error=%s", type(exc).__name__)
            return HttpResponse("database unavailable", status=503, content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")
