"""Workspace-scoped querysets: the first wall. PostgreSQL row-level security is the second."""
from __future__ import annotations

from django.db import models

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
        workspace_id = current_workspace_id()
        if self.workspace_id is None:
            if workspace_id is None:
                raise NoTenantContext(f"cannot save {type(self).__name__} without a workspace")
            self.workspace_id = workspace_id
        elif workspace_id is not None and self.workspace_id != workspace_id:
            raise PermissionError(
                f"{type(self).__name__} belongs to workspace {self.workspace_id}, "
                f"not the current workspace {workspace_id}")
        super().save(*args, **kwargs)
