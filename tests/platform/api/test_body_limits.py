"""#10.8: request bodies have depth and size limits: a 100,000-deep JSON body was a
RecursionError 500; now it is a 400 before the decoder runs. Brackets inside strings don't count."""
import json
from unittest import mock

import pytest
from rest_framework.test import APIClient

from api.parsers import json_depth
from tenancy.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(two_workspaces):
    _, raw = api_key_create(workspace=two_workspaces["a"]["workspace"], name="t", created_by=two_workspaces["a"]["user"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    with mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async"):
        yield api


def _post(client, body: bytes):
    return client.generic("POST", "/api/v1/videos", body, content_type="application/json")


def test_hundred_thousand_deep_body_is_a_400(client):
    response = _post(client, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert b"nested" in response.content


def test_deep_object_body_is_a_400(client):
    response = _post(client, b'{"a":' * 5000 + b"1" + b"}" * 5000)
    assert response.status_code == 400 and b"nested" in response.content


def test_oversized_body_is_refused(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({"product_url": "https://x.example/p", "pad": "x" * 70_000}).encode()
    response = _post(client, body)
    assert response.status_code == 413 and b"too large" in response.content


def test_oversized_body_read_by_our_parser_is_refused(client, settings):
    from io import BytesIO

    from rest_framework.exceptions import ParseError

    from api.parsers import LimitedJSONParser

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    with pytest.raises(ParseError) as info:
        LimitedJSONParser().parse(BytesIO(b'{"pad": "' + b"x" * 2000 + b'"}'))
    assert info.value.status_code == 413


def test_a_crashing_api_view_does_not_leak_its_tenant_into_the_thread(two_workspaces):
    from rest_framework.test import APIRequestFactory, force_authenticate

    from api.views import TenantAPIView
    from tenancy.context import current_workspace_id

    class Crashing(TenantAPIView):
        permission_classes = []

        def get(self, request):
            raise RuntimeError("a bug")

    key = api_key_create(workspace=two_workspaces["a"]["workspace"], name="k", created_by=two_workspaces["a"]["user"])[0]
    request = APIRequestFactory().get("/crash")
    force_authenticate(request, user=two_workspaces["a"]["user"], token=key)
    response = Crashing.as_view()(request)  # a bug answers a 500 problem document, never a page
    assert response.status_code == 500 and response.data["code"] == "internal_error"
    assert current_workspace_id() is None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in ("", None)


def test_nan_is_not_json(client):
    response = _post(client, b'{"product_url": "https://x.example/p", "duration": NaN}')
    assert response.status_code == 400


def test_brackets_in_strings_do_not_count_and_normal_bodies_pass(client):
    url = "https://x.example/p?q=" + "[" * 200 + '\\"{'
    assert json_depth(json.dumps({"u": url}).encode(), limit=32) == 1
    response = _post(client, json.dumps({"product_url": "https://x.example/p?q=" + "%5B" * 50}).encode())
    assert response.status_code == 202, response.content


def _reference_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize("doc", [
    [{"a": ["[[\\\"{", {"b": [1, 2, [3]]}], "c": "\\\\"}] * 50,
    {"k": [[["]]]\\"]]] * 20, "s": "{" * 40},
    [[[[[[[[[["deep"]]]]]]]]]] + [["x"]] * 30,
])
def test_depth_scan_matches_the_parsed_depth(doc):
    raw = json.dumps(doc).encode()
    assert raw.count(b"[") + raw.count(b"{") > 16  # the scanning path, not the shortcut
    expected = _reference_depth(doc)
    assert json_depth(raw, limit=16) == expected
