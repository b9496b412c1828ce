"""Workspace-scoped querysets: the first wall. PostgreSQL row-level security is the second."""
from __future__ import annotations

import functools

from django.db import connection, models
from django.db.models import NOT_PROVIDED, signals

from .context import NoTenantContext, current_workspace_id, require_workspace_id


class TenantQuerySet(models.QuerySet):
    def for_workspace(self, workspace) -> "TenantQuerySet":
        workspace_id = workspace if isinstance(workspace, int) else workspace.pk
        return self.filter(workspace_id=workspace_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of every tenant-owned model: filtered to the current workspace and
    failing closed (NoTenantContext) when there is none."""

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(workspace_id=require_workspace_id())


class TenantModel(models.Model):
    """Base for tenant-owned rows: a workspace FK, scoped manager, and a save() that refuses
    to write a row for another workspace than the one in context."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    # Unscoped access for cross-tenant system work; PostgreSQL RLS still binds it.
    # (Related-object access uses Django's plain base manager, so FK traversal works.)
    unscoped = models.Manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        _own_workspace(self)
        super().save(*args, **kwargs)


def _own_workspace(obj: TenantModel) -> None:
    """Give a new row the workspace in context, and refuse a row of another workspace."""
    workspace_id = current_workspace_id()
    if obj.workspace_id is None:
        if workspace_id is None:
            raise NoTenantContext(f"cannot save {type(obj).__name__} without a workspace")
        obj.workspace_id = workspace_id
    elif workspace_id is not None and obj.workspace_id != workspace_id:
        raise PermissionError(f"{type(obj).__name__} belongs to workspace {obj.workspace_id}, "
                              f"not the current workspace {workspace_id}")


def tenant_insert(obj: TenantModel) -> TenantModel:
    """``obj.save()`` for a new row, with the INSERT compiled once per model (the ORM's
    per-call compile of a ~30-column insert cost ~1 ms on job creation). Same checks as
    TenantModel.save (workspace = the one in context), same values (field defaults from
    ``__init__``, ``pre_save`` e.g. auto_now_add, ``get_db_prep_save``), pk set from
    RETURNING. Falls back to ``save()`` when the model has save signal receivers or fields
    the plain path does not cover (database defaults, custom placeholders)."""
    model = type(obj)
    compiled = _insert_sql(model)
    if (compiled is None or not obj._state.adding or obj.pk is not None or connection.vendor != "postgresql"
            or signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)):
        obj.save()
        return obj
    _own_workspace(obj)
    sql, fields = compiled
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


@functools.lru_cache(maxsize=None)
def _insert_sql(model) -> tuple[str, list] | None:
    meta, quote = model._meta, connection.ops.quote_name
    if meta.parents or not meta.pk.auto_created and not isinstance(meta.pk, models.AutoField):
        return None
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    if any(f.db_default is not NOT_PROVIDED or hasattr(f, "get_placeholder") or f.generated for f in fields):
        return None
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return (f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) RETURNING {quote(meta.pk.column)}",
            fields)
