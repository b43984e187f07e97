"""Bill payments (Railz `PushBillPaymentV2`): money paid to a vendor against bills."""

from __future__ import annotations

from django.db import models

from pushes.types.payments import Payment, PaymentLine

__all__ = ["BillPayment", "BillPaymentLine"]


class BillPayment(Payment):
    vendor = models.ForeignKey(
        "refs.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Payment.Meta):
        pass


class BillPaymentLine(PaymentLine):
    payment = models.ForeignKey(BillPayment, on_delete=models.CASCADE, related_name="lines")
    document = models.ForeignKey(
        "refs.OpenBill",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="bill",
    )
    credit_note = models.ForeignKey(
        "refs.OpenBillCreditNote",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="credit note",
    )

    class Meta:
        ordering = ["payment", "position", "id"]
