"""Row-level security proves isolation below the ORM: from workspace A, B's rows cannot be
read, updated or forged, even with raw SQL, and with no tenant nothing is visible."""
import pytest
from django.db import DatabaseError, connection, transaction

from tenancy.context import NoTenantContext, current_workspace_id, tenant_context
from tenancy.models import Brand

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def test_tests_run_as_a_role_that_cannot_bypass_rls(postgres_only):
    (superuser, bypass), = _raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert (superuser, bypass) == (False, False)
    forced = _raw("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'tenancy_brand'")
    assert forced == [(True, True)]


def test_forged_ids_and_get_of_other_workspace_find_nothing(postgres_only, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(a["workspace"]):
        assert list(Brand.objects.filter(pk=b["brand"].pk)) == []
        assert list(Brand.unscoped.filter(pk=b["brand"].pk)) == []  # RLS, not the ORM filter
        with pytest.raises(Brand.DoesNotExist):
            Brand.objects.get(pk=b["brand"].pk)
        assert [x.pk for x in Brand.unscoped.all()] == [a["brand"].pk]


def test_raw_sql_sees_only_own_rows_and_cannot_touch_others(postgres_only, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(a["workspace"]):
        assert _raw("SELECT id FROM tenancy_brand") == [(a["brand"].pk,)]
        assert _raw("UPDATE tenancy_brand SET name = 'hacked' WHERE id = %s", [b["brand"].pk]) == 0
        assert _raw("DELETE FROM tenancy_brand WHERE id = %s", [b["brand"].pk]) == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            _raw("INSERT INTO tenancy_brand (workspace_id, name, primary_color, secondary_color, accent_color,"
                 " logo, font_family, voice, language, tone, default_template, created_at)"
                 " VALUES (%s, 'forged', '#000000', '#000000', '#000000', '', 'Inter', '', 'en', 'x', 'x', now())",
                 [b["workspace"].pk])
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            _raw("UPDATE tenancy_brand SET workspace_id = %s WHERE id = %s", [b["workspace"].pk, a["brand"].pk])
    with tenant_context(b["workspace"]):
        assert _raw("SELECT name FROM tenancy_brand") == [(b["brand"].name,)]


def test_no_tenant_context_sees_nothing_and_orm_fails_closed(postgres_only, two_workspaces):
    assert current_workspace_id() is None
    with pytest.raises(NoTenantContext):
        list(Brand.objects.all())
    assert _raw("SELECT count(*) FROM tenancy_brand") == [(0,)]
    assert _raw("SELECT count(*) FROM tenancy_creditledger") == [(0,)]


def test_context_is_restored_on_exit_even_after_errors(postgres_only, two_workspaces):
    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(a["workspace"]):
        with pytest.raises(RuntimeError), tenant_context(b["workspace"]):
            assert _raw("SELECT current_setting('app.tenant_id')") == [(str(b["workspace"].pk),)]
            raise RuntimeError("boom")
        assert current_workspace_id() == a["workspace"].pk
        assert _raw("SELECT current_setting('app.tenant_id')") == [(str(a["workspace"].pk),)]
    assert _raw("SELECT current_setting('app.tenant_id', true)") == [("",)]


def test_every_tenant_table_has_forced_rls(postgres_only):
    from django.apps import apps

    from tenancy.managers import TenantModel

    tables = [m._meta.db_table for m in apps.get_models() if issubclass(m, TenantModel)]
    assert len(tables) >= 9
    rows = dict(_raw("SELECT relname, relforcerowsecurity AND relrowsecurity FROM pg_class WHERE relname = ANY(%s)",
                     [tables]))
    assert rows == {t: True for t in tables}
