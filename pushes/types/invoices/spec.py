"""Invoices (Railz `PushInvoiceV2`): what each field is and where it goes in the body."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field
from pushes.spec.documents import LINE_FIELDS, header, party
from pushes.spec.rules import discount_is_a_percentage, due_date_not_before_posted_date
from pushes.types.invoices.rules import xero_line_needs_account_or_item

SPEC = DocumentSpec(
    data_type="invoices",
    model="pushes.Invoice",
    mirror="refs.OpenInvoice",
    line_model="pushes.InvoiceLine",
    party="customer",
    fields=header(
        party("customer", required_message="Customer is required: choose who the invoice is for."),
        Field("invoice_number", "invoiceNumber", "Invoice number", strip=True, unique_within=()),
        due_date=True,
    ),
    line_fields=LINE_FIELDS,
    rules=(due_date_not_before_posted_date,),
    line_rules=(discount_is_a_percentage, xero_line_needs_account_or_item),
)
