"""What tells one record from another, whatever its type: its number, party, total and date.

Read from a pushed `data` or from a record read back from Railz (they use the same field
names). Reconciliation compares them to tie a Railz push to a local one; an update or a delete
compares them before it is sent, so a provider id adopted wrongly never overwrites or deletes
another record. Pure functions of JSON: they read no model and call no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "IDENTITY_FIELDS",
    "identity_differences",
    "identity_in_words",
    "identity_proves",
    "record_identity",
]

# The first of these a body or a record has is its number (customers and vendors: their name).
NUMBER_FIELDS = (
    "invoiceNumber",
    "vendorInvoiceNumber",
    "billNumber",
    "creditNoteNumber",
    "journalNumber",
    "paymentNumber",
    "referenceNumber",
    "reference",
    "customerName",
    "vendorName",
)
PARTY_FIELDS = ("customerRef", "vendorRef", "contactRef")
DATE_FIELDS = ("postedDate", "date", "paymentDate", "issueDate")
IDENTITY_FIELDS = ("number", "party", "total", "date")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value).strip()


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _total(data: dict[str, Any]) -> str | None:
    """The record's total: `totalAmount` where it has one, else what its lines add up to."""
    total = _amount(data.get("totalAmount"))
    if total is None and isinstance(data.get("lines"), list):
        total = Decimal(0)
        for line in data["lines"]:
            if not isinstance(line, dict):
                continue
            quantity = _amount(line.get("quantity"))
            unit = _amount(line.get("unitAmount"))
            amount = _amount(line.get("amount"))
            if unit is not None:
                total += (quantity if quantity is not None else Decimal(1)) * unit
            elif amount is not None:
                total += amount
            total += _amount(line.get("taxAmount")) or Decimal(0)
    if total is None:
        total = _amount(data.get("amount"))
    return None if total is None else f"{total.quantize(Decimal('0.01'))}"


def record_identity(data: Any) -> dict[str, str | None]:
    """What tells one record from another: number, party (customer or vendor id), total and
    date, from a pushed `data` or from a record read back from Railz (same field names)."""
    if not isinstance(data, dict):
        return dict.fromkeys(IDENTITY_FIELDS)
    number = next((_text(data.get(k)) for k in NUMBER_FIELDS if _text(data.get(k))), None)
    party = None
    for name in PARTY_FIELDS:
        ref = data.get(name)
        party = _text(ref.get("id")) if isinstance(ref, dict) else _text(ref)
        if party:
            break
    date = next((_text(data.get(k)) for k in DATE_FIELDS if _text(data.get(k))), None)
    return {"number": number, "party": party, "total": _total(data), "date": date and date[:10]}


def identity_differences(
    expected: dict[str, Any], found: dict[str, Any], fields: Iterable[str] = IDENTITY_FIELDS
) -> list[str]:
    """The identifying fields both sides have and that differ, in words."""
    return [
        f"{name} {found[name]} instead of {expected[name]}"
        for name in fields
        if expected.get(name) and found.get(name) and expected[name] != found[name]
    ]


def identity_proves(expected: dict[str, Any], found: dict[str, Any]) -> bool:
    """The record read is the one `expected` was pushed as: its number or party is there to
    compare, and nothing both sides have differs."""
    compared = [n for n in ("number", "party") if expected.get(n) and found.get(n)]
    return bool(compared) and not identity_differences(expected, found)


def identity_in_words(identity: dict[str, Any]) -> str:
    parts = [f"{name} {identity[name]}" for name in IDENTITY_FIELDS if identity.get(name)]
    return ", ".join(parts) or "nothing that identifies it"
