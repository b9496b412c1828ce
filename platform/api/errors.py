"""One error shape for the whole API: {"error": {"code", "message", "fields"?}}."""
from rest_framework.response import Response
from rest_framework.views import exception_handler

from generation.jobs.errors import QueueUnavailable


def queue_unavailable_response(exc: QueueUnavailable) -> Response:
    """503 problem+json with Retry-After: the job queue is down and nothing was charged."""
    return Response(
        {"type": "https://adfactory.dev/problems/queue-unavailable", "title": "Service temporarily unavailable",
         "status": 503, "code": "queue_unavailable", "detail": exc.message, "retry_after": exc.retry_after},
        status=503, headers={"Retry-After": str(exc.retry_after)}, content_type="application/problem+json")


def api_exception_handler(exc, context):
    if isinstance(exc, QueueUnavailable):
        return queue_unavailable_response(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(data, dict) and set(data) == {"detail"}:
        body = {"code": code, "message": str(data["detail"])}
    else:
        body = {"code": "invalid", "message": "The request is invalid.", "fields": data}
    response.data = {"error": body}
    return response
