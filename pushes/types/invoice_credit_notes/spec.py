"""Invoice credit notes (Railz `PushInvoiceCreditNoteV2`): create only, Railz has no update or
delete for them, so the push plan refuses both with `operationNotSupported`."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field
from pushes.spec.documents import LINE_FIELDS, header, party
from pushes.spec.rules import discount_is_a_percentage
from pushes.types.invoices.rules import xero_line_needs_account_or_item

SPEC = DocumentSpec(
    data_type="invoiceCreditNotes",
    model="pushes.InvoiceCreditNote",
    line_model="pushes.InvoiceCreditNoteLine",
    mirror="refs.OpenInvoiceCreditNote",
    party="customer",
    fields=header(
        party("customer", required_message="Customer is required: choose who is credited."),
        Field("credit_note_number", "invoiceCreditNoteNumber", "Credit note number", strip=True),
        due_date=False,
    ),
    line_fields=LINE_FIELDS,
    line_rules=(discount_is_a_percentage, xero_line_needs_account_or_item),
)
