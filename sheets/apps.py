from django.apps import AppConfig


class SheetsConfig(AppConfig):
    name = "sheets"
    verbose_name = "Spreadsheets"
    default_auto_field = "django.db.models.BigAutoField"
