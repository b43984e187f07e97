"""Journal entries staff compose for one connection (Railz `PushJournalEntriesV2`): accruals,
loan drawdowns, fee postings; lines that debit and credit accounts and balance."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from pushes.types.base import Document, RecordLine

__all__ = ["JournalEntry", "JournalEntryLine"]


class JournalEntry(Document):
    """A journal entry to push to one connection's accounting system."""

    journal_number = models.CharField("journal number", max_length=255, blank=True)

    number_field = "journal_number"

    class Meta(Document.Meta):
        verbose_name = "journal entry"
        verbose_name_plural = "journal entries"
        # The list's default order (newest first): a page is a range, never a sort.
        indexes = [models.Index(fields=["-created_at", "-id"], name="pushes_journal_recent")]


def _amount(name: str) -> models.DecimalField:
    return models.DecimalField(name, max_digits=18, decimal_places=4, null=True, blank=True)


class JournalEntryLine(RecordLine):
    """One line (Railz `JournalEntryLineItemsV2`): one account debited or credited, perhaps
    for a customer or a vendor (its `entityRef`)."""

    journal_entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    debit = _amount("debit")
    credit = _amount("credit")
    customer = models.ForeignKey(
        "refs.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.ForeignKey(
        "refs.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["journal_entry", "position", "id"]

    @property
    def amount(self) -> Decimal | None:
        """Debits positive, credits negative: what the line moves."""
        if self.debit is None and self.credit is None:
            return None
        return (self.debit or Decimal(0)) - (self.credit or Decimal(0))
