from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Workspaces and access"

    def ready(self):
        from . import dbrole, signals  # noqa: F401  (registers the database-role check, key revocation)
