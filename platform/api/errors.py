"""One error shape for the whole API: {"error": {"code", "message", "fields"?}}."""
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
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
