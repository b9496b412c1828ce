"""Migration operations that switch PostgreSQL row-level security on for a tenant table.

Policy: a row is visible and writable only when its workspace_id equals the session
setting ``app.tenant_id`` (set by ``tenant_context``); with no setting nothing matches.
``FORCE`` makes the table owner obey it too. On SQLite the operation is a no-op.
"""
from __future__ import annotations

from django.db import migrations

POLICY = "tenant_isolation"
_PREDICATE = "workspace_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str):
        self.model_name = model_name

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, schema_editor, state):
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, schema_editor, to_state))
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({_PREDICATE}) WITH CHECK ({_PREDICATE})")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, schema_editor, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self):
        return f"Enable row-level security on {self.model_name}"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.model_name], {})
