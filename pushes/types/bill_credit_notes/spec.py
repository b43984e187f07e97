"""Bill credit notes (Railz `PushBillCreditNoteV2`): create only, Railz has no update or delete
for them, so the push plan refuses both with `operationNotSupported`."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field
from pushes.spec.documents import BILLABLE_STATUS, LINE_FIELDS, header, party
from pushes.spec.rules import discount_is_a_percentage, line_needs_account_or_item

SPEC = DocumentSpec(
    data_type="billCreditNotes",
    model="pushes.BillCreditNote",
    line_model="pushes.BillCreditNoteLine",
    mirror="refs.OpenBillCreditNote",
    party="vendor",
    fields=header(
        party("vendor", required_message="Vendor is required: choose who owes the credit."),
        Field("credit_note_number", "billCreditNoteNumber", "Credit note number", strip=True),
        due_date=False,
    ),
    line_fields=(*LINE_FIELDS, BILLABLE_STATUS),
    line_rules=(discount_is_a_percentage, line_needs_account_or_item),
)
