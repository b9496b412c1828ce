"""The embedded demo's user, workspace and brand (idempotent)."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from .context import tenant_context
from .models import Brand, Membership
from .services import workspace_create

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # local laptop demo only; `make serve` prints it
DEMO_EMAIL = "demo@localhost"


@transaction.atomic
def demo_workspace_ensure() -> tuple:
    """Return (user, workspace, brand) for the demo, creating them on first use."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=DEMO_USERNAME)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.email = DEMO_EMAIL
        user.save()
    # Accounts require a verified address (allauth); the demo login is verified up front.
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(user=user, email=user.email or DEMO_EMAIL,
                                       defaults={"verified": True, "primary": True})
    membership = Membership.objects.filter(user=user).select_related("workspace").first()
    workspace = membership.workspace if membership else workspace_create(name="Demo Shop", owner=user)
    with tenant_context(workspace):
        brand = Brand.objects.order_by("pk").first()
        if brand.name != "Northwind":
            brand.name, brand.primary_color, brand.secondary_color, brand.accent_color = (
                "Northwind", "#0F3D3E", "#F4F0E8", "#F59E0B")
            brand.save()
    return user, workspace, brand

