"""Invoices (Railz `PushInvoiceV2`): what each field is and where it goes in the body."""

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
from pushes.spec.rules import discount_is_a_percentage, due_date_not_before_posted_date
from pushes.types.invoices.rules import xero_line_needs_account_or_item

SPEC = DocumentSpec(
    data_type="invoices",
    model="pushes.Invoice",
    line_model="pushes.InvoiceLine",
    party="customer",
    number="invoice_number",
    fields=field_list(
        Field(
            "customer",
            "customerRef",
            "Customer",
            Kind.REF,
            ready=True,
            required_message="Customer is required: choose who the invoice is for.",
        ),
        Field("invoice_number", "invoiceNumber", "Invoice number", strip=True, unique_within=()),
        POSTED_DATE,
        DUE_DATE,
        CURRENCY,
        CURRENCY_RATE,
        MEMO,
        SUBSIDIARIES,
    ),
    line_fields=LINE_FIELDS,
    rules=(due_date_not_before_posted_date,),
    line_rules=(discount_is_a_percentage, xero_line_needs_account_or_item),
)
