"""Invoice credit notes (Railz `PushInvoiceCreditNoteV2`): create only, Railz has no update or
delete for them, so the push plan refuses both with `operationNotSupported`."""

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
from pushes.spec.rules import discount_is_a_percentage
from pushes.types.invoices.rules import xero_line_needs_account_or_item

SPEC = DocumentSpec(
    data_type="invoiceCreditNotes",
    model="pushes.InvoiceCreditNote",
    line_model="pushes.InvoiceCreditNoteLine",
    party="customer",
    number="credit_note_number",
    fields=field_list(
        Field(
            "customer",
            "customerRef",
            "Customer",
            Kind.REF,
            ready=True,
            required_message="Customer is required: choose who the credit note is for.",
        ),
        Field("credit_note_number", "invoiceCreditNoteNumber", "Credit note number", strip=True),
        POSTED_DATE,
        CURRENCY,
        CURRENCY_RATE,
        MEMO,
        SUBSIDIARIES,
    ),
    line_fields=LINE_FIELDS,
    line_rules=(discount_is_a_percentage, xero_line_needs_account_or_item),
)
