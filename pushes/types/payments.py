"""Payments (Railz `invoicePayments`, `billPayments`): money received or paid, applied to open
documents through its lines, one line an allocation to one document (`lines[].links[]`).

The documents (and credit notes) are rows of the refs mirror (`refs.OpenInvoice`,
`refs.OpenBill`, `refs.OpenInvoiceCreditNote`, `refs.OpenBillCreditNote`): those the
accounting system made, and those composed here once their push is queued (a row whose id
there is not known yet, see `pushes.services.open_documents`). A type adds who pays or is
paid and which mirror its lines apply to.
"""

from __future__ import annotations

from django.db import models

from pushes.types.base import PushableRecord
from railzpush.railz.datatypes import PAYMENT_METHOD_TYPES

__all__ = ["Payment", "PaymentLine"]

PAYMENT_METHOD_CHOICES = [(method, method) for method in PAYMENT_METHOD_TYPES]


class Payment(PushableRecord):
    """A payment to push to one connection's accounting system."""

    account = models.ForeignKey(
        "refs.Account",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"is_bank_account": True},
        verbose_name="bank account",
        help_text="The bank account the money went into or came out of.",
    )
    date = models.DateField("payment date", null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code, e.g. CAD.")
    currency_rate = models.DecimalField(
        "currency rate", max_digits=20, decimal_places=10, null=True, blank=True
    )
    total_amount = models.DecimalField(
        "total amount",
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The whole payment; it must equal the amounts applied to the documents.",
    )
    payment_method = models.CharField(
        "payment method", max_length=20, choices=PAYMENT_METHOD_CHOICES, blank=True
    )
    memo = models.TextField(max_length=4000, blank=True)

    number_field = ""

    class Meta(PushableRecord.Meta):
        abstract = True

    def __str__(self) -> str:
        label = self._meta.verbose_name
        return f"{label[:1].upper()}{label[1:]} #{self.pk}" if self.pk else f"New {label}"


class PaymentLine(models.Model):
    """An amount of the payment applied to one document, or credit of one credit note applied
    with it. The concrete line declares the foreign key to its payment (`related_name="lines"`),
    `document` to its documents' mirror and `credit_note` to its credit notes' mirror."""

    position = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    allocated_on_date = models.DateField("allocated on", null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        if self.credit_note_id:
            return f"{self.amount} of credit from {self.credit_note}"
        return f"{self.amount} to {self.document}" if self.document_id else f"Line {self.position}"
