"""OpenAPI description of the API-key authentication (drf-spectacular extension), so the
schema tells clients to send `Authorization: Bearer <key>` (and check --deploy has no W001)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "adf_<prefix>.<secret>",
                "description": "A workspace API key, shown once when created."}
