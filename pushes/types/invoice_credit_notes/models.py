"""Invoice credit notes (Railz `PushInvoiceCreditNoteV2`): money owed back to a customer."""

from __future__ import annotations

from django.db import models

from pushes.types.base import Document, DocumentLine

__all__ = ["InvoiceCreditNote", "InvoiceCreditNoteLine"]


class InvoiceCreditNote(Document):
    """An invoice credit note to push to one connection's accounting system (create only)."""

    customer = models.ForeignKey(
        "refs.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_note_number = models.CharField("credit note number", max_length=255, blank=True)

    number_field = "credit_note_number"

    class Meta(Document.Meta):
        verbose_name = "invoice credit note"
        # The list's default order (newest first): a page is a range, never a sort.
        indexes = [models.Index(fields=["-created_at", "-id"], name="pushes_invoicecn_recent")]


class InvoiceCreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(
        InvoiceCreditNote, on_delete=models.CASCADE, related_name="lines"
    )

    class Meta:
        ordering = ["credit_note", "position", "id"]
