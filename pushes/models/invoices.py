"""Invoices staff compose for one connection.

An invoice mirrors Railz's invoice push body (`PushInvoiceV2`): every field here has a
counterpart in `data` of `POST /v2/accounting/invoices`, built by `pushes.payloads`. References
point at the connection's mirrored reference rows (`refs`), never at another connection's: the
database refuses such a row (triggers in migration 0001), the services refuse it with a
sentence first.

Money and quantities are `Decimal` end to end; they become JSON numbers only in the payload.
"""

from __future__ import annotations

from django.db import models

from pushes.types.base import Document, DocumentLine, PushableStatus
from railzpush.railz.datatypes import INVOICE

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


class Invoice(Document):
    """An invoice to push to one connection's accounting system (Railz `PushInvoiceV2`)."""

    # customerRef: required by Railz, but a draft may not have chosen one yet.
    customer = models.ForeignKey(
        "refs.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice_number = models.CharField(
        "invoice number", max_length=INVOICE.fields["invoiceNumber"].max_length, blank=True
    )
    due_date = models.DateField("due date", null=True, blank=True)

    number_field = "invoice_number"

    class Meta(Document.Meta):
        indexes = [
            models.Index(fields=["connection", "invoice_number"], name="pushes_invoice_number"),
            models.Index(fields=["connection", "-posted_date"], name="pushes_invoice_posted"),
            # The list's default order (newest first): a page is a range, never a sort.
            models.Index(fields=["-created_at", "-id"], name="pushes_invoice_recent"),
        ]


class InvoiceLine(DocumentLine):
    """One line of an invoice (Railz `InvoiceLineItemV2`)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["invoice", "position", "id"]
