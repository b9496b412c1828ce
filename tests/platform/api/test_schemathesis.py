"""Property-based API testing (bounded): Schemathesis generates requests for every operation
of the served OpenAPI document and the API must never answer 5xx. `SCHEMATHESIS_EXAMPLES`
raises the bound for a longer run."""
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from config.wsgi import application
from tenancy.services import api_key_create

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))


def _served_schema() -> dict:
    """The document /api/schema/ serves, built by the same generator without a request (no
    database at collection time)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# The coverage phase (dozens of boundary cases per operation) runs in the long run only.
_CONFIG = SchemathesisConfig.from_dict({"phases": {
    "coverage": {"enabled": os.environ.get("SCHEMATHESIS_COVERAGE") == "1"}, "stateful": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(_served_schema(), config=_CONFIG)
schema.app = application


@pytest.fixture(autouse=True)
def _keep_connection():
    """The WSGI app runs in-process inside the test transaction: like Django's test client,
    keep the request signals from closing the connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(two_workspaces, settings):
    settings.API_RATE_LIMIT_KEY = settings.API_RATE_LIMIT_WORKSPACE = "100000/min"
    _, raw = api_key_create(workspace=two_workspaces["a"]["workspace"], name="fuzz", scopes=["admin"])
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=[not_a_server_error])
