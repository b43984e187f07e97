"""Bill credit notes (Railz `PushBillCreditNoteV2`): create only, Railz has no update or delete
for them, so the push plan refuses both with `operationNotSupported`."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field, Kind, field_list
from pushes.spec.documents import (
    CURRENCY,
    CURRENCY_RATE,
    LINE_FIELDS,
    MEMO,
    POSTED_DATE,
    SUBSIDIARIES,
)
from pushes.spec.rules import discount_is_a_percentage, line_needs_account_or_item

SPEC = DocumentSpec(
    data_type="billCreditNotes",
    model="pushes.BillCreditNote",
    line_model="pushes.BillCreditNoteLine",
    party="vendor",
    number="credit_note_number",
    fields=field_list(
        Field(
            "vendor",
            "vendorRef",
            "Vendor",
            Kind.REF,
            ready=True,
            required_message="Vendor is required: choose who owes the credit.",
        ),
        Field("credit_note_number", "billCreditNoteNumber", "Credit note number", strip=True),
        POSTED_DATE,
        CURRENCY,
        CURRENCY_RATE,
        MEMO,
        SUBSIDIARIES,
    ),
    line_fields=(
        *LINE_FIELDS,
        Field("billable_status", "billableStatus", "billable status", Kind.CHOICE),
    ),
    line_rules=(discount_is_a_percentage, line_needs_account_or_item),
)
