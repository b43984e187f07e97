from django.apps import AppConfig


class RailzpushConfig(AppConfig):
    name = "railzpush"
    verbose_name = "railzpush"

    def ready(self):
        from railzpush import (
            checks,  # noqa: F401  (registers the system checks)
            cluster,
        )

        cluster.install()  # clusters stop gracefully on their process group's SIGTERM
