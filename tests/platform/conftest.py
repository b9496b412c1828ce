import pytest
from django.db import connection

from tenancy.services import credit_grant
from tests.conftest import require_service
from tests.factories import BrandFactory, MembershipFactory


@pytest.fixture
def two_workspaces(db):
    """Workspaces A and B, each with an owner, a brand and 10 credits."""
    out = {}
    for name in ("a", "b"):
        membership = MembershipFactory(workspace__name=f"Workspace {name.upper()}")
        brand = BrandFactory(workspace=membership.workspace, name=f"Brand {name.upper()}")
        credit_grant(workspace=membership.workspace, amount=10)
        out[name] = {"workspace": membership.workspace, "user": membership.user, "brand": brand}
    return out


@pytest.fixture
def postgres_only():
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (make test starts one)")
