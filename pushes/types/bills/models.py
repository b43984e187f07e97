"""Bills staff compose for one connection (Railz `PushBillV2`): what a vendor asks to be paid."""

from __future__ import annotations

from django.db import models

from pushes.types.base import Document, DocumentLine
from railzpush.railz.datatypes import BILL, BILLABLE_STATUSES

__all__ = ["Bill", "BillLine"]

BILLABLE_STATUS_CHOICES = [(status, status) for status in BILLABLE_STATUSES]


class Bill(Document):
    """A bill to push to one connection's accounting system."""

    # vendorRef: required by Railz, but a draft may not have chosen one yet.
    vendor = models.ForeignKey(
        "refs.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    vendor_invoice_number = models.CharField(
        "vendor invoice number",
        max_length=BILL.fields["vendorInvoiceNumber"].max_length,
        blank=True,
        help_text="The number on the vendor's invoice; unique per vendor.",
    )
    due_date = models.DateField("due date", null=True, blank=True)

    number_field = "vendor_invoice_number"

    class Meta(Document.Meta):
        indexes = [
            models.Index(
                fields=["connection", "vendor", "vendor_invoice_number"], name="pushes_bill_number"
            ),
            # The list's default order (newest first): a page is a range, never a sort.
            models.Index(fields=["-created_at", "-id"], name="pushes_bill_recent"),
        ]


class BillLine(DocumentLine):
    """One line of a bill (Railz `PushBillLineItemV2`): it may be billed on to a customer."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    customer = models.ForeignKey(
        "refs.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    billable_status = models.CharField(
        "billable status", max_length=20, choices=BILLABLE_STATUS_CHOICES, blank=True
    )

    class Meta:
        ordering = ["bill", "position", "id"]
