"""WSGI entry point (gunicorn config.wsgi). Refuses to start when the database role could
bypass row-level security (TENANCY_REQUIRE_RLS_ROLE, on in production settings)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

from tenancy.dbrole import database_role_require_if_configured  # noqa: E402  (needs apps loaded)

database_role_require_if_configured(process="web")

# Import every route now (the URLconf loads lazily on the first request otherwise): with
# gunicorn's preload_app the forked workers share it and none pays the import on a request.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns
