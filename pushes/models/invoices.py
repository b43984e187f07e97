"""Invoices staff compose for one connection.

An invoice mirrors Railz's invoice push body (`PushInvoiceV2`): every field here has a
counterpart in `data` of `POST /v2/accounting/invoices`, built by `pushes.payloads`. References
point at the connection's mirrored reference rows (`refs`), never at another connection's: the
database refuses such a row (triggers in migration 0001), the services refuse it with a
sentence first.

Money and quantities are `Decimal` end to end; they become JSON numbers only in the payload.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "Invoice",
    "InvoiceLine",
    "PushableStatus",
]


# ISO 4217 active codes and their minor units (digits after the decimal point), so a currency
# typo is caught here rather than by the accounting system, and totals round the way it does.
def _units(codes: str, minor_units: int) -> dict[str, int]:
    return dict.fromkeys(codes.split(), minor_units)


CURRENCY_MINOR_UNITS: dict[str, int] = {
    **_units(
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP "
        "BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
        "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT "
        "LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN "
        "NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP "
        "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES "
        "WST XCD YER ZAR ZMW ZWG",
        2,
    ),
    **_units("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF", 0),
    **_units("BHD IQD JOD KWD LYD OMR TND", 3),
}


class PushableStatus(models.TextChoices):
    # A draft may be incomplete; only a ready record is checked in full and can be pushed.
    DRAFT = "draft"
    READY = "ready"


class Invoice(models.Model):
    """An invoice to push to one connection's accounting system (Railz `PushInvoiceV2`)."""

    connection = models.ForeignKey(
        "refs.Connection", on_delete=models.PROTECT, related_name="invoices"
    )
    status = models.CharField(
        max_length=10, choices=PushableStatus.choices, default=PushableStatus.DRAFT
    )
    # customerRef: required by Railz, but a draft may not have chosen one yet.
    customer = models.ForeignKey(
        "refs.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice_number = models.CharField("invoice number", max_length=21, blank=True)
    posted_date = models.DateField("posted date", null=True, blank=True)
    due_date = models.DateField("due date", null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code, e.g. CAD.")
    currency_rate = models.DecimalField(
        "currency rate",
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        help_text="Units of the business's base currency for one unit of this currency.",
    )
    memo = models.TextField(max_length=4000, blank=True)
    subsidiaries = models.ManyToManyField("refs.Subsidiary", blank=True, related_name="+")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Hash of the `data` the invoice builds now (`pushes.payloads.payload_hash`), kept by the
    # services on every write so the list can tell "changed since push" without rebuilding
    # every payload.
    payload_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Written by the push pipeline when a push succeeds; read-only here.
    provider_record_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The invoice's id in the accounting system (Railz sourceObjectIds[0]).",
    )
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    last_pushed_hash = models.CharField(max_length=64, blank=True)

    # Push history, newest first. Deleting an invoice would delete it too: the admin refuses
    # to delete an invoice that has any.
    push_requests = GenericRelation("pushes.PushRequest", related_query_name="invoice")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "invoice_number"], name="pushes_invoice_number"),
            models.Index(fields=["connection", "-posted_date"], name="pushes_invoice_posted"),
        ]

    def __str__(self) -> str:
        if self.invoice_number:
            return self.invoice_number
        return f"Invoice #{self.pk}" if self.pk else "New invoice"

    @property
    def changed_since_push(self) -> bool:
        """Whether the invoice now differs from what was last pushed successfully."""
        return bool(self.last_pushed_hash) and self.payload_hash != self.last_pushed_hash


class InvoiceLine(models.Model):
    """One line of an invoice (Railz `InvoiceLineItemV2`)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(max_length=4000, blank=True)
    quantity = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    unit_amount = models.DecimalField(
        "unit amount", max_digits=18, decimal_places=4, null=True, blank=True
    )
    discount_percentage = models.DecimalField(
        "discount %", max_digits=7, decimal_places=4, null=True, blank=True
    )
    account = models.ForeignKey(
        "refs.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "refs.Item",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="inventory item",
    )
    tax_rate = models.ForeignKey(
        "refs.TaxRate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="tax rate",
    )
    tracking_options = models.ManyToManyField(
        "refs.TrackingOption", blank=True, related_name="+", verbose_name="tracking"
    )

    class Meta:
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return self.description[:60] or f"Line {self.position + 1}"

    @property
    def amount(self) -> Decimal | None:
        if self.quantity is None or self.unit_amount is None:
            return None
        return self.quantity * self.unit_amount
