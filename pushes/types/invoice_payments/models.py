"""Invoice payments (Railz `PushInvoicePaymentV2`): money a customer paid against invoices."""

from __future__ import annotations

from django.db import models

from pushes.types.payments import Payment, PaymentLine

__all__ = ["InvoicePayment", "InvoicePaymentLine"]


class InvoicePayment(Payment):
    customer = models.ForeignKey(
        "refs.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Payment.Meta):
        pass


class InvoicePaymentLine(PaymentLine):
    payment = models.ForeignKey(InvoicePayment, on_delete=models.CASCADE, related_name="lines")
    document = models.ForeignKey(
        "refs.OpenInvoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="invoice",
    )
    credit_note = models.ForeignKey(
        "refs.OpenInvoiceCreditNote",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="credit note",
    )

    class Meta:
        ordering = ["payment", "position", "id"]
