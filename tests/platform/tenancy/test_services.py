import pytest

from tenancy.context import tenant_context
from tenancy.models import ApiKey, AuditLog, CreditLedger
from tenancy.services import (InsufficientCredits, api_key_create, api_key_revoke, credit_balance, credit_commit,
                              credit_refund, credit_reserve, workspace_create)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_workspace_create_gives_owner_brand_credits_and_audit():
    user = UserFactory()
    ws = workspace_create(name="Acme Shoes", owner=user, credits=5)
    assert ws.memberships.get().role == "owner"
    assert credit_balance(workspace=ws) == 5
    with tenant_context(ws):
        assert AuditLog.objects.filter(action="workspace.created").count() == 1
    assert workspace_create(name="Acme Shoes", owner=UserFactory()).slug == "acme-shoes-2"


def test_credits_reserve_then_commit_or_refund_exactly_once(two_workspaces):
    a, b = two_workspaces["a"]["workspace"], two_workspaces["b"]["workspace"]
    credit_reserve(workspace=a, amount=4, reference="job:1")
    credit_reserve(workspace=a, amount=4, reference="job:1")  # idempotent per reference
    assert credit_balance(workspace=a) == 6
    credit_commit(workspace=a, reference="job:1")
    credit_refund(workspace=a, reference="job:1")  # committed: nothing to refund
    assert credit_balance(workspace=a) == 6
    credit_reserve(workspace=a, amount=6, reference="job:2")
    with pytest.raises(InsufficientCredits):
        credit_reserve(workspace=a, amount=1, reference="job:3")
    credit_refund(workspace=a, reference="job:2")
    credit_refund(workspace=a, reference="job:2")
    assert credit_balance(workspace=a) == 6
    assert credit_balance(workspace=b) == 10  # the other workspace is untouched
    with tenant_context(a):
        states = sorted(CreditLedger.objects.filter(kind="reserve").values_list("reference", "state"))
    assert states == [("job:1", "committed"), ("job:2", "refunded")]


def test_api_key_is_shown_once_and_stored_hashed(two_workspaces):
    ws = two_workspaces["a"]["workspace"]
    key, raw = api_key_create(workspace=ws, name="ci")
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw.startswith(stored.prefix + ".")
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    assert stored.key_hash == ApiKey.hash_key(raw)
    api_key_revoke(workspace=ws, prefix=key.prefix)
    assert not ApiKey.objects.get(pk=key.pk).is_active
    with pytest.raises(ValueError, match="unknown API key scopes"):
        api_key_create(workspace=ws, name="bad", scopes=["admin:everything"])
