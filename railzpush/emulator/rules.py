"""What an accounting provider refuses after Railz has accepted a push.

Railz validates the request shape synchronously; the provider's own rules surface later as a
failed push with the provider's `responseCode` and `validation.errors`. The emulator keeps to
rules the providers document: references must exist in that company, Xero needs an account or
an item on every invoice line, NetSuite needs a subsidiary, a tracking row is booked as the kind
it is (class, department, location), document numbers are unique per customer (invoices) or
vendor (bills), a journal entry's lines have one side each and balance, and a paid or voided
document cannot be changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from railzpush.emulator import records
from railzpush.emulator.models import EmuConnection

# Which records a `*Ref` points at, and how a provider names them in its messages.
REF_TARGETS = {
    "customerRef": ("customers", "Customer"),
    "vendorRef": ("vendors", "Vendor"),
    "accountRef": ("accounts", "Account"),
    "bankAccountRef": ("accounts", "Account"),
    "fromAccountRef": ("accounts", "Account"),
    "toAccountRef": ("accounts", "Account"),
    "taxRateRef": ("taxRates", "Tax rate"),
    "inventoryRef": ("inventory", "Item"),
    "paymentMethodRef": ("paymentMethods", "Payment method"),
    "trackingCategoryRefs": ("trackingCategories", "Tracking category"),
}
SUBSIDIARY_REFS = "subsidiaryRefs"
# entityRef (journal lines) names a customer or a vendor by its `type`.
ENTITY_REF = "entityRef"
LOCKED_STATUSES = {"paid": "paid", "void": "voided", "voided": "voided"}
LOCKABLE_TYPES = {"invoices", "bills"}
# Xero's contact name limit (Xero API: Contacts, Name "max length = 255").
XERO_NAME_FIELDS = {"customers": "customerName", "vendors": "vendorName"}
XERO_NAME_MAX = 255
SERVICE_LABELS = {
    "xero": "Xero",
    "quickbooks": "QuickBooks Online",
    "oracleNetsuite": "Oracle NetSuite",
}


@dataclass
class Verdict:
    """The provider's answer: 200/201 and no errors, or a code and field errors."""

    response_code: int = 200
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, code: int, field_name: str, message: str) -> None:
        if not self.errors:
            self.response_code = code
        self.errors.append({"field": field_name, "message": message})


def _refs(value: object, path: str, found: list[tuple[str, str, str]]) -> None:
    """Collect (path, ref name, id) of every object reference in a push body."""
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key == ENTITY_REF and isinstance(item, dict) and isinstance(item.get("id"), str):
                target = "customerRef" if item.get("type") == "customer" else "vendorRef"
                found.append((f"{sub}.id", target, item["id"]))
                continue
            if key in REF_TARGETS or key == SUBSIDIARY_REFS:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.append((f"{sub}.id", key, item["id"]))
                elif isinstance(item, list):
                    for index, ref in enumerate(item):
                        if isinstance(ref, dict) and isinstance(ref.get("id"), str):
                            found.append((f"{sub}[{index}].id", key, ref["id"]))
                continue
            _refs(item, sub, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refs(item, f"{path}[{index}]", found)


def _check_refs(verdict: Verdict, connection: EmuConnection, data: dict) -> None:
    found: list[tuple[str, str, str]] = []
    _refs(data, "", found)
    by_type: dict[str, set[str]] = {}
    for _path, key, ref_id in found:
        if key in REF_TARGETS:
            by_type.setdefault(REF_TARGETS[key][0], set()).add(ref_id)
    existing = {
        data_type: records.records_existing_ids(
            connection=connection, data_type=data_type, remote_ids=ids
        )
        for data_type, ids in by_type.items()
    }
    subsidiaries = {
        str(s.get("id")) for s in json.loads(connection.info_json).get("subsidiaryRefs") or []
    }
    for path, key, ref_id in found:
        if key == SUBSIDIARY_REFS:
            if ref_id not in subsidiaries:
                verdict.fail(400, path, f"Subsidiary {ref_id} does not exist")
            continue
        data_type, label = REF_TARGETS[key]
        if ref_id not in existing[data_type]:
            verdict.fail(400, path, f"{label} {ref_id} does not exist")


def _line_tracking(data: dict) -> list[tuple[str, dict]]:
    """(path, ref) of each `lines[].trackingCategoryRefs[]` item that names a row."""
    found = []
    lines = data.get("lines") if isinstance(data.get("lines"), list) else []
    for index, line in enumerate(lines):
        refs = line.get("trackingCategoryRefs") if isinstance(line, dict) else None
        for position, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, dict) and isinstance(ref.get("id"), str):
                found.append((f"lines[{index}].trackingCategoryRefs[{position}]", ref))
    return found


def tracking_rows(connection: EmuConnection, data: dict) -> dict[str, dict]:
    """The tracking rows a body's lines name, by id (one query)."""
    return records.records_bodies(
        connection=connection,
        data_type="trackingCategories",
        remote_ids=[ref["id"] for _path, ref in _line_tracking(data)],
    )


def _check_tracking(verdict: Verdict, connection: EmuConnection, data: dict) -> None:
    # The provider books the row named by `id` in the dimension `type` names (QuickBooks
    # classes and locations, NetSuite departments, classes and locations are separate lists):
    # a row sent as another kind than it is cannot be booked. Missing rows are _check_refs's.
    rows = tracking_rows(connection, data)
    for path, ref in _line_tracking(data):
        row = rows.get(ref["id"])
        sent, kind = ref.get("type"), (row or {}).get("type")
        if row is None or not sent or kind in (None, "unknown") or sent == kind:
            continue
        verdict.fail(
            400,
            f"{path}.type",
            f"Tracking category {row.get('name') or ref['id']} ({ref['id']}) is a {kind}, "
            f"not a {sent}",
        )


def _check_provider(verdict: Verdict, connection: EmuConnection, data_type: str, data: dict):
    service = connection.service_name
    lines = data.get("lines") if isinstance(data.get("lines"), list) else []
    if service == "xero" and data_type in ("invoices", "invoiceCreditNotes"):
        for index, line in enumerate(lines):
            if isinstance(line, dict) and not (line.get("accountRef") or line.get("inventoryRef")):
                verdict.fail(
                    400,
                    f"lines[{index}].accountRef",
                    "Each line must have an accountRef or an inventoryRef (Xero needs an "
                    "account code or an item code on every line)",
                )
    if (
        service == "oracleNetsuite"
        and data_type in ("invoices", "bills")
        and not data.get(SUBSIDIARY_REFS)
    ):
        verdict.fail(400, SUBSIDIARY_REFS, "Oracle NetSuite requires a subsidiary on every record")
    if data_type == "journalEntries":
        _check_journal(verdict, lines)
    name_field = XERO_NAME_FIELDS.get(data_type)
    name = data.get(name_field) if name_field else None
    if service == "xero" and isinstance(name, str) and not 1 <= len(name) <= XERO_NAME_MAX:
        verdict.fail(
            400, name_field, f"Must have a length between 1 and {XERO_NAME_MAX} characters."
        )


def _check_journal(verdict: Verdict, lines: list) -> None:
    # Every provider books a journal only when its two sides are equal, one side a line
    # (QuickBooks Online: "Transaction must be balanced"; Xero: "Journal lines must balance").
    debits = credits = 0.0
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            continue
        debit, credit = _amount(line.get("debit")), _amount(line.get("credit"))
        if debit and credit:
            verdict.fail(
                400,
                f"lines[{index}]",
                "A journal line can have either a debit or a credit amount, not both",
            )
        debits, credits = debits + debit, credits + credit
    if round(debits - credits, 2):
        verdict.fail(
            400,
            "lines",
            f"Transaction must be balanced: debits total {debits:.2f}, credits total {credits:.2f}",
        )


def _amount(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


# Document numbers the providers keep unique per party: (number field, party ref, label, party).
UNIQUE_NUMBERS = {
    "invoices": ("invoiceNumber", "customerRef", "Invoice number", "customer"),
    "bills": ("vendorInvoiceNumber", "vendorRef", "Vendor invoice number", "vendor"),
}


def _check_unique_number(
    verdict: Verdict, connection: EmuConnection, data_type: str, data: dict, record_id: str | None
) -> None:
    number_field, party_field, label, party_label = UNIQUE_NUMBERS[data_type]
    number = data.get(number_field)
    party = (data.get(party_field) or {}).get("id")
    if not isinstance(number, str) or not number or not party:
        return
    for other in records.records_named(connection=connection, data_type=data_type, name=number):
        if (
            other.get(number_field) == number
            and (other.get(party_field) or {}).get("id") == party
            and str(other.get("id")) != record_id
        ):
            verdict.fail(
                400,
                number_field,
                f"{label} {number} has already been used for {party_label} {party}",
            )
            return


def push_verdict(
    *,
    connection: EmuConnection,
    data_type: str,
    operation: str,
    record_id: str | None,
    data: dict,
    label: str,
) -> Verdict:
    """The provider's verdict on one create, update or delete."""
    verdict = Verdict(response_code=201 if operation in ("create", "batch_create") else 200)
    if operation in ("update", "batch_update", "delete"):
        record = records.record_get(
            connection=connection, data_type=data_type, remote_id=record_id or ""
        )
        if record is None:
            verdict.fail(404, "id", f"{label} {record_id} does not exist")
            return verdict
        locked = LOCKED_STATUSES.get(record.status)
        if locked and data_type in LOCKABLE_TYPES:
            action = "deleted" if operation == "delete" else "updated"
            verdict.fail(400, "id", f"{label} {record_id} is {locked} and cannot be {action}")
            return verdict
    if operation == "delete":
        return verdict
    _check_refs(verdict, connection, data)
    _check_tracking(verdict, connection, data)
    _check_provider(verdict, connection, data_type, data)
    if data_type in UNIQUE_NUMBERS:
        _check_unique_number(verdict, connection, data_type, data, record_id)
    return verdict
