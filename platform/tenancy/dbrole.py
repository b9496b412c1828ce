"""Startup refusal when the app's PostgreSQL role could bypass row-level security.

RLS is the second wall between tenants, and it does not bind a superuser or a BYPASSRLS
role at all; the owner of a table can switch its policy off. Web and worker processes
therefore connect as a plain role that owns nothing (migrations run as the owner role, see
``manage.py db_migrate``). With ``TENANCY_REQUIRE_RLS_ROLE`` on (production settings) the WSGI
app, Celery workers and beat call ``database_role_require()`` before serving anything.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

logger = logging.getLogger(__name__)


def database_role_problems(*, using: str = "default") -> list[str]:
    """Why the connection's role can bypass RLS ([] when it cannot, or not PostgreSQL)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, superuser, bypass = cursor.fetchone()
        # Tables with RLS whose owner is this role or a role it can become (SET ROLE).
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND c.relrowsecurity AND n.nspname = current_schema()"
            " AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY c.relname")
        owned = [row[0] for row in cursor.fetchall()]
    problems = []
    if superuser:
        problems.append(f"role {role!r} is a superuser (superusers ignore row-level security)")
    if bypass:
        problems.append(f"role {role!r} has BYPASSRLS")
    if owned:
        shown = ", ".join(owned[:5]) + (f" and {len(owned) - 5} more" if len(owned) > 5 else "")
        problems.append(f"role {role!r} owns (or can become the owner of) tenant tables: {shown}")
    return problems


def database_role_require(*, using: str = "default", process: str = "app") -> None:
    """Raise ImproperlyConfigured, with what to do, when the role can bypass RLS."""
    problems = database_role_problems(using=using)
    if not problems:
        logger.info("tenancy.rls_role_ok process=%s", process)
        return
    logger.critical("tenancy.rls_role_refused process=%s problems=%s", process, problems)
    raise ImproperlyConfigured(
        f"Refusing to start {process}: the database role can bypass row-level security — "
        + "; ".join(problems)
        + ". Connect DATABASE_URL as a NOSUPERUSER NOBYPASSRLS role that owns no tables "
          "(see infra/postgres/init-roles.sql) and run migrations with DATABASE_MIGRATE_URL "
          "(manage.py db_migrate). TENANCY_REQUIRE_RLS_ROLE=0 switches this check off.")


def database_role_require_if_configured(*, process: str) -> None:
    """The startup hook: runs the check only when TENANCY_REQUIRE_RLS_ROLE is on."""
    if getattr(settings, "TENANCY_REQUIRE_RLS_ROLE", False):
        try:
            database_role_require(process=process)
        finally:
            connections["default"].close()  # don't hand a pre-fork connection to children


@checks.register(checks.Tags.database)
def database_role_check(app_configs=None, databases=None, **kwargs):
    """`manage.py check --database default` reports the same refusal as a system check Error."""
    if not databases or "default" not in databases or not getattr(settings, "TENANCY_REQUIRE_RLS_ROLE", False):
        return []
    return [checks.Error(problem, hint="Connect as a plain role (infra/postgres/init-roles.sql).",
                         id="tenancy.E001") for problem in database_role_problems()]
