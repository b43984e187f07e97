"""What a record looks like on the wire: the `data` of its Railz push body, built from the model.

Builders return plain JSON-ready dicts: amounts as JSON numbers (never strings, never binary
floats with noise: a Decimal of 100.5 goes out as 100.5), dates as YYYY-MM-DD, references as
`{"id": <remote id>}`, and empty optional fields left out, because Railz reads an empty string
as a value (an empty `memo` would blank the provider's own).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects

from pushes.models import Invoice, InvoiceLine
from pushes.tracking import tracking_category_refs

__all__ = [
    "decimal_number",
    "invoice_build_payload",
    "invoice_describe",
    "invoice_lines_prefetch",
    "invoice_request_body",
    "payload_hash",
]


def invoice_lines_prefetch() -> Prefetch:
    """What building an invoice's payload reads of its lines, in a fixed number of queries."""
    return Prefetch(
        "lines",
        queryset=InvoiceLine.objects.select_related("account", "item", "tax_rate")
        .prefetch_related("tracking_options__category")
        .order_by("position", "id"),
    )


def decimal_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number Railz expects: 3 -> 3, 100.5000 -> 100.5.

    The stored decimals (at most 10 places, 18 digits) round-trip through a float's shortest
    repr exactly, so the number written is the number typed.
    """
    if value == value.to_integral_value():
        return int(value)
    return float(value.normalize())


def payload_hash(data: dict[str, Any]) -> str:
    """A stable hash of a push `data` object: same content, same hash, whatever the key order.

    The push pipeline stores it as `last_pushed_hash` when a push succeeds; the record keeps
    the hash of what it would push now in `payload_hash`, and the two differ once it changed.
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ref(record: Any) -> dict[str, str] | None:
    return {"id": record.remote_id} if record is not None else None


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", [])}


def _invoice_line_payload(line: InvoiceLine) -> dict[str, Any]:
    return _without_empty(
        {
            "description": line.description,
            "quantity": None if line.quantity is None else decimal_number(line.quantity),
            "unitAmount": None if line.unit_amount is None else decimal_number(line.unit_amount),
            "discountPercentage": None
            if line.discount_percentage is None
            else decimal_number(line.discount_percentage),
            "accountRef": _ref(line.account),
            "inventoryRef": _ref(line.item),
            "taxRateRef": _ref(line.tax_rate),
            "trackingCategoryRefs": tracking_category_refs(line.tracking_options.all()),
        }
    )


def _prefetch(invoice: Invoice) -> None:
    cached = getattr(invoice, "_prefetched_objects_cache", {})
    missing = [
        lookup
        for name, lookup in (("lines", invoice_lines_prefetch()), ("subsidiaries", "subsidiaries"))
        if name not in cached
    ]
    if missing and invoice.pk is not None:
        prefetch_related_objects([invoice], *missing)


def invoice_build_payload(invoice: Invoice) -> dict[str, Any]:
    """The `data` of `POST /v2/accounting/invoices` (and of `PUT …/invoices/{id}`).

    Reads the invoice's lines and references in a fixed number of queries (none when the
    invoice was loaded with `invoice_lines_prefetch()` and its subsidiaries prefetched).
    """
    _prefetch(invoice)
    data = _without_empty(
        {
            "invoiceNumber": invoice.invoice_number,
            "postedDate": invoice.posted_date.isoformat() if invoice.posted_date else None,
            "dueDate": invoice.due_date.isoformat() if invoice.due_date else None,
            "currency": invoice.currency,
            "currencyRate": None
            if invoice.currency_rate is None
            else decimal_number(invoice.currency_rate),
            "memo": invoice.memo,
            "customerRef": _ref(invoice.customer),
            "subsidiaryRefs": [
                _ref(s) for s in sorted(invoice.subsidiaries.all(), key=lambda s: s.remote_id)
            ],
        }
    )
    # `lines` is required by Railz even when empty: an empty list says "no lines" out loud.
    data["lines"] = [_invoice_line_payload(line) for line in invoice.lines.all()]
    return data


def invoice_request_body(invoice: Invoice) -> dict[str, Any]:
    """The whole body of `POST /v2/accounting/invoices`: `{"connectionUuid", "data"}`."""
    return {
        "connectionUuid": invoice.connection.connection_uuid,
        "data": invoice_build_payload(invoice),
    }


def invoice_describe(invoice: Invoice) -> str:
    """A sentence naming the invoice for people: "Invoice INV-1001 for Acme Ltd"."""
    number = invoice.invoice_number or (f"#{invoice.pk}" if invoice.pk else "(new)")
    if invoice.customer_id is None:
        return f"Invoice {number} (no customer yet)"
    customer = invoice.customer
    return f"Invoice {number} for {customer.name or customer.remote_id}"
