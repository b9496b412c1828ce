"""The API contract: problem documents, the OpenAPI document (bearer scheme, error schemas,
Idempotency-Key), offline docs, rate limits with Retry-After."""
import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def schema() -> dict:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_openapi_has_the_bearer_scheme_and_problem_schemas_for_every_error():
    doc = schema()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "adf_<prefix>.<secret>",
        "description": "An API key from `POST /api/v1/keys` or the dashboard."}
    assert {"/api/v1/videos", "/api/v1/videos/{id}", "/api/v1/videos/{id}/cancel", "/api/v1/videos/batch",
            "/api/v1/videos/estimate", "/api/v1/products", "/api/v1/brands", "/api/v1/keys", "/api/v1/usage",
            "/api/v1/webhooks", "/api/v1/webhooks/{id}/rotate"} <= set(doc["paths"])
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/files/"):
            continue
        for method, op in ops.items():
            assert op["security"] == [{"bearerAuth": []}], (path, method)
            errors = {code for code in op["responses"] if code >= "400"}
            assert {"401", "403", "429", "500"} <= errors, (path, method)
            for code in errors:
                content = op["responses"][code]["content"]
                assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem"), (path, code)
            if method == "post":
                assert {"400", "402", "409", "422"} <= errors
                assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])
    assert {"code", "detail", "type", "status", "title"} <= set(doc["components"]["schemas"]["Problem"]["required"])


def test_swagger_ui_and_redoc_serve_bundled_assets():
    page = APIClient().get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "http://" not in page.split("<body")[0].replace("http://testserver", "")  # no CDN
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in APIClient().get("/api/redoc/").content.decode()
    codes = APIClient().get("/api/docs/errors").content.decode()
    assert 'id="insufficient_credits"' in codes and 'id="idempotency_key_reused"' in codes


def test_unknown_routes_and_methods_are_problems(api):
    missing = api["a"]["read"].get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    wrong = api["a"]["write"].delete("/api/v1/videos")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"
    broken = api["a"]["write"].post("/api/v1/videos", "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_body"


def test_rate_limits_per_key_and_per_workspace_answer_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT_KEY, settings.API_RATE_LIMIT_WORKSPACE = "3/h", "5/h"
    a = api["a"]
    assert [a["read"].get("/api/v1/usage").status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = a["read"].get("/api/v1/usage")
    assert limited.json()["code"] == "rate_limited" and 1 <= int(limited["Retry-After"]) <= 3600
    # another key of the same workspace has its own key budget but shares the workspace's
    assert [a["write"].get("/api/v1/usage").status_code for _ in range(2)] == [429, 429]
    assert api["b"]["read"].get("/api/v1/usage").status_code == 200  # other workspaces are unaffected
