"""Developers → Webhooks page: secret shown once (no-store), SSRF-checked URLs, `send test`
records a delivery, rotation keeps the old secret in the overlap, redeliver, disable/enable,
delete; admin role only; workspace A cannot see or act on B's endpoints by id."""
import pytest
from django.urls import reverse

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.services import webhook_endpoint_create
from api.webhooks.signing import secret_for
from tenancy.context import tenant_context
from tenancy.models import AuditLog

from .conftest import login

pytestmark = pytest.mark.django_db

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.WEBHOOK_SSRF_ALLOWED_HOSTS = ["127.0.0.1:9"]


def _fresh(endpoint):
    with tenant_context(endpoint.workspace_id):
        return WebhookEndpoint.objects.get(pk=endpoint.pk)


def test_create_shows_the_secret_once_and_lists_the_endpoint(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    page = client.post(reverse("dashboard:webhooks"), {"url": HOOK, "events": ["video.succeeded", "video.failed"]})
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    with tenant_context(a["workspace"]):
        endpoint = WebhookEndpoint.objects.get(workspace=a["workspace"])
        assert AuditLog.objects.filter(action="webhook_endpoint.created", target=str(endpoint.pk)).exists()
    secret = page.context["secret"]
    assert secret == secret_for(endpoint.secret_nonce) and secret.startswith("whsec_")
    assert secret in page.content.decode() and endpoint.events == ["video.succeeded", "video.failed"]
    listing = client.get(reverse("dashboard:webhooks")).content.decode()
    assert secret not in listing and HOOK in listing and "video.succeeded, video.failed" in listing
    assert "enabled" in listing and "never" in listing


@pytest.mark.parametrize("url", ["http://10.0.0.5/hook", "http://169.254.169.254/latest", "ftp://127.0.0.1:9/x"])
def test_unsafe_urls_are_refused_next_to_the_field(client, two_workspaces, url):
    a = two_workspaces["a"]
    login(client, a["user"])
    page = client.post(reverse("dashboard:webhooks"), {"url": url})
    assert page.status_code == 200 and page.context["form"].errors["url"] and page.context["secret"] is None
    with tenant_context(a["workspace"]):
        assert not WebhookEndpoint.objects.exists()


def test_send_test_rotate_redeliver_disable_and_delete(client, two_workspaces):
    a = two_workspaces["a"]
    login(client, a["user"])
    endpoint, first_secret = webhook_endpoint_create(workspace=a["workspace"], url=HOOK, events=[])
    client.post(reverse("dashboard:webhook-test", args=[endpoint.pk]))
    with tenant_context(a["workspace"]):
        delivery = WebhookDelivery.objects.select_related("event").get(endpoint=endpoint)
    assert delivery.event.type == "webhook.test"
    log = client.get(reverse("dashboard:webhook", args=[endpoint.pk])).content.decode()
    assert "webhook.test" in log and delivery.event.public_id in log

    client.post(reverse("dashboard:webhook-redeliver", args=[endpoint.pk, delivery.pk]))
    with tenant_context(a["workspace"]):
        assert WebhookDelivery.objects.filter(endpoint=endpoint, event=delivery.event).count() == 2

    rotated = client.post(reverse("dashboard:webhook-rotate", args=[endpoint.pk]))
    endpoint = _fresh(endpoint)
    assert rotated["Cache-Control"] == "no-store" and rotated.context["secret"] == secret_for(endpoint.secret_nonce)
    assert rotated.context["secret"] != first_secret and secret_for(endpoint.previous_secret_nonce) == first_secret
    assert endpoint.previous_secret_expires_at is not None

    client.post(reverse("dashboard:webhook-toggle", args=[endpoint.pk]))
    endpoint = _fresh(endpoint)
    assert not endpoint.is_active and endpoint.disabled_at is not None
    client.post(reverse("dashboard:webhook-test", args=[endpoint.pk]))  # refused while disabled
    with tenant_context(a["workspace"]):
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
    client.post(reverse("dashboard:webhook-toggle", args=[endpoint.pk]))
    endpoint = _fresh(endpoint)
    assert endpoint.is_active and endpoint.disabled_at is None

    client.post(reverse("dashboard:webhook-delete", args=[endpoint.pk]))
    with tenant_context(a["workspace"]):
        assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_workspace_a_cannot_see_or_touch_b_endpoints(client, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    theirs, _ = webhook_endpoint_create(workspace=b["workspace"], url=HOOK, events=[])
    webhook_endpoint_create(workspace=b["workspace"], url="http://127.0.0.1:9/b-only", events=[])
    with tenant_context(b["workspace"]):
        from api.webhooks.services import webhook_endpoint_test
        delivery = webhook_endpoint_test(endpoint=theirs)
    login(client, a["user"])
    assert "b-only" not in client.get(reverse("dashboard:webhooks")).content.decode()
    assert client.get(reverse("dashboard:webhook", args=[theirs.pk])).status_code == 404
    for name in ("webhook-test", "webhook-rotate", "webhook-toggle", "webhook-delete"):
        assert client.post(reverse(f"dashboard:{name}", args=[theirs.pk])).status_code == 404, name
    assert client.post(reverse("dashboard:webhook-redeliver", args=[theirs.pk, delivery.pk])).status_code == 404
    with tenant_context(b["workspace"]):
        theirs = _fresh(theirs)
        assert theirs.is_active and not theirs.previous_secret_nonce
        assert WebhookDelivery.objects.filter(endpoint=theirs).count() == 1


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_viewers_and_editors_cannot_manage_webhooks(client, two_workspaces, member_of, role):
    a = two_workspaces["a"]
    endpoint, _ = webhook_endpoint_create(workspace=a["workspace"], url=HOOK, events=[])
    login(client, member_of("a", role))
    assert client.get(reverse("dashboard:webhooks")).status_code == 403
    assert client.post(reverse("dashboard:webhooks"), {"url": HOOK}).status_code == 403
    assert client.post(reverse("dashboard:webhook-test", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("dashboard:webhook-delete", args=[endpoint.pk])).status_code == 403
    with tenant_context(a["workspace"]):
        assert WebhookEndpoint.objects.count() == 1 and not WebhookDelivery.objects.exists()


def test_keys_page_links_the_webhooks_page(client, two_workspaces):
    login(client, two_workspaces["a"]["user"])
    page = client.get(reverse("dashboard:keys")).content.decode()
    assert reverse("dashboard:webhooks") in page and "not available yet" not in page
