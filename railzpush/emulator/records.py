"""Connections and the records their reads return: seeding, paging, and the edits pushes make.

Pages are built from stored JSON text joined into one body: the read path decodes nothing and
writes nothing, so a client can pull 100,000 customers as fast as the database hands them out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from railzpush.emulator.models import EmuConnection, EmuRecord, EmuTypeCount
from railzpush.emulator.responses import ApiError, dumps

INSERT_BATCH = 5000

# The field each type is known by: `orderBy` on it uses an index, and the duplicate
# invoice-number rule looks it up.
NAME_FIELDS = {
    "customers": "customerName",
    "vendors": "vendorName",
    "invoices": "invoiceNumber",
    "bills": "vendorInvoiceNumber",
    "journalEntries": "journalNumber",
}
DEFAULT_NAME_FIELD = "name"

# GET list paths of the reference data and of the types the product pushes.
READ_PATHS = {
    "/v2/accounting/customers": "customers",
    "/v2/accounting/vendors": "vendors",
    "/v2/accounting/accounts": "accounts",
    "/v2/accounting/taxRates": "taxRates",
    "/v2/accounting/inventory": "inventory",
    "/v2/accounting/trackingCategories": "trackingCategories",
    "/v2/accounting/paymentMethods": "paymentMethods",
    "/v2/accounting/invoices": "invoices",
    "/v2/accounting/bills": "bills",
    "/v2/accounting/invoices/creditNotes": "invoiceCreditNotes",
    "/v2/accounting/bills/creditNotes": "billCreditNotes",
}
# Their meta carries the report period too (TransactionalReportMetaDataV2, and
# BasicStartEndDateReportMetaDataV2 for credit notes).
TRANSACTIONAL_TYPES = {"invoices", "bills", "invoiceCreditNotes", "billCreditNotes"}

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def name_field(data_type: str) -> str:
    return NAME_FIELDS.get(data_type, DEFAULT_NAME_FIELD)


def _sort_name(data_type: str, item: dict) -> str:
    value = item.get(name_field(data_type))
    return str(value)[:255].lower() if value is not None else ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


iso = _iso


# --- connections ------------------------------------------------------------------------------


def connection_get(*, connection_uuid: str | None) -> EmuConnection:
    """The connection a request names, or the 400/404 Railz answers."""
    if not connection_uuid:
        raise ApiError(400, "connectionUuid should not be empty")
    connection = EmuConnection.objects.filter(connection_uuid=connection_uuid).first()
    if connection is None:
        raise ApiError(404, f"Connection {connection_uuid} not found")
    return connection


def connection_create(*, demo: dict) -> EmuConnection:
    from railzpush.emulator import demo_data

    return EmuConnection.objects.create(
        connection_uuid=demo["connection_uuid"],
        business_uuid=demo["business_uuid"],
        business_name=demo["business_name"],
        service_name=demo["service_name"],
        status=demo["status"],
        connection_json=dumps(demo_data.connection_item(demo)),
        business_json=dumps(demo_data.business_item(demo)),
        info_json=dumps(demo_data.business_info(demo)),
    )


def connection_set_data_ready(*, connection: EmuConnection | None, seconds: float) -> None:
    """Reads of `connection` (of every connection if None) answer 202 for `seconds` more."""
    ready_at = timezone.now() + timedelta(seconds=seconds) if seconds > 0 else None
    queryset = EmuConnection.objects.all()
    if connection is not None:
        queryset = queryset.filter(pk=connection.pk)
    queryset.update(data_ready_at=ready_at)


def connection_set_status(*, connection: EmuConnection, status: str, reason: str = "") -> None:
    """The business revoked (or restored) the connection: its status and disconnectReason, as
    GET /v2/connections lists them; pushes to it are refused while it is not active."""
    item = json.loads(connection.connection_json)
    item["status"] = status
    if reason:
        item["disconnectReason"] = reason
    else:
        item.pop("disconnectReason", None)
    connection.status = status
    connection.connection_json = dumps(item)
    connection.save(update_fields=["status", "connection_json"])


def connection_disconnect_reason(connection: EmuConnection) -> str:
    return str(json.loads(connection.connection_json).get("disconnectReason") or "")


# --- seeding --------------------------------------------------------------------------------


def _row(data_type: str, item: dict) -> tuple[str, str, str, str]:
    return (
        str(item["id"]),
        _sort_name(data_type, item),
        str(item.get("status") or "")[:20],
        dumps(item),
    )


@functools.lru_cache(maxsize=64)
def _default_rows(connection_uuid: str, data_type: str) -> tuple[tuple[str, str, str, str], ...]:
    # The demo data is deterministic: tests re-seed often, so the default lists are built once
    # per process.
    from railzpush.emulator import demo_data

    return tuple(_row(data_type, i) for i in demo_data.records(connection_uuid, data_type))


def _seed_rows(connection_uuid: str, data_type: str, count: int | None) -> Iterator[tuple]:
    from railzpush.emulator import demo_data

    if count is None:
        return iter(_default_rows(connection_uuid, data_type))
    return (_row(data_type, i) for i in demo_data.records(connection_uuid, data_type, count=count))


_COLUMNS = ("connection", "data_type", "remote_id", "seq", "sort_name", "status", "body")


def _insert_rows(rows: list[tuple]) -> None:
    """Insert (connection id, data_type, remote_id, seq, sort_name, status, body) rows fast.

    PostgreSQL gets COPY (bulk_create's array parameters escape every character of the JSON
    in Python); others get one executemany, without building a model instance per row.
    """
    meta = EmuRecord._meta
    columns = ", ".join(meta.get_field(name).column for name in _COLUMNS)
    with db_connection.cursor() as cursor:
        if db_connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {meta.db_table} ({columns}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )


def _records_replace(*, connection: EmuConnection, data_type: str, rows: Iterable[tuple]) -> int:
    """Insert a type's records (the caller removed any old ones) and set its count."""
    iterator: Iterator[tuple] = iter(rows)
    seq = 0
    while True:
        chunk = list(islice(iterator, INSERT_BATCH))
        if not chunk:
            break
        numbered = []
        for remote_id, sort_name, status, body in chunk:
            seq += 1
            numbered.append((connection.pk, data_type, remote_id, seq, sort_name, status, body))
        _insert_rows(numbered)
    EmuTypeCount.objects.update_or_create(
        connection=connection,
        data_type=data_type,
        defaults={"count": seq, "next_seq": seq + 1},
    )
    return seq


def emulator_seed(
    *,
    counts: dict[str, int] | None = None,
    connection_uuids: Iterable[str] | None = None,
    data_delay_seconds: float = 0,
) -> list[str]:
    """Create the demo businesses and their reference data; returns what it changed.

    Idempotent: a connection or type already seeded is left alone, unless `counts` asks for a
    different number of records of that type (then the type is re-created at that size).
    """
    from railzpush.emulator import demo_data

    counts = counts or {}
    only = set(connection_uuids or ())
    changes: list[str] = []
    # One transaction: a seed is all there or not at all, and commits are what cost most.
    with transaction.atomic():
        for demo in demo_data.DEMO_CONNECTIONS:
            connection = EmuConnection.objects.filter(
                connection_uuid=demo["connection_uuid"]
            ).first()
            if connection is None:
                connection = connection_create(demo=demo)
                changes.append(f"created {demo['connection_uuid']} ({demo['business_name']})")
            existing = dict(
                EmuTypeCount.objects.filter(connection=connection).values_list("data_type", "count")
            )
            wanted_here = counts if not only or demo["connection_uuid"] in only else {}
            for data_type in demo_data.REFERENCE_TYPES:
                wanted = wanted_here.get(data_type)
                if data_type in existing and (wanted is None or wanted == existing[data_type]):
                    continue
                if data_type in existing:
                    EmuRecord.objects.filter(connection=connection, data_type=data_type).delete()
                made = _records_replace(
                    connection=connection,
                    data_type=data_type,
                    rows=_seed_rows(demo["connection_uuid"], data_type, wanted),
                )
                changes.append(f"{demo['connection_uuid']}: {made} {data_type}")
            for data_type in demo_data.DOCUMENT_TYPES:
                # Open documents to pay, made in the accounting system; once, never re-made.
                if data_type in existing or connection.status != "active":
                    continue
                made = _records_replace(
                    connection=connection,
                    data_type=data_type,
                    rows=(_row(data_type, i) for i in demo_data.documents(demo, data_type)),
                )
                changes.append(f"{demo['connection_uuid']}: {made} open {data_type}")
    if data_delay_seconds:
        connection_set_data_ready(connection=None, seconds=data_delay_seconds)
    return changes


# --- reads ------------------------------------------------------------------------------------


def read_params(query) -> tuple[int, int, str]:
    """offset, limit and orderBy from a query string, or the 400 Railz answers."""
    problems = []
    values = {}
    for name, default in (("offset", 0), ("limit", DEFAULT_LIMIT)):
        raw = query.get(name)
        if raw in (None, ""):
            values[name] = default
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            problems.append(f"{name} must be an integer number")
            continue
        if values[name] < 0:
            problems.append(f"{name} must not be less than 0")
    if values.get("limit", 0) > MAX_LIMIT:
        problems.append(f"limit must not be greater than {MAX_LIMIT}")
    if values.get("limit") == 0:
        problems.append("limit must not be less than 1")
    if problems:
        raise ApiError(400, problems)
    return values["offset"], values["limit"], (query.get("orderBy") or "").strip()


def _order(order_by: str) -> tuple[str, bool]:
    descending = order_by.startswith("-")
    return order_by.lstrip("-+").strip(), descending


def records_page(
    *, connection: EmuConnection, data_type: str, offset: int, limit: int, order_by: str = ""
) -> tuple[int, list[str]]:
    """(total count, the page's items as JSON text).

    `orderBy` is a field name of the items, ascending, or `-field` descending. `id`, the type's
    name field (customerName, vendorName, name, invoiceNumber...) and no orderBy (the order
    records were created in) use an index; any other field is sorted in memory.
    """
    count_row = (
        EmuTypeCount.objects.filter(connection=connection, data_type=data_type)
        .values_list("count", flat=True)
        .first()
    )
    count = count_row or 0
    if not count:
        return 0, []
    base = EmuRecord.objects.filter(connection=connection, data_type=data_type)
    field, descending = _order(order_by)
    column = {"": "seq", "id": "remote_id", name_field(data_type): "sort_name"}.get(field)
    if column is not None:
        return count, _bodies_page(connection, data_type, column, descending, offset, limit)
    items = [json.loads(body) for body in base.order_by("seq").values_list("body", flat=True)]
    present = [i for i in items if i.get(field) is not None]
    missing = [i for i in items if i.get(field) is None]
    present.sort(key=lambda i: _sort_key(i[field]), reverse=descending)
    ordered = present + missing
    return count, [dumps(i) for i in ordered[offset : offset + limit]]


def _bodies_page(
    connection: EmuConnection,
    data_type: str,
    column: str,
    descending: bool,
    offset: int,
    limit: int,
) -> list[str]:
    # The hot path of every sync: plain SQL on the (connection, data_type, <column>) index,
    # returning the stored JSON strings untouched.
    meta = EmuRecord._meta
    direction = "DESC" if descending else "ASC"
    order = f"{meta.get_field(column).column} {direction}"
    if column != "seq":
        # Ties (equal names) keep creation order. Never "seq, seq": SQLite would sort again.
        order += f", seq {direction}"
    # Only names from the model's own metadata are formatted in; values are parameters.
    sql = (
        f"SELECT body FROM {meta.db_table} WHERE connection_id = %s AND data_type = %s "  # noqa: S608
        f"ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [connection.pk, data_type, limit, offset])
        return [row[0] for row in cursor.fetchall()]


def _sort_key(value: object) -> tuple:
    if isinstance(value, bool | int | float):
        return (0, value, "")
    return (1, 0, str(value).lower())


# --- edits made by completed pushes -------------------------------------------------------------


def record_get(*, connection: EmuConnection, data_type: str, remote_id: str) -> EmuRecord | None:
    return EmuRecord.objects.filter(
        connection=connection, data_type=data_type, remote_id=remote_id
    ).first()


def records_existing_ids(
    *, connection: EmuConnection, data_type: str, remote_ids: Iterable[str]
) -> set[str]:
    wanted = {str(i) for i in remote_ids}
    if not wanted:
        return set()
    return set(
        EmuRecord.objects.filter(
            connection=connection, data_type=data_type, remote_id__in=wanted
        ).values_list("remote_id", flat=True)
    )


def records_bodies(
    *, connection: EmuConnection, data_type: str, remote_ids: Iterable[str]
) -> dict[str, dict]:
    """remote id -> record, for the ids that exist (one query)."""
    wanted = {str(i) for i in remote_ids}
    if not wanted:
        return {}
    return {
        remote_id: json.loads(body)
        for remote_id, body in EmuRecord.objects.filter(
            connection=connection, data_type=data_type, remote_id__in=wanted
        ).values_list("remote_id", "body")
    }


def records_named(*, connection: EmuConnection, data_type: str, name: str) -> list[dict]:
    bodies = EmuRecord.objects.filter(
        connection=connection, data_type=data_type, sort_name=name[:255].lower()
    ).values_list("body", flat=True)
    return [json.loads(b) for b in bodies]


def record_create(*, connection: EmuConnection, data_type: str, item: dict) -> None:
    counter, _ = EmuTypeCount.objects.get_or_create(connection=connection, data_type=data_type)
    EmuTypeCount.objects.filter(pk=counter.pk).update(
        count=F("count") + 1, next_seq=F("next_seq") + 1
    )
    EmuRecord.objects.create(
        connection=connection,
        data_type=data_type,
        remote_id=str(item["id"]),
        seq=counter.next_seq,
        sort_name=_sort_name(data_type, item),
        status=str(item.get("status") or "")[:20],
        body=dumps(item),
    )


def record_replace(*, record: EmuRecord, item: dict) -> None:
    record.body = dumps(item)
    record.sort_name = _sort_name(record.data_type, item)
    record.status = str(item.get("status") or "")[:20]
    record.save(update_fields=["body", "sort_name", "status"])


def record_delete(*, record: EmuRecord) -> None:
    EmuTypeCount.objects.filter(
        connection_id=record.connection_id, data_type=record.data_type
    ).update(count=F("count") - 1)
    record.delete()


def record_set_status(
    *, connection: EmuConnection, data_type: str, remote_id: str, status: str
) -> EmuRecord:
    """Mark a record (an invoice paid or voided, say) as the provider would after the fact."""
    record = record_get(connection=connection, data_type=data_type, remote_id=remote_id)
    if record is None:
        raise ApiError(404, f"{data_type} {remote_id} does not exist in {connection}")
    item = json.loads(record.body)
    item["status"] = status
    if status == "paid":
        item["amountDue"] = 0
    record_replace(record=record, item=item)
    return record
