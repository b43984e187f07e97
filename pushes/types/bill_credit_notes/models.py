"""Bill credit notes (Railz `PushBillCreditNoteV2`): money a vendor owes back."""

from __future__ import annotations

from django.db import models

from pushes.types.base import Document, DocumentLine
from pushes.types.bills.models import BILLABLE_STATUS_CHOICES

__all__ = ["BillCreditNote", "BillCreditNoteLine"]


class BillCreditNote(Document):
    """A bill credit note to push to one connection's accounting system (create only)."""

    vendor = models.ForeignKey(
        "refs.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_note_number = models.CharField("credit note number", max_length=255, blank=True)

    number_field = "credit_note_number"

    class Meta(Document.Meta):
        verbose_name = "bill credit note"
        # The list's default order (newest first): a page is a range, never a sort.
        indexes = [models.Index(fields=["-created_at", "-id"], name="pushes_billcn_recent")]


class BillCreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(BillCreditNote, on_delete=models.CASCADE, related_name="lines")
    billable_status = models.CharField(
        "billable status", max_length=20, choices=BILLABLE_STATUS_CHOICES, blank=True
    )

    class Meta:
        ordering = ["credit_note", "position", "id"]
