"""#10.5: API keys and sessions do not outlive a person's access. A key works only while its
creator is active and a member of the key's workspace; off-boarding revokes (or, by explicit
choice, re-homes) keys and ends sessions. Two workspaces throughout: losing A keeps B."""
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.test import APIClient

from tenancy.context import tenant_context
from tenancy.models import ApiKey, AuditLog, Membership
from tenancy.services import api_key_create, membership_add, membership_remove, user_deactivate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def person(two_workspaces):
    """An editor in both workspaces, with one key in each."""
    user = UserFactory()
    keys = {}
    for name in ("a", "b"):
        ws = two_workspaces[name]["workspace"]
        membership_add(workspace=ws, user=user, role=Membership.Role.EDITOR)
        keys[name] = api_key_create(workspace=ws, name=f"{name} key", created_by=user)[1]
    return {"user": user, "keys": keys}


def _status(raw: str) -> int:
    return _client(raw).get("/api/v1/videos").status_code


def test_removal_from_a_workspace_revokes_only_that_workspaces_keys(two_workspaces, person):
    assert _status(person["keys"]["a"]) == 200 and _status(person["keys"]["b"]) == 200
    result = membership_remove(workspace=two_workspaces["a"]["workspace"], user=person["user"],
                               actor=two_workspaces["a"]["user"])
    assert result["removed"] and len(result["revoked_keys"]) == 1
    assert _status(person["keys"]["a"]) == 401
    assert _status(person["keys"]["b"]) == 200
    with tenant_context(two_workspaces["a"]["workspace"]):
        assert AuditLog.objects.filter(action="api_key.revoked", data__reason="member removed").count() == 1
    with tenant_context(two_workspaces["b"]["workspace"]):
        assert not AuditLog.objects.filter(action="api_key.revoked").exists()


def test_deactivation_revokes_every_key_and_ends_sessions(two_workspaces, person):
    browser = Client()
    browser.force_login(person["user"])
    assert browser.get("/welcome/").status_code == 200  # the onboarding page, signed in
    result = user_deactivate(user=person["user"])
    assert len(result["revoked_keys"]) == 2 and result["sessions_ended"] == 1
    assert _status(person["keys"]["a"]) == 401 and _status(person["keys"]["b"]) == 401
    response = browser.get("/welcome/")
    assert response.status_code == 302 and "login" in response["Location"]  # back to the login page
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(person["user"].pk)]


def test_every_request_checks_membership_and_active_even_without_the_services(two_workspaces, person):
    # Someone edits the rows directly (admin, a script): the key must stop anyway.
    Membership.objects.filter(workspace=two_workspaces["a"]["workspace"], user=person["user"]).delete()
    assert _status(person["keys"]["a"]) == 401
    assert _status(person["keys"]["b"]) == 200
    person["user"].is_active = False
    person["user"].save(update_fields=["is_active"])
    assert _status(person["keys"]["b"]) == 401
    assert ApiKey.objects.filter(revoked_at__isnull=True, created_by=person["user"]).count() == 2  # not via services


def test_deleting_the_user_revokes_instead_of_orphaning_the_keys(two_workspaces, person):
    person["user"].delete()
    assert _status(person["keys"]["a"]) == 401 and _status(person["keys"]["b"]) == 401
    assert ApiKey.objects.filter(created_by__isnull=True, revoked_at__isnull=True,
                                 workspace__in=[w["workspace"] for w in two_workspaces.values()]).count() == 0


def test_rehoming_is_an_explicit_choice_to_an_editor_of_the_same_workspace(two_workspaces, person):
    a, b = two_workspaces["a"], two_workspaces["b"]
    with pytest.raises(ValueError):  # B's owner is not a member of A
        membership_remove(workspace=a["workspace"], user=person["user"], rehome_keys_to=b["user"])
    assert _status(person["keys"]["a"]) == 200  # the refused call changed nothing
    result = membership_remove(workspace=a["workspace"], user=person["user"], rehome_keys_to=a["user"])
    assert result["revoked_keys"] == []
    assert _status(person["keys"]["a"]) == 200
    assert ApiKey.objects.get(workspace=a["workspace"], name="a key").created_by == a["user"]
    with tenant_context(a["workspace"]):
        assert AuditLog.objects.filter(action="api_key.rehomed").count() == 1
    membership_remove(workspace=b["workspace"], user=person["user"])
    assert _status(person["keys"]["b"]) == 401
