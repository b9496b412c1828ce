from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Public REST API"

    def ready(self):
        from . import schema  # noqa: F401 - registers the bearer-auth OpenAPI extension
        from .webhooks import receivers  # noqa: F401 - job_finished → video.* events
