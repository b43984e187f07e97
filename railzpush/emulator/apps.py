from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    name = "railzpush.emulator"
    label = "emulator"
    verbose_name = "Railz emulator"
