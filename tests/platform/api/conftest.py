"""API fixtures: two workspaces, each with admin/write/read keys and a client per key; the
first stage's enqueue patched (task tests use the real worker in test_webhooks)."""
from unittest import mock

import pytest
from rest_framework.test import APIClient

from tenancy.services import api_key_create


def client_for(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(two_workspaces):
    """{"a": {..., "admin", "write", "read": APIClient}, "b": {...}}."""
    out = {}
    for name, data in two_workspaces.items():
        entry = dict(data)
        for scope, scopes in (("admin", ["admin"]), ("write", ["read", "write"]), ("read", ["read"])):
            key, raw = api_key_create(workspace=data["workspace"], name=f"{name}-{scope}", scopes=scopes,
                                      created_by=data["user"])
            entry[scope] = client_for(raw)
            entry[f"{scope}_key"] = key
        out[name] = entry
    return out


@pytest.fixture
def queued():
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async") as apply_async:
        yield apply_async
