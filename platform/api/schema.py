"""OpenAPI details drf-spectacular cannot infer: the bearer scheme, the problem documents of
every error status, and the Idempotency-Key header on every POST."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .errors import PROBLEM_CONTENT_TYPE


class ApiKeyAuthScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "adf_<prefix>.<secret>",
                "description": "An API key from `POST /api/v1/keys` or the dashboard."}


class ProblemParamSerializer(serializers.Serializer):
    param = serializers.CharField(allow_null=True, help_text="Field path, e.g. `items[2].aspect`")
    code = serializers.CharField()
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem document."""

    type = serializers.URLField(help_text="Documentation of this error code")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable code")
    param = serializers.CharField(required=False, help_text="First invalid parameter (validation errors)")
    errors = ProblemParamSerializer(many=True, required=False)

    class Meta:
        ref_name = "Problem"


_ERRORS_FOR_EVERY_ROUTE = {"401": "Missing or invalid API key", "403": "The key lacks the scope",
                           "429": "Rate limited (see Retry-After)", "500": "Internal error"}
_ERRORS_FOR_WRITES = {"400": "Invalid parameters", "402": "Insufficient credits",
                      "409": "Same Idempotency-Key still in flight, or a state conflict",
                      "422": "Idempotency-Key reused with a different body"}

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Up to 255 characters. Same key + same body within 24 h returns the first response "
                "(no second job or charge); a different body gives 422; a request still running gives 409.")


class ApiAutoSchema(AutoSchema):
    """AutoSchema plus problem+json error responses and the Idempotency-Key header."""

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method == "POST" and self._is_api_route():
            params.append(IDEMPOTENCY_HEADER)
        return params

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if self.method == "GET" and not self.path.rstrip("/").endswith("}") and operation_id.endswith("_retrieve"):
            return operation_id[: -len("_retrieve")] + "_list"
        return operation_id

    def _is_api_route(self) -> bool:
        return self.path.startswith("/api/v1/")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self._is_api_route():
            return responses
        wanted = dict(_ERRORS_FOR_EVERY_ROUTE)
        if "{" in self.path:
            wanted["404"] = "Not found in this workspace"
        if self.method in ("POST", "PUT", "PATCH"):
            wanted.update(_ERRORS_FOR_WRITES)
        for code, description in sorted(wanted.items()):
            if code not in responses:
                response = self._get_response_for_code(ProblemSerializer, code, [PROBLEM_CONTENT_TYPE], direction)
                response["description"] = description
                responses[code] = response
        return responses
