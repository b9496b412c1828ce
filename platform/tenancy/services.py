"""Writes for workspaces, members, brands, API keys, credits and the audit log.

Services take the workspace first, keyword-only, and run atomically. Credit operations lock
the workspace row so two concurrent reservations cannot overdraw the balance."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify

from .auth_epoch import auth_epoch_bump
from .context import tenant_context
from .managers import tenant_insert
from .models import ApiKey, AuditLog, Brand, CreditLedger, Membership, Workspace

logger = logging.getLogger(__name__)


class InsufficientCredits(Exception):
    """The workspace balance cannot cover a reservation."""


def audit_log_write(*, workspace: Workspace, action: str, target: str = "", actor=None,
                    api_key: ApiKey | None = None, data: dict | None = None) -> AuditLog:
    # tenant_insert: the INSERT compiled once (every job creation writes one of these rows).
    with tenant_context(workspace):
        entry = tenant_insert(AuditLog(workspace=workspace, action=action, target=target, data=data or {},
                                       actor=actor if getattr(actor, "pk", None) else None, api_key=api_key))
    logger.info("audit action=%s workspace=%s target=%s", action, workspace.pk, target)
    return entry


@transaction.atomic
def workspace_create(*, name: str, owner, credits: int | None = None) -> Workspace:
    """Create a workspace with its owner membership, a default brand and starting credits."""
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    workspace = Workspace.objects.create(name=name, slug=slug)
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    with tenant_context(workspace):
        Brand.objects.create(workspace=workspace, name=name)
        grant = settings.CREDITS_NEW_WORKSPACE if credits is None else credits
        if grant:
            credit_grant(workspace=workspace, amount=grant, note="welcome credits")
    audit_log_write(workspace=workspace, action="workspace.created", actor=owner, target=slug)
    return workspace


@transaction.atomic
def membership_add(*, workspace: Workspace, user, role: str, actor=None) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    audit_log_write(workspace=workspace, action="membership.set", actor=actor,
                    target=user.get_username(), data={"role": role})
    return membership


@transaction.atomic
def api_key_create(*, workspace: Workspace, name: str, scopes: list[str] | None = None,
                   created_by=None) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored (only its hash)."""
    raw, prefix, key_hash = ApiKey.generate()
    scopes = scopes if scopes is not None else [ApiKey.Scope.READ.value, ApiKey.Scope.WRITE.value]
    unknown = set(scopes) - {s.value for s in ApiKey.Scope}
    if unknown:
        raise ValueError(f"unknown API key scopes: {sorted(unknown)}")
    key = ApiKey.objects.create(workspace=workspace, name=name, prefix=prefix, key_hash=key_hash,
                                scopes=scopes, created_by=created_by)
    audit_log_write(workspace=workspace, action="api_key.created", actor=created_by, target=prefix)
    return key, raw


@transaction.atomic
def api_key_revoke(*, workspace: Workspace, prefix: str, actor=None) -> ApiKey:
    key = ApiKey.objects.get(workspace=workspace, prefix=prefix)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_log_write(workspace=workspace, action="api_key.revoked", actor=actor, target=prefix)
    return key


def credit_balance(*, workspace: Workspace) -> int:
    """The workspace's balance: the trigger-kept column on PostgreSQL (migration 0004, equal
    to SUM(ledger.amount) in every transaction), the sum elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT credit_balance FROM {Workspace._meta.db_table} WHERE id = %s", [workspace.pk])
            row = cursor.fetchone()
        return row[0] if row else 0
    with tenant_context(workspace):
        return CreditLedger.objects.aggregate(total=Sum("amount"))["total"] or 0


def credit_grant(*, workspace: Workspace, amount: int, note: str = "") -> CreditLedger:
    if amount <= 0:
        raise ValueError("a grant must be positive")
    with tenant_context(workspace):
        return CreditLedger.objects.create(workspace=workspace, kind=CreditLedger.Kind.GRANT,
                                           amount=amount, note=note)


def credit_reserve(*, workspace: Workspace, amount: int, reference: str) -> CreditLedger:
    """Hold ``amount`` credits for ``reference``; idempotent per reference.

    PostgreSQL: lock the workspace row and read its balance (kept by a ledger trigger, see
    migration 0004): every ledger write updates that row, so the balance read under the lock
    is current and exact (never two holds on the same last credit). Then one INSERT writes
    the hold unless one exists for this reference: two statements, O(1) in the ledger size.
    No savepoint of its own (two round trips saved inside a caller's transaction): nothing
    in the block raises but a database error, which dooms the caller's transaction anyway; a
    refusal is raised after the block."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            return _credit_reserve_orm(workspace=workspace, amount=amount, reference=reference)
    ledger, inserted = CreditLedger._meta.db_table, None
    with transaction.atomic(savepoint=False), tenant_context(workspace), connection.cursor() as cursor:
        cursor.execute(f"SELECT credit_balance FROM {Workspace._meta.db_table} WHERE id = %s FOR UPDATE",
                       [workspace.pk])
        now = timezone.now()
        if cursor.fetchone()[0] >= amount:
            cursor.execute(
                f"INSERT INTO {ledger} (workspace_id, kind, state, amount, reference, note, created_at) "
                f"SELECT %s, %s, %s, %s, %s, '', %s WHERE NOT EXISTS (SELECT 1 FROM {ledger} "
                f"WHERE workspace_id = %s AND kind = %s AND reference = %s) RETURNING id",
                [workspace.pk, CreditLedger.Kind.RESERVE, CreditLedger.State.HELD, -amount, reference, now,
                 workspace.pk, CreditLedger.Kind.RESERVE, reference])
            inserted = cursor.fetchone()
        if inserted is not None:
            return CreditLedger(id=inserted[0], workspace=workspace, kind=CreditLedger.Kind.RESERVE,
                                state=CreditLedger.State.HELD, amount=-amount, reference=reference, created_at=now)
        existing = CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, reference=reference).first()
    if existing:
        return existing
    raise InsufficientCredits(f"not enough credits: {amount} needed")


def _credit_reserve_orm(*, workspace: Workspace, amount: int, reference: str) -> CreditLedger:
    """credit_reserve on databases without row locks worth the name (SQLite: one writer)."""
    Workspace.objects.select_for_update().get(pk=workspace.pk)
    with tenant_context(workspace):
        existing = CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, reference=reference).first()
        if existing:
            return existing
        if credit_balance(workspace=workspace) < amount:
            raise InsufficientCredits(f"not enough credits: {amount} needed")
        return CreditLedger.objects.create(workspace=workspace, kind=CreditLedger.Kind.RESERVE,
                                           state=CreditLedger.State.HELD, amount=-amount, reference=reference)


@transaction.atomic
def credit_commit(*, workspace: Workspace, reference: str) -> None:
    """Keep a held reservation (the work was delivered). No-op unless it is still held."""
    with tenant_context(workspace):
        CreditLedger.objects.filter(kind=CreditLedger.Kind.RESERVE, reference=reference,
                                    state=CreditLedger.State.HELD).update(state=CreditLedger.State.COMMITTED)


@transaction.atomic
def credit_refund(*, workspace: Workspace, reference: str) -> None:
    """Give a held reservation back exactly once (failed or canceled work)."""
    with tenant_context(workspace):
        held = (CreditLedger.objects.select_for_update()
                .filter(kind=CreditLedger.Kind.RESERVE, reference=reference, state=CreditLedger.State.HELD).first())
        if held is None:
            return
        held.state = CreditLedger.State.REFUNDED
        held.save(update_fields=["state"])
        CreditLedger.objects.create(workspace=workspace, kind=CreditLedger.Kind.REFUND,
                                    amount=-held.amount, reference=reference)


# --- Off-boarding: keys and sessions never outlive a person's access (#10.5) ---

def _sessions_end(*, user) -> int:
    """Delete every stored session signed in as ``user``; returns how many."""
    from django.contrib.sessions.models import Session

    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def _api_keys_revoke_for(*, workspace: Workspace, user, actor, reason: str) -> list[str]:
    prefixes = list(ApiKey.objects.filter(workspace=workspace, created_by=user, revoked_at__isnull=True)
                    .values_list("prefix", flat=True))
    ApiKey.objects.filter(prefix__in=prefixes).update(revoked_at=timezone.now())
    auth_epoch_bump()  # .update() sends no signal: cached keys must refill now
    for prefix in prefixes:
        audit_log_write(workspace=workspace, action="api_key.revoked", actor=actor, target=prefix,
                        data={"reason": reason, "creator": user.get_username()})
    return prefixes


@transaction.atomic
def membership_remove(*, workspace: Workspace, user, actor=None, rehome_keys_to=None) -> dict:
    """Remove ``user`` from ``workspace``. Their API keys there are revoked, or — by explicit
    choice — re-homed to ``rehome_keys_to``, who must be an active member able to edit.
    Other workspaces' keys are untouched. Idempotent."""
    if rehome_keys_to is not None:
        target = Membership.objects.filter(workspace=workspace, user=rehome_keys_to).first()
        if target is None or not target.can_edit or not rehome_keys_to.is_active or rehome_keys_to == user:
            raise ValueError("keys can only be re-homed to another active member who can edit")
    deleted, _ = Membership.objects.filter(workspace=workspace, user=user).delete()
    if rehome_keys_to is not None:
        prefixes = list(ApiKey.objects.filter(workspace=workspace, created_by=user, revoked_at__isnull=True)
                        .values_list("prefix", flat=True))
        ApiKey.objects.filter(prefix__in=prefixes).update(created_by=rehome_keys_to)
        auth_epoch_bump()
        for prefix in prefixes:
            audit_log_write(workspace=workspace, action="api_key.rehomed", actor=actor, target=prefix,
                            data={"from": user.get_username(), "to": rehome_keys_to.get_username()})
        revoked = []
    else:
        revoked = _api_keys_revoke_for(workspace=workspace, user=user, actor=actor, reason="member removed")
    if deleted:
        audit_log_write(workspace=workspace, action="membership.removed", actor=actor, target=user.get_username())
    return {"removed": bool(deleted), "revoked_keys": revoked}


@transaction.atomic
def user_deactivate(*, user, actor=None) -> dict:
    """Deactivate ``user`` everywhere: no sign-in, every session ended, every API key they
    created revoked in every workspace (memberships stay, for the record). Idempotent."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    revoked = []
    for workspace in Workspace.objects.filter(api_keys__created_by=user).distinct():
        revoked += _api_keys_revoke_for(workspace=workspace, user=user, actor=actor, reason="user deactivated")
    sessions = _sessions_end(user=user)
    logger.info("user.deactivated user=%s keys_revoked=%s sessions_ended=%s", user.pk, len(revoked), sessions)
    return {"revoked_keys": revoked, "sessions_ended": sessions}


def api_keys_revoke_for_deleted_user(*, user) -> None:
    """Before a user row is deleted (created_by would become NULL, i.e. a creator-less
    service key), revoke their keys: deleting a person must never widen a key's life."""
    for workspace in Workspace.objects.filter(api_keys__created_by=user).distinct():
        _api_keys_revoke_for(workspace=workspace, user=user, actor=None, reason="user deleted")
