"""What an import keeps: the file as uploaded, where its check stands, and the keys imported.

`ImportedKey` is what makes an import idempotent: a key (the sheet's `Key` column, or the
document's number) is written in the same transaction as the record it created, unique per
connection and type, so the same file or the same keys twice create nothing new, and a worker
killed halfway leaves each record either whole with its key or absent with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["ImportedKey", "SheetImport"]


class SheetImport(models.Model):
    class State(models.TextChoices):
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked: waiting for confirmation"
        REFUSED = "refused", "File refused"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"

    connection = models.ForeignKey("refs.Connection", on_delete=models.PROTECT, related_name="+")
    data_type = models.CharField(max_length=40, help_text="Railz dataType, e.g. invoices.")
    file_name = models.CharField(max_length=255, blank=True)
    # The file itself, so a worker on another machine reads what was uploaded.
    content = models.BinaryField(editable=False)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.CHECKING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # The check's answer: counts, problems by row and column, notes, each row's key and outcome.
    preview = models.JSONField(default=dict, blank=True)
    refusal = models.TextField(blank=True)
    refusal_rule = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "spreadsheet import"

    def __str__(self) -> str:
        return f"{self.file_name or 'Import'} ({self.data_type})"

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0 if self.state in (self.State.CHECKING, self.State.IMPORTING) else 100
        return min(100, round(100 * self.progress_done / self.progress_total))


class ImportedKey(models.Model):
    connection = models.ForeignKey("refs.Connection", on_delete=models.PROTECT, related_name="+")
    data_type = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    record_id = models.PositiveBigIntegerField()
    sheet_import = models.ForeignKey(
        SheetImport, null=True, on_delete=models.SET_NULL, related_name="keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "data_type", "key"], name="sheets_imported_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.data_type} {self.key}"
