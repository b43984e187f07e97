from django.apps import AppConfig


class PushesConfig(AppConfig):
    name = "pushes"
    verbose_name = "Pushes"

    def ready(self) -> None:
        # The mirror of open documents follows the pushes that make and pay them.
        from pushes.services import open_documents  # noqa: F401
