"""The current tenant: a context variable for the ORM's scoped querysets, mirrored into the
PostgreSQL session setting ``app.tenant_id`` that the row-level-security policies read.

``tenant_context`` is re-entrant and restores the previous tenant on exit, so a request, a
Celery task or a management command can nest it safely.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db import connections
from django.db.utils import InterfaceError, OperationalError

_SET_SQL = "SELECT set_config('app.tenant_id', %s, false)"
_current_workspace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_workspace_id", default=None
)


class NoTenantContext(LookupError):
    """A tenant-owned table was queried outside any workspace context (fail closed)."""


def current_workspace_id() -> int | None:
    return _current_workspace_id.get()


def require_workspace_id() -> int:
    workspace_id = _current_workspace_id.get()
    if workspace_id is None:
        raise NoTenantContext("no workspace in context: wrap the work in tenant_context(workspace)")
    return workspace_id


def _set_db_tenant(workspace_id: int | None, using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    value = "" if workspace_id is None else str(workspace_id)
    if (connection.connection is not None and connection.health_check_enabled
            and not connection.health_check_done and not connection.in_atomic_block):
        # The first statement of a request on a kept connection doubles as Django's health
        # check (CONN_HEALTH_CHECKS would send "SELECT 1" first: a round trip per request).
        # If PostgreSQL dropped the connection it fails: close it and set up a new one below.
        try:
            with connection.wrap_database_errors:
                connection.connection.execute(_SET_SQL, [value])
            connection.health_check_done = True
            return
        except (OperationalError, InterfaceError):
            connection.close()
    # Session-level (is_local=false) so it also holds in autocommit mode; always restored
    # by tenant_context's finally, so a pooled connection never keeps a stale tenant.
    # Sent on the driver connection (what Django's cursor() does, minus its wrapper: this
    # runs twice per API request), with the same health check and error translation.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        connection.connection.execute(_SET_SQL, [value])


@contextlib.contextmanager
def tenant_context(workspace, using: str = "default") -> Iterator[None]:
    """Run the block as ``workspace`` (a Workspace or its id) for the ORM and for RLS."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    if workspace_id is None:
        raise ValueError("tenant_context needs a saved workspace")
    previous = _current_workspace_id.get()
    token = _current_workspace_id.set(workspace_id)
    # Nested entry into the same tenant (services calling services) changes nothing in the
    # database: skip the two round trips; the outermost context sets and restores it.
    same = previous == workspace_id
    try:
        if not same:
            _set_db_tenant(workspace_id, using)
        yield
    finally:
        _current_workspace_id.reset(token)
        if not same:
            _set_db_tenant(previous, using)


@contextlib.contextmanager
def no_tenant(using: str = "default") -> Iterator[None]:
    """Run the block with no tenant: tenant-owned tables are invisible (system work)."""
    previous = _current_workspace_id.get()
    token = _current_workspace_id.set(None)
    try:
        _set_db_tenant(None, using)
        yield
    finally:
        _current_workspace_id.reset(token)
        _set_db_tenant(previous, using)
