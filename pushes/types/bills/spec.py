"""Bills (Railz `PushBillV2`): what each field is and where it goes in the body."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field, Kind, field_list
from pushes.spec.documents import (
    CURRENCY,
    CURRENCY_RATE,
    DUE_DATE,
    LINE_FIELDS,
    MEMO,
    POSTED_DATE,
    SUBSIDIARIES,
)
from pushes.spec.rules import (
    discount_is_a_percentage,
    due_date_not_before_posted_date,
    line_needs_account_or_item,
)
from pushes.types.bills.rules import netsuite_needs_a_subsidiary

SPEC = DocumentSpec(
    data_type="bills",
    model="pushes.Bill",
    line_model="pushes.BillLine",
    party="vendor",
    number="vendor_invoice_number",
    fields=field_list(
        Field(
            "vendor",
            "vendorRef",
            "Vendor",
            Kind.REF,
            ready=True,
            required_message="Vendor is required: choose who sent the bill.",
        ),
        Field(
            "vendor_invoice_number",
            "vendorInvoiceNumber",
            "Vendor invoice number",
            strip=True,
            unique_within=("vendor",),
        ),
        POSTED_DATE,
        DUE_DATE,
        CURRENCY,
        CURRENCY_RATE,
        MEMO,
        SUBSIDIARIES,
    ),
    line_fields=(
        *LINE_FIELDS,
        Field("customer", "customerRef", "customer", Kind.REF),
        Field("billable_status", "billableStatus", "billable status", Kind.CHOICE),
    ),
    rules=(due_date_not_before_posted_date, netsuite_needs_a_subsidiary),
    line_rules=(discount_is_a_percentage, line_needs_account_or_item),
)
