"""Role checks for dashboard views: every view names the least role it needs.

Roles, from most to least: owner > admin > editor > viewer. Viewers see everything in their
workspace but cannot create, edit or spend; admins (and owners) also manage members and keys."""
from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from tenancy.models import Membership

RANK = {Membership.Role.VIEWER: 0, Membership.Role.EDITOR: 1, Membership.Role.ADMIN: 2, Membership.Role.OWNER: 3}
VIEW, EDIT, MANAGE = Membership.Role.VIEWER, Membership.Role.EDITOR, Membership.Role.ADMIN


def has_role(membership: Membership | None, role: str) -> bool:
    return membership is not None and RANK[membership.role] >= RANK[role]


def role_required(role: str = VIEW, *, write_only: bool = False):
    """Signed in, a member of the current workspace, and at least ``role``. With
    ``write_only`` the role is needed for POST (and other unsafe methods) only, so a viewer
    may still open the page."""

    def decorator(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.workspace is None:
                return redirect("dashboard:no-workspace")
            needs = role if (not write_only or request.method not in ("GET", "HEAD")) else VIEW
            if not has_role(request.membership, needs):
                raise PermissionDenied(f"Your role ({request.membership.role}) cannot do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
