"""One error shape for the whole API: RFC 9457 ``application/problem+json``.

Every error body is ``{"type", "title", "status", "detail", "code"}`` and, for validation
errors, ``"param"`` (the first offending field) plus ``"errors": [{"param", "code", "detail"}]``.
``code`` is stable (clients branch on it); ``detail`` is for people; ``type`` links to the
code's entry on ``/api/docs/errors``.

Exceptions that are not DRF's own are turned into problems by ``PROBLEM_MAP`` — one row per
exception class (add a row, never an ``if`` in a view).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.db_unavailable import DB_ERRORS
from generation.jobs.errors import QueueUnavailable
from tenancy.services import InsufficientCredits

from .parsers import BodyTooLarge

logger = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"
DOCS_PATH = "/api/docs/errors"


@dataclass(frozen=True)
class ErrorCode:
    status: int
    title: str
    meaning: str


# The stable codes. Renaming one is a breaking change (see docs/api.md, versioning).
ERROR_CODES: dict[str, ErrorCode] = {
    "invalid_request": ErrorCode(400, "Invalid request", "A parameter is missing or invalid; see `param` and `errors`."),
    "malformed_body": ErrorCode(400, "Malformed body", "The body is not valid JSON (or the declared media type)."),
    "invalid_idempotency_key": ErrorCode(400, "Invalid Idempotency-Key", "The key must be 1-255 printable ASCII characters."),
    "not_authenticated": ErrorCode(401, "Not authenticated", "Send `Authorization: Bearer <api key>`."),
    "invalid_api_key": ErrorCode(401, "Invalid API key", "The key is unknown or revoked."),
    "insufficient_credits": ErrorCode(402, "Insufficient credits", "The workspace balance cannot cover this request."),
    "insufficient_scope": ErrorCode(403, "Insufficient scope", "The API key lacks the scope this route needs."),
    "forbidden": ErrorCode(403, "Forbidden", "The request is not allowed."),
    "not_found": ErrorCode(404, "Not found", "No such resource in this workspace."),
    "method_not_allowed": ErrorCode(405, "Method not allowed", "The route does not accept this HTTP method."),
    "not_acceptable": ErrorCode(406, "Not acceptable", "The API answers JSON only."),
    "idempotency_in_flight": ErrorCode(409, "Request in progress", "A request with this Idempotency-Key is still running; retry later."),
    "conflict": ErrorCode(409, "Conflict", "The resource's state does not allow this action."),
    "payload_too_large": ErrorCode(413, "Payload too large", "The upload exceeds the size limit."),
    "unsupported_media_type": ErrorCode(415, "Unsupported media type", "Send JSON (or multipart for uploads)."),
    "idempotency_key_reused": ErrorCode(422, "Idempotency-Key reused", "The key was used with a different request body."),
    "rate_limited": ErrorCode(429, "Too many requests", "A per-key or per-workspace rate limit was hit; wait `Retry-After` seconds."),
    "internal_error": ErrorCode(500, "Internal error", "Something failed on our side; it was logged. Retrying with the same Idempotency-Key is safe."),
    "service_unavailable": ErrorCode(503, "Service unavailable", "A dependency is down; retry later."),
    "queue_unavailable": ErrorCode(503, "Service temporarily unavailable",
                                   "The job queue is down; nothing was charged. Retry after `Retry-After` seconds."),
}


class ApiError(exceptions.APIException):
    """An error with a stable code, raised by views: ``raise ApiError("conflict", "...")``."""

    def __init__(self, code: str, detail: str | None = None, *, param: str | None = None, headers=None):
        spec = ERROR_CODES[code]
        self.status_code = spec.status
        self.problem_code = code
        self.param = param
        self.headers = headers or {}
        super().__init__(detail or spec.meaning, code)


def problem_type(request, code: str) -> str:
    path = f"{DOCS_PATH}#{code}"
    return request.build_absolute_uri(path) if request is not None else path


def problem_body(*, request, code: str, detail: str, status_code: int | None = None, **extra) -> dict:
    spec = ERROR_CODES[code]
    body = {"type": problem_type(request, code), "title": spec.title, "status": status_code or spec.status,
            "detail": detail, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(*, request, code: str, detail: str | None = None, headers=None, **extra) -> Response:
    spec = ERROR_CODES[code]
    body = problem_body(request=request, code=code, detail=detail or spec.meaning, **extra)
    return Response(body, status=spec.status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _flatten(data, prefix: str = "") -> list[dict]:
    """DRF's nested validation dict → [{"param": "items[3].aspect", "code", "detail"}]."""
    out: list[dict] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, int):  # ListField errors are keyed by index
                out += _flatten(value, f"{prefix}[{key}]")
                continue
            name = str(key) if key != "non_field_errors" else ""
            out += _flatten(value, f"{prefix}.{name}" if prefix and name else (prefix or name))
    elif isinstance(data, list):
        if all(isinstance(v, (str, exceptions.ErrorDetail)) for v in data):
            for v in data:
                out.append({"param": prefix or None, "code": getattr(v, "code", "invalid"), "detail": str(v)})
        else:
            for i, value in enumerate(data):
                if value:
                    out += _flatten(value, f"{prefix}[{i}]")
    else:
        out.append({"param": prefix or None, "code": getattr(data, "code", "invalid"), "detail": str(data)})
    return out


def validation_errors(exc: exceptions.ValidationError) -> list[dict]:
    return _flatten(exc.detail)


# exception class → (code, detail[, headers]) for exceptions raised below the views.
PROBLEM_MAP: dict[type[Exception], Callable[[Exception], tuple]] = {
    QueueUnavailable: lambda exc: ("queue_unavailable", exc.message, {"Retry-After": str(exc.retry_after)}),
    InsufficientCredits: lambda exc: ("insufficient_credits", str(exc) or ERROR_CODES["insufficient_credits"].meaning),
    Http404: lambda exc: ("not_found", ERROR_CODES["not_found"].meaning),
    DjangoPermissionDenied: lambda exc: ("forbidden", ERROR_CODES["forbidden"].meaning),
}

# DRF exception class → stable code (the first match in MRO order wins).
DRF_CODES: dict[type[exceptions.APIException], str] = {
    BodyTooLarge: "payload_too_large",
    exceptions.ParseError: "malformed_body",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "invalid_api_key",
    exceptions.PermissionDenied: "insufficient_scope",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ValidationError: "invalid_request",
}


def _drf_code(exc: exceptions.APIException) -> str:
    if isinstance(exc, ApiError):
        return exc.problem_code
    for cls in type(exc).__mro__:
        if cls in DRF_CODES:
            return DRF_CODES[cls]
    return "internal_error" if exc.status_code >= 500 else "invalid_request"


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error leaves as a problem document, never HTML."""
    request = context.get("request")
    if isinstance(exc, DB_ERRORS):
        # Re-raised by DRF: config.db_unavailable answers 503 (and drops the dead connection),
        # the same for the API and the dashboard.
        return None
    for cls in type(exc).__mro__:
        if cls in PROBLEM_MAP:
            code, detail, *headers = PROBLEM_MAP[cls](exc)
            return problem_response(request=request, code=code, detail=detail, headers=headers[0] if headers else None)
    response = exception_handler(exc, context)
    if response is None:  # not an API exception: a bug; log it, answer a problem, not a page
        logger.exception("api.unhandled_error path=%s", getattr(request, "path", "?"), exc_info=exc)
        return problem_response(request=request, code="internal_error")
    code = _drf_code(exc)
    extra: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        errors = validation_errors(exc)
        detail = errors[0]["detail"] if len(errors) == 1 else f"{len(errors)} parameters are invalid."
        extra = {"param": next((e["param"] for e in errors if e["param"]), None), "errors": errors}
    elif isinstance(exc, ApiError):
        detail, extra = str(exc.detail), {"param": exc.param}
        for name, value in exc.headers.items():
            response[name] = value
    elif isinstance(exc, exceptions.Throttled):
        detail = f"Rate limit reached; retry in {int(exc.wait or 1)} s."
    else:
        detail = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else ERROR_CODES[code].meaning
    response.data = problem_body(request=request, code=code, detail=detail, status_code=response.status_code, **extra)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_not_found_view(request, *args, **kwargs):
    """Unknown /api/ paths answer a problem document too (not the HTML 404 page)."""
    from django.http import JsonResponse

    return JsonResponse(problem_body(request=request, code="not_found", detail="No such API route."),
                        status=status.HTTP_404_NOT_FOUND, content_type=PROBLEM_CONTENT_TYPE)
