"""Requests that hit a database that is down or dropped their connection answer 503
problem+json (with Retry-After) instead of a 500 page, and the app recovers by itself:
``CONN_HEALTH_CHECKS`` makes Django test a persistent connection at the start of each request
and reconnect when PostgreSQL killed it (`drill drop-db`, docs/scaling.md).

Errors raised inside any middleware or view are turned into 500 responses layer by layer, so
a ``got_request_exception`` receiver marks the request and the outermost middleware swaps the
500 for the 503."""
from __future__ import annotations

import json
import logging
import sys

from django.core.signals import got_request_exception
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse

logger = logging.getLogger(__name__)
DB_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 5


def _mark(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DB_ERRORS):
        request._database_unavailable = exc


got_request_exception.connect(_mark, dispatch_uid="db_unavailable_mark")


def database_unavailable_response() -> HttpResponse:
    body = {"type": "https://adfactory.dev/problems/database-unavailable", "title": "Service temporarily unavailable",
            "status": 503, "code": "database_unavailable",
            "detail": "The database is unreachable right now; nothing was changed. Please retry shortly.",
            "retry_after": RETRY_AFTER_S}
    response = HttpResponse(json.dumps(body), status=503, content_type="application/problem+json")
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


class DatabaseUnavailableMiddleware:
    """First in MIDDLEWARE. Also drops the broken connections at once, so the next request
    reconnects instead of failing on the same dead socket."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, "_database_unavailable", None)
        if exc is None:
            return response
        return self._unavailable(request, exc)

    def process_exception(self, request, exception):
        if isinstance(exception, DB_ERRORS):
            return self._unavailable(request, exception)
        return None

    def _unavailable(self, request, exc) -> HttpResponse:
        logger.error("database.unavailable path=%s error=%s: %s", request.path, type(exc).__name__,
                     str(exc).splitlines()[0][:200] if str(exc) else "")
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        return database_unavailable_response()
