from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "railzpush.api"
    label = "api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from railzpush.api import schema  # noqa: F401  (registers the OpenAPI extensions)
