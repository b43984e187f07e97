"""Bills (Railz `PushBillV2`): what each field is and where it goes in the body."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field, Kind
from pushes.spec.documents import BILLABLE_STATUS, LINE_FIELDS, header, party
from pushes.spec.rules import (
    discount_is_a_percentage,
    due_date_not_before_posted_date,
    line_needs_account_or_item,
)
from pushes.types.bills.rules import netsuite_needs_a_subsidiary

SPEC = DocumentSpec(
    data_type="bills",
    model="pushes.Bill",
    mirror="refs.OpenBill",
    line_model="pushes.BillLine",
    party="vendor",
    fields=header(
        party("vendor", required_message="Vendor is required: choose who sent the bill."),
        # Unique per vendor, as the providers keep it.
        Field(
            "vendor_invoice_number",
            "vendorInvoiceNumber",
            "Vendor invoice number",
            strip=True,
            unique_within=("vendor",),
        ),
        due_date=True,
    ),
    # A bill's line may be billed on to a customer.
    line_fields=(
        *LINE_FIELDS,
        Field("customer", "customerRef", "customer", Kind.REF),
        BILLABLE_STATUS,
    ),
    rules=(due_date_not_before_posted_date, netsuite_needs_a_subsidiary),
    line_rules=(discount_is_a_percentage, line_needs_account_or_item),
)
