"""Reads for tenancy: which workspaces a user may enter, and with which role."""
from __future__ import annotations

from .models import Membership, Workspace


def workspace_list_for_user(*, user) -> list[Workspace]:
    return [m.workspace for m in Membership.objects.filter(user=user).select_related("workspace")]


def membership_get(*, workspace: Workspace, user) -> Membership | None:
    return Membership.objects.filter(workspace=workspace, user=user).first()
