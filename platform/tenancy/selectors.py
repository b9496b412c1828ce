"""Reads for tenancy that no single workspace's context can answer."""
from __future__ import annotations

from .models import Workspace


def brand_find_for_operator(*, brand_id: int):
    """Operator CLIs name a brand by id before any tenant is known. Row-level security hides
    it outside its workspace, so look in each workspace's context in turn (O(workspaces),
    fine for a command line; never use this in a request path)."""
    from .context import tenant_context
    from .models import Brand

    for workspace_id in Workspace.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(workspace_id):
            brand = Brand.objects.filter(pk=brand_id).first()
        if brand is not None:
            return brand
    return None
