import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import require_service


@pytest.fixture
def broker_required():
    require_service(settings.CELERY_BROKER_URL.startswith("redis"), "needs Redis (make test starts one)")
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (make test starts one)")
