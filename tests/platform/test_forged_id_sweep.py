"""#10 sweep: every API and dashboard route, generated from the URL configuration, requested
as workspace A with workspace B's ids (every method), and as a removed member's key.
Nothing of B may come back (status or body) and nothing of B may change. New routes are
swept automatically; a route that cannot be reached at all by its own workspace is reported,
so the sweep cannot pass by requesting nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.files import signed_file_url
from tenancy.managers import TenantModel
from tenancy.models import Membership
from tenancy.services import api_key_create, membership_add
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Sign-in flows (Django auth, django-allauth under accounts/) are not tenant resources: their
# "invalid link" pages legitimately answer 200 for any key.
# api/redoc and api/docs are public documentation; api/v1/files/<token> is a signed link (the token
# is the credential, like a presigned URL) and answers 404 to anything else.
SKIP_PREFIXES = ("admin/", "static/", "login/", "logout/", "accounts/", "api/schema/", "api/docs", "api/redoc",
                 "api/v1/files/", "api/^v1/",  # the last: the problem+json 404 for unknown API paths
                 # a store's inbound webhook: no key or session, a secret token in the path and
                 # an HMAC of the body (tests/platform/campaigns/test_webhooks.py)
                 "api/v1/campaign-hooks/")
MARK_B = "ZEBRA-B-SECRET"
_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def routes() -> list[str]:
    """Every route string of the URL configuration (admin and auth pages excluded)."""
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)
    return [r for r in walk(get_resolver().url_patterns) if not r.startswith(SKIP_PREFIXES) and "(?P" not in r]


def _tenant_rows(workspace) -> dict[str, list[int]]:
    out = {}
    with tenant_context(workspace):
        for model in apps.get_models():
            if issubclass(model, TenantModel):
                out[model._meta.label] = list(model.unscoped.values_list("pk", flat=True))
    return out


def _snapshot(workspace) -> str:
    with tenant_context(workspace):
        return "".join(serializers.serialize("json", model.unscoped.order_by("pk"))
                       for model in apps.get_models() if issubclass(model, TenantModel))


def _job_with_files(data, marker: str, pk: int | None = None) -> VideoJob:
    ws = data["workspace"]
    with tenant_context(ws):
        job = VideoJob.objects.create(pk=pk, workspace=ws, brand=data["brand"], template="product_showcase",
                                      product_url=f"https://shop.example/{marker}")
        outputs = {}
        for name, filename in (("video", "video.mp4"), ("thumbnail", "thumb.jpg"), ("captions", "captions.srt"),
                               ("timeline", "timeline.json")):
            rel = f"{job.media_dir()}/{filename}"
            path = Path(settings.MEDIA_ROOT) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name} of {marker}")
            outputs[name] = rel
        job.outputs = outputs
        job.failure_reason = marker
        job.save()
    return job


@pytest.fixture
def world(two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(b["workspace"]):
        b["brand"].name = f"Brand {MARK_B}"
        b["brand"].save()
    # B's job gets an id no row of A has, so "B's id answered 200" can never be A's own row.
    a["job"], b["job"] = _job_with_files(a, "alpha-a"), _job_with_files(b, MARK_B, pk=987_654)
    a["raw"] = api_key_create(workspace=a["workspace"], name="a", created_by=a["user"])[1]
    api_key_create(workspace=b["workspace"], name=f"key {MARK_B}", created_by=b["user"])
    # A member of A whose membership row is then deleted (not via the off-boarding service,
    # so only the per-request check can stop the key).
    leaver = UserFactory()
    membership_add(workspace=a["workspace"], user=leaver, role=Membership.Role.EDITOR)
    a["leaver_raw"] = api_key_create(workspace=a["workspace"], name="leaver", created_by=leaver)[1]
    Membership.objects.filter(user=leaver).delete()
    return two_workspaces


def _values(world, whose: str, conv: str) -> list:
    data = world[whose]
    if conv in ("int", ""):
        return sorted({pk for pks in _tenant_rows(data["workspace"]).values() for pk in pks} | {data["workspace"].pk})
    files = ["video", "thumbnail", "captions", "timeline"]
    token = signed_file_url(workspace=data["workspace"], relpath=data["job"].outputs["video"], ttl_s=60)
    forged = token.removeprefix("/files/")
    if whose == "b":  # B's token re-signed by nobody: edit A's valid token to name B's job
        a_token = signed_file_url(workspace=world["a"]["workspace"], relpath=world["a"]["job"].outputs["video"],
                                  ttl_s=60).removeprefix("/files/")
        forged = a_token[:-4] + ("AAAA" if not a_token.endswith("AAAA") else "BBBB")
    return files + [forged, str(data["workspace"].pk), data["workspace"].slug]


def _urls(route: str, world, whose: str) -> list[str]:
    urls = ["/" + route]
    for match in _PARAM.finditer(route):
        values = _values(world, whose, match["conv"] or "")
        urls = [u.replace(match.group(0), str(v), 1) for u in urls for v in values]
    return urls


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _request(client, method: str, url: str):
    return getattr(client, method)(url, {}, format="json") if isinstance(client, APIClient) \
        else getattr(client, method)(url)


def test_every_route_as_workspace_a_with_b_ids_leaks_nothing(world):
    a = world["a"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {a['raw']}")
    browser = Client()
    browser.force_login(a["user"])
    a_ids = {pk for pks in _tenant_rows(a["workspace"]).values() for pk in pks}
    before = _snapshot(world["b"]["workspace"])
    swept = reachable_by_owner = 0
    problems = []
    for route in routes():
        client = api if route.startswith("api/") else browser
        for url in _urls(route, world, "a"):  # the owner's own ids: is the route live at all?
            if _request(client, "get", url).status_code == 200:
                reachable_by_owner += 1
                break
        for url in _urls(route, world, "b"):
            ids = {int(x) for x in re.findall(r"/(\d+)(?=/|$)", url)}
            for method in ("get", "post", "put", "patch", "delete"):
                response = _request(client, method, url)
                swept += 1
                body = _body(response)
                if MARK_B in body:
                    problems.append(f"{method.upper()} {url}: B's data in the body")
                if response.status_code < 400 and ids and not ids & a_ids and response.status_code != 405:
                    problems.append(f"{method.upper()} {url}: {response.status_code} for B's id")
    assert problems == []
    assert world["b"]["job"].pk in _values(world, "b", "int") and world["b"]["job"].pk not in a_ids
    assert _snapshot(world["b"]["workspace"]) == before, "a request as A changed B's rows"
    print(f"forged-id sweep: {swept} requests, {reachable_by_owner} routes reachable by their owner")
    assert swept >= 100 and reachable_by_owner >= 5, (swept, reachable_by_owner)


def test_every_api_route_refuses_a_removed_members_key(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world['a']['leaver_raw']}")
    statuses = {}
    for route in routes():
        if not route.startswith("api/"):
            continue
        for url in _urls(route, world, "a")[:20]:
            for method in ("get", "post", "delete"):
                response = _request(api, method, url)
                statuses[(method, url)] = response.status_code
                assert "alpha-a" not in _body(response)
    assert statuses and set(statuses.values()) == {401}, {k: v for k, v in statuses.items() if v != 401}
