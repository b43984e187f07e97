"""Invoices by their own names, over the services every declared record type shares.

The rules live in the invoice's declaration (`pushes.types.invoices`) and the generic checks
(`pushes.record_checks`); these names stay because callers and tests speak of invoices.
The provider's own rules come from the connection's kept `pushOptions`
(`pushes.services.push_options` fetches them); validation reads that copy and never calls Railz.
"""

from __future__ import annotations

from typing import Any

from pushes import registry
from pushes.models import Invoice
from pushes.payloads import record_request_body
from pushes.services.records import (
    RecordInvalid,
    record_create,
    record_save_problems,
    record_update,
    record_validate,
)
from pushes.spec import FieldProblem, LineData, RecordData

__all__ = [
    "InvoiceData",
    "InvoiceInvalid",
    "InvoiceLineData",
    "invoice_create",
    "invoice_payload",
    "invoice_save_problems",
    "invoice_update",
    "invoice_validate",
]

InvoiceInvalid = RecordInvalid
InvoiceLineData = LineData


class InvoiceData(RecordData):
    """A whole invoice as a caller gives it (see `RecordData`)."""

    @classmethod
    def from_invoice(cls, invoice: Invoice) -> InvoiceData:
        return cls.from_record(invoice, spec=registry.for_model(invoice).spec)


def invoice_validate(
    *, invoice: Invoice | None = None, data: RecordData | None = None
) -> list[FieldProblem]:
    """Every reason the invoice cannot be pushed; [] means it is ready (`record_validate`)."""
    if invoice is None and data is None:
        raise TypeError("invoice_validate needs an invoice or its data")
    return record_validate(data_type="invoices", record=invoice, data=data)


def invoice_save_problems(
    *, data: RecordData, invoice: Invoice | None = None
) -> list[FieldProblem]:
    """What saving `data` would be refused for (`record_save_problems`)."""
    return record_save_problems(data_type="invoices", data=data, record=invoice)


def invoice_create(*, data: RecordData, user: Any = None) -> Invoice:
    """Store a new invoice and its lines together, or nothing; raises InvoiceInvalid."""
    return record_create(data_type="invoices", data=data, user=user)


def invoice_update(*, invoice: Invoice, data: RecordData, user: Any = None) -> Invoice:
    """Replace an invoice's fields and lines with `data`, together or not at all."""
    return record_update(record=invoice, data=data, user=user)


def invoice_payload(*, invoice: Invoice) -> dict[str, Any]:
    """The exact body `POST /v2/accounting/invoices` would receive for this invoice now."""
    return record_request_body(invoice)
