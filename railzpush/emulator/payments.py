"""Payments in the emulator as the providers treat them: each `lines[].links[]` names an
existing document (or credit note) of the payment's customer or vendor, no document is paid
above its amount due and no credit note applied above its remaining credit, a paid document's
amount due (an applied credit note's remaining credit) drops (a fully paid one becomes `paid`,
and the lock in rules keeps it from being changed), and deleting a payment gives the amounts
back.
"""

from __future__ import annotations

import json
from decimal import Decimal

from railzpush.emulator import records
from railzpush.emulator.models import EmuConnection

# payment data type -> (party ref, {link type: (data type it names, label, number key)})
PAYMENT_TYPES = {
    "invoicePayments": (
        "customerRef",
        {
            "invoice": ("invoices", "Invoice", "invoiceNumber"),
            "creditNote": ("invoiceCreditNotes", "Credit note", "invoiceCreditNoteNumber"),
        },
    ),
    "billPayments": (
        "vendorRef",
        {
            "bill": ("bills", "Bill", "vendorInvoiceNumber"),
            "creditNote": ("billCreditNotes", "Credit note", "billCreditNoteNumber"),
        },
    ),
}
# What is still open on a record of each type a payment applies to (default amountDue).
OPEN_KEYS = {"invoiceCreditNotes": "remainingCredit", "billCreditNotes": "remainingCredit"}


def _amount(value: object) -> Decimal:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return Decimal(0)


def allocations(data_type: str, data: dict) -> list[tuple[str, str, str, Decimal]]:
    """(path, link type, record id, amount) of each link to a record a payment applies to; a
    link without a type names the payment's document kind."""
    _party, kinds = PAYMENT_TYPES[data_type]
    default = next(iter(kinds))
    found = []
    for index, line in enumerate(data.get("lines") or []):
        if not isinstance(line, dict):
            continue
        for position, link in enumerate(line.get("links") or []):
            if isinstance(link, dict) and link.get("type", default) in kinds:
                path = f"lines[{index}].links[{position}]"
                kind = link.get("type", default)
                found.append((path, kind, str(link.get("id")), _amount(line.get("amount"))))
    return found


def _open_key(target: str) -> str:
    return OPEN_KEYS.get(target, "amountDue")


def check(verdict, connection: EmuConnection, data_type: str, data: dict, previous: dict | None):
    """Refuse links to missing records, to another party's, above the amount due or above
    the remaining credit.

    `previous` is the payment's body before an update: its amounts are available again.
    """
    party_key, kinds = PAYMENT_TYPES[data_type]
    party = (data.get(party_key) or {}).get("id") if isinstance(data.get(party_key), dict) else None
    given_back: dict[tuple[str, str], Decimal] = {}
    for _p, kind, record_id, amount in allocations(data_type, previous or {}):
        key = (kind, record_id)
        given_back[key] = given_back.get(key, Decimal(0)) + amount
    wanted: dict[tuple[str, str], Decimal] = {}
    for path, kind, record_id, amount in allocations(data_type, data):
        target, label, number_key = kinds[kind]
        record = records.record_get(connection=connection, data_type=target, remote_id=record_id)
        if record is None:
            verdict.fail(400, path, f"{label} {record_id} does not exist")
            continue
        item = json.loads(record.body)
        owner = (item.get(party_key) or {}).get("id")
        if party and owner and owner != party:
            verdict.fail(
                400, path, f"{label} {record_id} does not belong to {party_key[:-3]} {party}"
            )
            continue
        key = (kind, record_id)
        wanted[key] = wanted.get(key, Decimal(0)) + amount
        still_open = _amount(item.get(_open_key(target))) + given_back.get(key, Decimal(0))
        if wanted[key] > still_open:
            number = item.get(number_key) or record_id
            what = (
                f"the remaining credit ({still_open}) on credit note {number}"
                if _open_key(target) == "remainingCredit"
                else f"the balance due ({still_open}) on {label.lower()} {number}"
            )
            verdict.fail(400, path, f"The payment amount {wanted[key]} exceeds {what}")


def apply(connection: EmuConnection, data_type: str, data: dict, *, sign: int) -> None:
    """Lower (sign -1) or give back (sign +1) the amounts the payment applies."""
    _party, kinds = PAYMENT_TYPES[data_type]
    for _path, kind, record_id, amount in allocations(data_type, data):
        target = kinds[kind][0]
        record = records.record_get(connection=connection, data_type=target, remote_id=record_id)
        if record is None:
            continue
        item = json.loads(record.body)
        key = _open_key(target)
        total = _amount(item.get("totalAmount"))
        still_open = max(_amount(item.get(key)) + sign * amount, Decimal(0))
        item[key] = float(still_open)
        item["status"] = (
            "paid" if still_open == 0 else "partiallyPaid" if still_open < total else "open"
        )
        records.record_replace(record=record, item=item)
