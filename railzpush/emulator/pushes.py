"""The push lifecycle: accepted as pending, then completed as success or failed.

A push is a row written before anything else happens; completion claims it with a conditional
UPDATE ... WHERE status = 'pending', so the request that made it, any later request and the
ticker can all try to complete it and exactly one does.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from railzpush.emulator import background, payments, records, rules, webhooks
from railzpush.emulator.models import EmuConnection, EmuPush
from railzpush.emulator.responses import dumps
from railzpush.railz.datatypes import DATA_TYPES

COMPLETE_BATCH = 100
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates pushed as yyyy-mm-dd are read back as date-times, as Railz's GET shapes declare them.
DATE_FIELDS = {"postedDate", "dueDate", "paymentDate", "issueDate", "expiryDate", "date"}
DOCUMENT_TYPES = {"invoices", "bills", "invoiceCreditNotes", "billCreditNotes"}


def communication_id() -> str:
    return secrets.token_hex(12)


def _batch_target(data_type: str) -> str:
    """The plain-string key a batch-update item names its target by (`customerRef`)."""
    entry = DATA_TYPES.get(data_type)
    return entry.batch_target if entry is not None else ""


def batch_target(data_type: str, item: dict) -> str:
    name = _batch_target(data_type)
    if name and isinstance(item.get(name), str):
        return item[name]
    for key, value in item.items():
        if key.endswith("Ref") and isinstance(value, str):
            return value
    return ""


def pushes_accept(
    *,
    connection: EmuConnection,
    data_type: str,
    operation: str,
    items: list[dict],
    record_ids: list[str],
    batch: bool,
    hold: bool,
) -> list[EmuPush]:
    """Record accepted pushes (one per item) as pending; complete them now if no delay."""
    now = timezone.now()
    delay = settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS
    due_at = None if hold else now + timedelta(seconds=delay)
    batch_id = communication_id() if batch else ""
    pushes = [
        EmuPush(
            communication_id=communication_id(),
            batch_id=batch_id,
            connection=connection,
            data_type=data_type,
            operation=operation,
            record_id=record_id,
            body=dumps(item),
            requested_on=now,
            due_at=due_at,
        )
        for item, record_id in zip(items, record_ids, strict=True)
    ]
    EmuPush.objects.bulk_create(pushes)
    if hold:
        return pushes
    if delay <= 0:
        for push in pushes:
            push_complete(push=push)
    else:
        background.next_due_note(due_at.timestamp())
    return pushes


def _new_remote_id(connection: EmuConnection, data_type: str) -> str:
    if connection.service_name in ("xero", "sageBusinessCloud"):
        return str(uuid.uuid4())
    while True:
        candidate = str(secrets.randbelow(9_000_000) + 1_000_000)
        if not records.records_existing_ids(
            connection=connection, data_type=data_type, remote_ids=[candidate]
        ):
            return candidate


def _read_dates(item: dict) -> None:
    for key, value in list(item.items()):
        if key in DATE_FIELDS and isinstance(value, str) and _DATE_ONLY.match(value):
            item[key] = f"{value}T00:00:00.000Z"


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def read_shape(*, data_type: str, data: dict, remote_id: str, previous: dict | None) -> dict:
    """The pushed `data` as GET /v2/accounting/<type> would return it after a sync."""
    item = {**(previous or {}), **copy.deepcopy(data), "id": remote_id}
    _read_dates(item)
    item["sourceModifiedDate"] = records.iso(timezone.now())
    if data_type in DOCUMENT_TYPES:
        lines = [line for line in item.get("lines") or [] if isinstance(line, dict)]
        for number, line in enumerate(lines, start=1):
            # Read back, every line has its own id and amount (GET bill lines require them).
            line.setdefault("id", str(number))
            if "amount" not in line:
                line["amount"] = round(
                    _number(line.get("quantity", 1)) * _number(line.get("unitAmount")), 2
                )
        sub_total = round(
            sum(_number(ln.get("quantity", 1)) * _number(ln.get("unitAmount")) for ln in lines), 2
        )
        tax = round(sum(_number(line.get("taxAmount")) for line in lines), 2)
        item.setdefault("status", "open")
        item["subTotal"] = sub_total
        item["taxAmount"] = tax
        item["totalAmount"] = round(sub_total + tax, 2)
        if item["status"] != "paid":
            # What is still open on it: due on an invoice or bill, credit on a credit note.
            item[payments.OPEN_KEYS.get(data_type, "amountDue")] = item["totalAmount"]
        if data_type == "bills":
            item.setdefault("postedDate", records.iso(timezone.now()))
    else:
        item.setdefault("status", "active")
    return item


def _book_tracking(connection: EmuConnection, data: dict) -> dict:
    """`data` with each line's tracking booked to exactly the row its `id` names.

    Read back as Railz's GET shapes have it (InvoiceTrackingCategoryRef: `id`, `name`,
    `type` of that row); whatever else a ref carried (an `optionId`, say) is not part of the
    push schema and is dropped, as Railz drops fields it does not know.
    """
    rows = rules.tracking_rows(connection, data)
    if not rows:
        return data
    data = copy.deepcopy(data)
    for line in data.get("lines") or []:
        refs = line.get("trackingCategoryRefs") if isinstance(line, dict) else None
        if not isinstance(refs, list):
            continue
        booked = []
        for ref in refs:
            row = rows.get(ref.get("id")) if isinstance(ref, dict) else None
            if row is None:
                booked.append(ref)
                continue
            booked.append({"id": ref["id"], "name": row.get("name", ""), "type": row.get("type")})
        line["trackingCategoryRefs"] = booked
    return data


def _apply(push: EmuPush, data: dict, label: str) -> tuple[rules.Verdict, list[str]]:
    connection = push.connection
    verdict = rules.push_verdict(
        connection=connection,
        data_type=push.data_type,
        operation=push.operation,
        record_id=push.record_id or None,
        data=data,
        label=label,
    )
    if not verdict.ok:
        return verdict, []
    if push.operation != "delete":
        data = _book_tracking(connection, data)
    if push.operation in ("create", "batch_create"):
        remote_id = _new_remote_id(connection, push.data_type)
        records.record_create(
            connection=connection,
            data_type=push.data_type,
            item=read_shape(
                data_type=push.data_type, data=data, remote_id=remote_id, previous=None
            ),
        )
        if push.data_type in payments.PAYMENT_TYPES:
            payments.apply(connection, push.data_type, data, sign=-1)
        return verdict, [remote_id]
    record = records.record_get(
        connection=connection, data_type=push.data_type, remote_id=push.record_id
    )
    previous = json.loads(record.body)
    if push.data_type in payments.PAYMENT_TYPES:
        # What the payment applied is given back; an update then applies its new amounts.
        payments.apply(connection, push.data_type, previous, sign=+1)
        if push.operation != "delete":
            payments.apply(connection, push.data_type, data, sign=-1)
    if push.operation == "delete":
        records.record_delete(record=record)
        return verdict, [push.record_id]
    if push.operation == "batch_update":
        data = {k: v for k, v in data.items() if k != _batch_target(push.data_type)}
    else:
        # A PUT replaces the record's fields; what the provider owns (id, status) stays.
        previous = {k: previous[k] for k in ("id", "status") if k in previous}
    records.record_replace(
        record=record,
        item=read_shape(
            data_type=push.data_type, data=data, remote_id=push.record_id, previous=previous
        ),
    )
    return verdict, [push.record_id]


def _label(data_type: str) -> str:
    try:
        from railzpush.railz.datatypes import DATA_TYPES

        return DATA_TYPES[data_type].label
    except (ImportError, KeyError):
        return data_type


def push_complete(*, push: EmuPush) -> bool:
    """Complete one pending push; False if another request or thread already did."""
    data = json.loads(push.body)
    with transaction.atomic():
        verdict, source_object_ids = _apply(push, data, _label(push.data_type))
        now = timezone.now()
        status = EmuPush.SUCCESS if verdict.ok else EmuPush.FAILED
        claimed = EmuPush.objects.filter(pk=push.pk, status=EmuPush.PENDING).update(
            status=status,
            completed_on=now,
            response_code=verdict.response_code,
            errors=dumps(verdict.errors),
            source_object_ids=dumps(source_object_ids),
        )
        if not claimed:
            # Someone else completed it: undo our edits with the transaction.
            transaction.set_rollback(True)
            return False
    push.status, push.completed_on = status, now
    push.response_code = verdict.response_code
    push.errors, push.source_object_ids = dumps(verdict.errors), dumps(source_object_ids)
    webhooks.push_completed(push=push)
    return True


def pushes_complete_due(*, report_next: bool = False) -> float | None:
    """Complete every push whose time has come (one indexed query when none is).

    With `report_next`, returns the Unix time of the next push due, if any (for the ticker).
    """
    now = timezone.now()
    due_ids = list(
        EmuPush.objects.filter(status=EmuPush.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:COMPLETE_BATCH]
    )
    if due_ids:
        for push in EmuPush.objects.filter(pk__in=due_ids).select_related("connection"):
            push_complete(push=push)
    if not (report_next or due_ids):
        return None
    following = (
        EmuPush.objects.filter(status=EmuPush.PENDING, due_at__isnull=False)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return following.timestamp() if following else None


def pushes_release_held() -> int:
    """Give pushes held by the stay-pending fault a due time again."""
    now = timezone.now()
    delay = settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS
    released = EmuPush.objects.filter(status=EmuPush.PENDING, due_at__isnull=True).update(
        due_at=now + timedelta(seconds=delay)
    )
    if released:
        background.next_due_note((now + timedelta(seconds=delay)).timestamp())
    return released


# --- answers -----------------------------------------------------------------------------------


def push_status_item(push: EmuPush) -> dict:
    """One entry of GET /v2/data/pushStatus (or deleteStatus for a delete)."""
    pending = push.status == EmuPush.PENDING
    item = {
        "serviceName": push.connection.service_name,
        "dataType": push.data_type,
        "requestedOn": records.iso(push.requested_on),
        # The spec requires completedOn and responseCode even while pending: a pending push
        # reports its request time and 202 (accepted, not yet done).
        "completedOn": records.iso(push.completed_on or push.requested_on),
        "status": push.status,
        "responseCode": 202 if pending else push.response_code,
        "validation": {"errors": json.loads(push.errors)},
    }
    if push.is_delete:
        item["deleteCommunicationId"] = push.communication_id
        return item
    item["pushCommunicationId"] = push.communication_id
    item["sourceObjectIds"] = json.loads(push.source_object_ids)
    if push.batch_id:
        item["batchId"] = push.batch_id
    return item
