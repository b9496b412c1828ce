"""Accounts on django-allauth: sign-up makes a workspace and verifies the address, failed
logins are rate-limited (then the account is locked out for the window), password reset
mails a working link, invites give a role, and a viewer cannot create, edit or spend."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from generation.jobs.models import VideoJob
from tenancy.context import tenant_context
from tenancy.models import Brand, Invitation, Membership
from tenancy.services import credit_balance

from .conftest import login

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery 9"


def _link(message) -> str:
    return re.search(r"https?://[^\s]+", message.body).group(0)


def _signup(client, email="ana@shop.example", workspace="Ana's Shop"):
    return client.post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD,
                                                   "workspace_name": workspace})


def test_signup_creates_a_workspace_and_needs_the_address_verified(client):
    response = _signup(client)
    assert response.status_code == 302
    membership = Membership.objects.select_related("workspace").get(user__email="ana@shop.example")
    assert (membership.workspace.name, membership.role) == ("Ana's Shop", "owner")
    assert credit_balance(workspace=membership.workspace) > 0
    assert client.get(reverse("dashboard:home")).status_code == 302  # not logged in until verified
    assert client.post(reverse("account_login"), {"login": "ana@shop.example", "password": PASSWORD}).url \
        == reverse("account_email_verification_sent")
    confirm = _link(mail.outbox[-1])
    assert "/accounts/confirm-email/" in confirm
    response = client.get(confirm, follow=True)
    assert response.wsgi_request.user.is_authenticated
    assert response.redirect_chain[-1][0] == reverse("dashboard:onboarding")


def test_failed_logins_are_refused_beyond_the_limit_then_locked_out(client, two_workspaces):
    user = two_workspaces["a"]["user"]
    user.email = "locked@shop.example"
    user.save()
    from allauth.account.models import EmailAddress
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    statuses = []
    for _ in range(6):
        r = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
        statuses.append((r.status_code, "Too many failed login attempts" in r.content.decode()))
    assert statuses[0] == (200, False)
    assert statuses[-1][0] == 429 or statuses[-1][1], statuses
    # Locked out: even the right password is refused during the window.
    r = client.post(reverse("account_login"), {"login": user.email, "password": "pw-123456"})
    assert not r.wsgi_request.user.is_authenticated
    assert r.status_code == 429 or "Too many failed login attempts" in r.content.decode()


def test_password_reset_mail_has_a_working_link(client, two_workspaces):
    user = two_workspaces["a"]["user"]
    user.email = "reset@shop.example"
    user.save()
    from allauth.account.models import EmailAddress
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = _link(mail.outbox[-1])
    assert "/accounts/password/reset/key/" in link
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "password1" in form_page.content.decode()
    done = client.post(form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
                       {"password1": "new pass word 77", "password2": "new pass word 77"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new pass word 77")
    assert client.post(reverse("account_login"), {"login": user.email, "password": "new pass word 77"}) \
        .wsgi_request.user.is_authenticated


def test_invite_gives_the_role_and_signup_from_an_invite_joins(client, two_workspaces,
                                                              django_capture_on_commit_callbacks):
    a = two_workspaces["a"]
    login(client, a["user"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:members"), {"email": "vic@shop.example", "role": "viewer"})
    invitation = Invitation.objects.get(email="vic@shop.example")
    assert invitation.workspace == a["workspace"] and invitation.role == "viewer"
    link = _link(mail.outbox[-1])
    assert invitation.token_hash not in link  # only the hash is stored, the mail has the token
    client.logout()
    assert client.get(link).status_code == 200
    _signup(client, email="vic@shop.example", workspace="")
    client.get(_link(mail.outbox[-1]))  # verify -> logged in -> invite accepted
    membership = Membership.objects.get(user__email="vic@shop.example")
    assert (membership.workspace, membership.role) == (a["workspace"], "viewer")
    assert Membership.objects.filter(user__email="vic@shop.example").count() == 1  # no own workspace made
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert client.get(link).status_code == 404  # used once


def test_invite_for_another_address_is_not_accepted(client, two_workspaces, django_capture_on_commit_callbacks):
    a = two_workspaces["a"]
    login(client, a["user"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:members"), {"email": "someone@shop.example", "role": "admin"})
    link = _link(mail.outbox[-1])
    client.logout()
    intruder = two_workspaces["b"]["user"]
    login(client, intruder)
    client.post(link)
    assert not Membership.objects.filter(workspace=a["workspace"], user=intruder).exists()


def test_viewer_cannot_create_edit_or_spend(client, two_workspaces, member_of):
    a = two_workspaces["a"]
    viewer = member_of("a", "viewer")
    login(client, viewer)
    assert client.get(reverse("dashboard:library")).status_code == 200
    assert client.get(reverse("dashboard:create")).status_code == 200  # sees the page, with a notice
    assert client.post(reverse("dashboard:create"), {"product_url": "https://shop.example/p"}).status_code == 403
    assert client.post(reverse("dashboard:preview", args=[1]), {}).status_code in (403, 404)
    assert client.post(reverse("dashboard:brand-edit", args=[a["brand"].pk]),
                       {"name": "Hacked"}).status_code == 403
    assert client.get(reverse("dashboard:keys")).status_code == 403
    assert client.post(reverse("dashboard:keys"), {"name": "k", "scopes": ["videos:read"]}).status_code == 403
    assert client.post(reverse("dashboard:members"), {"email": "x@y.example", "role": "admin"}).status_code == 403
    with tenant_context(a["workspace"]):
        assert Brand.objects.get(pk=a["brand"].pk).name == "Brand A"
        assert not VideoJob.objects.exists()
    assert credit_balance(workspace=a["workspace"]) == 10
    assert not Invitation.objects.exists()


def test_editor_cannot_manage_members_or_keys(client, two_workspaces, member_of):
    login(client, member_of("a", "editor"))
    assert client.get(reverse("dashboard:keys")).status_code == 403
    owner = Membership.objects.get(workspace=two_workspaces["a"]["workspace"], user=two_workspaces["a"]["user"])
    assert client.post(reverse("dashboard:member-remove", args=[owner.pk])).status_code == 403
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_demo_login_by_username_still_works(client):
    from tenancy.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_workspace_ensure

    demo_workspace_ensure()
    response = client.post(reverse("account_login"), {"login": DEMO_USERNAME, "password": DEMO_PASSWORD})
    assert response.wsgi_request.user.is_authenticated and response.status_code == 302
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_admin_changes_roles_but_never_makes_or_touches_owners(client, two_workspaces, member_of):
    a = two_workspaces["a"]
    admin, editor = member_of("a", "admin"), member_of("a", "editor")
    login(client, admin)
    editor_m = Membership.objects.get(user=editor)
    owner_m = Membership.objects.get(workspace=a["workspace"], user=a["user"])
    client.post(reverse("dashboard:member-role", args=[editor_m.pk]), {"role": "viewer"})
    client.post(reverse("dashboard:member-role", args=[editor_m.pk]), {"role": "owner"})  # admins cannot make owners
    editor_m.refresh_from_db()
    assert editor_m.role == "viewer"
    client.post(reverse("dashboard:member-role", args=[owner_m.pk]), {"role": "viewer"})
    client.post(reverse("dashboard:member-remove", args=[owner_m.pk]))
    owner_m.refresh_from_db()
    assert owner_m.role == "owner"
    client.post(reverse("dashboard:member-remove", args=[editor_m.pk]))
    assert not Membership.objects.filter(pk=editor_m.pk).exists()
    other = Membership.objects.get(workspace=two_workspaces["b"]["workspace"])
    assert client.post(reverse("dashboard:member-remove", args=[other.pk])).status_code == 404


def test_the_last_owner_stays(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    owner_m = Membership.objects.get(workspace=a["workspace"], user=a["user"])
    client.post(reverse("dashboard:member-role", args=[owner_m.pk]), {"role": "viewer"})
    owner_m.refresh_from_db()
    assert owner_m.role == "owner"
