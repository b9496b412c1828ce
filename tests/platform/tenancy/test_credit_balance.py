"""The trigger-kept balance (migration 0004) always equals SUM(ledger.amount), per workspace,
after every kind of ledger write, and reservations racing for the last credits in separate
connections never overdraw it or hold one reference twice."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

from tenancy.context import tenant_context
from tenancy.models import CreditLedger, Workspace
from tenancy.services import (InsufficientCredits, credit_balance, credit_commit, credit_grant, credit_refund,
                              credit_reserve)


def _column(ws: Workspace) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credit_balance FROM tenancy_workspace WHERE id = %s", [ws.pk])
        return cursor.fetchone()[0]


def _summed(ws: Workspace) -> int:
    with tenant_context(ws):
        return CreditLedger.objects.aggregate(total=Sum("amount"))["total"] or 0


def _consistent(*workspaces: Workspace) -> list[int]:
    out = []
    for ws in workspaces:
        assert _column(ws) == _summed(ws) == credit_balance(workspace=ws)
        out.append(_column(ws))
    return out


@pytest.mark.django_db
def test_balance_column_follows_every_ledger_write(two_workspaces, postgres_only):
    a, b = two_workspaces["a"]["workspace"], two_workspaces["b"]["workspace"]
    assert _consistent(a, b) == [10, 10]
    credit_grant(workspace=a, amount=7)
    credit_reserve(workspace=a, amount=5, reference="job:1")
    credit_reserve(workspace=a, amount=5, reference="job:1")  # same reference: one hold
    credit_reserve(workspace=a, amount=3, reference="job:2")
    assert _consistent(a, b) == [9, 10]
    credit_refund(workspace=a, reference="job:2")
    credit_commit(workspace=a, reference="job:1")
    assert _consistent(a, b) == [12, 10]
    with tenant_context(a):  # direct ORM edits and deletes (admin, scripts) are followed too
        CreditLedger.objects.filter(kind=CreditLedger.Kind.GRANT, amount=7).update(amount=2)
        assert _consistent(a, b) == [7, 10]
        CreditLedger.objects.filter(kind=CreditLedger.Kind.REFUND).delete()
    assert _consistent(a, b) == [4, 10]
    with pytest.raises(InsufficientCredits):
        credit_reserve(workspace=a, amount=5, reference="job:3")
    assert _consistent(a, b) == [4, 10]
    credit_reserve(workspace=a, amount=4, reference="job:3")  # exactly the balance
    assert _consistent(a, b) == [0, 10]


@pytest.mark.django_db
def test_a_stale_workspace_instance_saved_by_the_orm_keeps_the_balance(two_workspaces, postgres_only):
    a = two_workspaces["a"]["workspace"]
    stale = Workspace.objects.get(pk=a.pk)
    credit_grant(workspace=a, amount=5)
    stale.name = "Renamed"
    stale.save()  # not a model field: the ORM never writes it
    assert _consistent(a) == [15]


@pytest.mark.django_db(transaction=True)
def test_racing_reservations_never_overdraw(two_workspaces, postgres_only):
    """12 threads, each its own connection, reserve 1 credit for a shared reference and then
    1 more for a distinct job, against a balance of 10: exactly 10 holds, one for the shared
    reference, balance 0, the other workspace untouched. (The shared reference goes first: the
    other way round, ten distinct holds could take the whole balance before any thread reached
    it, which happened once on a loaded box.)"""
    a, b = two_workspaces["a"]["workspace"], two_workspaces["b"]["workspace"]
    barrier, results, lock = threading.Barrier(12), [], threading.Lock()

    def reserve(i: int) -> None:
        try:
            barrier.wait()
            outcome = []
            for reference in ("job:shared", f"job:{i}"):
                try:
                    credit_reserve(workspace=a, amount=1, reference=reference)
                    outcome.append("held")
                except InsufficientCredits:
                    outcome.append("refused")
            with lock:
                results.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    with tenant_context(a):
        holds = list(CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE).values_list("reference", flat=True))
    assert len(holds) == 10 and holds.count("job:shared") == 1
    assert _consistent(a, b) == [0, 10]
