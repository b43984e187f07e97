"""Payments in the emulator as the providers treat them: each `lines[].links[]` names an
existing document of the payment's customer or vendor, no document is paid above its amount
due, a paid document's amount due drops (a fully paid one becomes `paid`, and the lock in
rules keeps it from being changed), and deleting a payment gives the amounts back.
"""

from __future__ import annotations

import json
from decimal import Decimal

from railzpush.emulator import records
from railzpush.emulator.models import EmuConnection

# payment data type -> (document data type, the link type naming it, party ref, label)
PAYMENT_TYPES = {
    "invoicePayments": ("invoices", "invoice", "customerRef", "Invoice"),
    "billPayments": ("bills", "bill", "vendorRef", "Bill"),
}


def _amount(value: object) -> Decimal:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return Decimal(0)


def allocations(data_type: str, data: dict) -> list[tuple[str, str, Decimal]]:
    """(path, document id, amount) of each link to a document of the payment's kind."""
    _documents, link_type, _party, _label = PAYMENT_TYPES[data_type]
    found = []
    for index, line in enumerate(data.get("lines") or []):
        if not isinstance(line, dict):
            continue
        for position, link in enumerate(line.get("links") or []):
            if isinstance(link, dict) and link.get("type", link_type) == link_type:
                path = f"lines[{index}].links[{position}]"
                found.append((path, str(link.get("id")), _amount(line.get("amount"))))
    return found


def check(verdict, connection: EmuConnection, data_type: str, data: dict, previous: dict | None):
    """Refuse links to missing documents, to another party's, and above the amount due.

    `previous` is the payment's body before an update: its amounts are available again.
    """
    documents, _link, party_key, label = PAYMENT_TYPES[data_type]
    party = (data.get(party_key) or {}).get("id") if isinstance(data.get(party_key), dict) else None
    given_back = {doc: amount for _p, doc, amount in allocations(data_type, previous or {})}
    wanted: dict[str, Decimal] = {}
    for path, document_id, amount in allocations(data_type, data):
        record = records.record_get(
            connection=connection, data_type=documents, remote_id=document_id
        )
        if record is None:
            verdict.fail(400, path, f"{label} {document_id} does not exist")
            continue
        item = json.loads(record.body)
        owner = (item.get(party_key) or {}).get("id")
        if party and owner and owner != party:
            verdict.fail(
                400, path, f"{label} {document_id} does not belong to {party_key[:-3]} {party}"
            )
            continue
        wanted[document_id] = wanted.get(document_id, Decimal(0)) + amount
        due = _amount(item.get("amountDue")) + given_back.get(document_id, Decimal(0))
        if wanted[document_id] > due:
            number = item.get("invoiceNumber") or item.get("vendorInvoiceNumber") or document_id
            verdict.fail(
                400,
                path,
                f"The payment amount {wanted[document_id]} exceeds the balance due ({due}) "
                f"on {label.lower()} {number}",
            )


def apply(connection: EmuConnection, data_type: str, data: dict, *, sign: int) -> None:
    """Lower (sign -1) or give back (sign +1) the amounts the payment applies."""
    documents, _link, _party, _label = PAYMENT_TYPES[data_type]
    for _path, document_id, amount in allocations(data_type, data):
        record = records.record_get(
            connection=connection, data_type=documents, remote_id=document_id
        )
        if record is None:
            continue
        item = json.loads(record.body)
        total = _amount(item.get("totalAmount"))
        due = max(_amount(item.get("amountDue")) + sign * amount, Decimal(0))
        item["amountDue"] = float(due)
        item["status"] = "paid" if due == 0 else "partiallyPaid" if due < total else "open"
        records.record_replace(record=record, item=item)
