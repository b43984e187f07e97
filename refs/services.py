"""Writes of the reference-data mirror: discovering connections and syncing their references.

A sync of one connection and one type reads Railz page by page (500 records a page) and
stores each page in a handful of statements whatever its size: one SELECT of the page's rows
already stored, one upsert of the new and changed ones (rows whose Railz record hashes the same
are skipped without a write), one UPDATE of the run's counters. Only a run that read every page
archives what Railz no longer returns, so a failure half-way never hides live records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection as db
from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from railzpush.railz import (
    Page,
    RailzClient,
    RailzDataNotReady,
    RailzError,
    RailzNotSupported,
    RailzRateLimited,
    get_client,
)
from refs import queue
from refs.mapping import (
    BUSINESS_INFO,
    REF_TYPES,
    Link,
    MalformedRecord,
    RefType,
    content_hash,
    record_id,
    record_json,
    ref_type_get,
)
from refs.models import Connection, RefRecord, SyncRun

logger = logging.getLogger("refs.sync")

PAGE_SIZE = 500
# Our own retries of a page, on top of the client's retries of each request.
PAGE_RETRIES = 2
PAGE_RETRY_DELAY = 5.0
# A 429 asking for a longer pause than this ends the run; a later attempt is scheduled.
MAX_RATE_LIMIT_WAIT = 120.0
RATE_LIMIT_WAITS = 5
# Railz still extracting data (202): ask again this much later.
NOT_READY_RETRY_AFTER = timedelta(minutes=5)
# A run still "running" after this long lost its worker; it no longer blocks new runs.
RUN_ABANDONED_AFTER = timedelta(hours=1)
# Enough ids and reasons to find the bad records, without an unbounded JSON column.
MAX_SKIPPED_LISTED = 500
# Ids per statement when archiving (under SQLite's 999 bound parameters).
ARCHIVE_BATCH = 900
DISCOVERY = "connections"

# Replaced in tests, so waits are recorded instead of slept through.
sleep: Callable[[float], None] = time.sleep

OnPage = Callable[[SyncRun, Page], None]


# --- connections ----------------------------------------------------------------------------


def connections_discover(*, client: RailzClient | None = None) -> SyncRun:
    """Mirror GET /v2/connections and /v2/businesses into Connection rows.

    Names come from the businesses; a connection Railz no longer lists keeps its row (drafts
    and history point at it) but is marked `removed`, so nothing can be pushed to it.
    """
    client = client or get_client()
    now = timezone.now()
    run = SyncRun.objects.create(connection=None, data_type=DISCOVERY, started_at=now)
    try:
        items = client.connections()
        businesses = client.businesses()
    except RailzError as exc:
        return _run_finish(run, status=SyncRun.Status.FAILED, error=str(exc))

    business_by_connection: dict[str, dict[str, Any]] = {}
    for business in businesses:
        if not isinstance(business, dict):
            continue
        for linked in business.get("connections") or []:
            if isinstance(linked, dict) and linked.get("connectionUuid"):
                business_by_connection[str(linked["connectionUuid"])] = business

    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        try:
            uuid, fields = _connection_fields(item, business_by_connection)
        except MalformedRecord as exc:
            _skip(run, record_id(item) or _get(item, "connectionUuid"), str(exc))
            continue
        rows[uuid] = fields

    with transaction.atomic():
        existing = {
            c.connection_uuid: c for c in Connection.objects.filter(connection_uuid__in=rows)
        }
        changed, created, status_changed = [], [], []
        for uuid, fields in rows.items():
            connection = existing.get(uuid)
            if connection is None:
                created.append(Connection(connection_uuid=uuid, **fields))
                continue
            if connection.status != fields.get("status", connection.status):
                status_changed.append(connection.pk)
            if any(getattr(connection, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(connection, name, value)
                changed.append(connection)
            else:
                run.unchanged += 1
        Connection.objects.bulk_create(created)
        if changed:
            for connection in changed:
                connection.updated_at = now
            Connection.objects.bulk_update(changed, [*_CONNECTION_FIELDS, "updated_at"])
        run.created, run.updated = len(created), len(changed)
        run.archived = (
            Connection.objects.exclude(connection_uuid__in=rows)
            .exclude(status=Connection.Status.REMOVED)
            .update(status=Connection.Status.REMOVED, updated_at=now)
        )
    run.pages = 1
    _push_options_fetch_enqueue(
        uuids=[c.connection_uuid for c in (*created, *changed) if c.status == "active"]
    )
    _connection_pauses_follow_enqueue(connection_ids=status_changed)
    return _run_finish(run, status=SyncRun.Status.SUCCEEDED)


def _connection_pauses_follow_enqueue(*, connection_ids: list[int]) -> None:
    """Hand the connections whose status changed to the push app, which pauses the pushes of
    one Railz now reports disconnected or expired and resumes one it reports active again."""
    if not connection_ids:
        return

    def send() -> None:
        try:
            queue.enqueue_connection_pauses_follow(connection_ids=connection_ids)
        except Exception:
            # A new push of a disconnected connection still pauses it; a person resumes it.
            logger.exception("could not enqueue the pauses of connections %s", connection_ids)

    transaction.on_commit(send)


def _push_options_fetch_enqueue(*, uuids: list[str]) -> None:
    """Queue the fetch of the push rules of connections that just became pushable.

    A connection new to railzpush (or active again) gets its provider's rules before anyone
    composes for it, so validation knows them without a person asking first. Enqueued by
    the task's dotted path: the refs app imports nothing of the push app.
    """
    if not uuids:
        return
    ids = list(
        Connection.objects.filter(
            connection_uuid__in=uuids, status=Connection.Status.ACTIVE
        ).values_list("pk", flat=True)
    )

    def send() -> None:
        for connection_id in ids:
            try:
                queue.enqueue_push_options_fetch(connection_id=connection_id)
            except Exception:
                # The daily refresh, or the admin's action, fetches them instead.
                logger.exception("could not enqueue the push rules of connection %s", connection_id)

    transaction.on_commit(send)


_CONNECTION_FIELDS = (
    "business_uuid",
    "business_name",
    "service_name",
    "status",
    "disconnect_reason",
    "raw",
)


def _get(item: Any, key: str) -> str | None:
    return str(item[key]) if isinstance(item, dict) and item.get(key) else None


def _connection_fields(
    item: Any, business_by_connection: dict[str, dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict):
        raise MalformedRecord("the connection must be a JSON object")
    uuid = item.get("connectionUuid")
    if not isinstance(uuid, str) or not uuid.strip():
        raise MalformedRecord("connectionUuid should not be empty")
    business = business_by_connection.get(uuid, {})
    status = item.get("status")
    if not isinstance(status, str) or not status:
        raise MalformedRecord("status should not be empty")
    return uuid.strip(), {
        "business_uuid": str(item.get("businessUuid") or business.get("businessUuid") or "")[:64],
        "business_name": str(item.get("businessName") or business.get("businessName") or "")[:500],
        "service_name": str(item.get("serviceName") or "")[:40],
        "status": status[:20],
        "disconnect_reason": str(item.get("disconnectReason") or "")[:200],
        "raw": item,
    }


# --- reference data -------------------------------------------------------------------------


def connection_sync(
    *,
    connection: Connection,
    data_types: Iterable[str] | None = None,
    client: RailzClient | None = None,
    on_page: OnPage | None = None,
) -> list[SyncRun]:
    """Sync every reference type of one connection (or `data_types`), in dependency order."""
    wanted = list(data_types) if data_types is not None else list(REF_TYPES)
    for data_type in wanted:
        ref_type_get(data_type)  # a bad type fails before any request is sent
    client = client or get_client()
    return [
        refs_sync(connection=connection, data_type=data_type, client=client, on_page=on_page)
        for data_type in REF_TYPES
        if data_type in wanted
    ]


@dataclass
class _Progress:
    before: dict[type[RefRecord], set[int]]
    seen: dict[type[RefRecord], set[int]] = field(default_factory=dict)
    stored_until: int = 0  # offset up to which pages are stored (a retried read skips them)
    # Railz's total of the list on each page read: a change means records moved between
    # offsets while the run read them, so one may have been missed.
    counts: set[int] = field(default_factory=set)


def refs_sync(
    *,
    connection: Connection,
    data_type: str,
    client: RailzClient | None = None,
    page_size: int = PAGE_SIZE,
    on_page: OnPage | None = None,
) -> SyncRun:
    """Mirror one reference type of one connection; returns the finished SyncRun.

    New and changed records are upserted page by page, unchanged ones skipped by content hash,
    malformed ones skipped and listed on the run. After the last page, rows Railz no longer
    returns get `archived_at` (one UPDATE; never deleted). A run that cannot read every page
    archives nothing and ends failed with the reason; a 202 that outlasts the client's waits
    ends it "not ready" with a later attempt scheduled.
    """
    ref_type = ref_type_get(data_type)
    client = client or get_client()
    run, started = _run_start(connection=connection, data_type=data_type)
    if not started:
        logger.info("sync of %s for %s is already running (run %s)", data_type, connection, run.pk)
        return run

    progress = _Progress(
        before={
            model: set(
                model.objects.filter(connection=connection, archived_at__isnull=True)
                .values_list("pk", flat=True)
                .iterator(chunk_size=10_000)
            )
            for model in ref_type.models
        }
    )
    progress.seen = {model: set() for model in ref_type.models}
    try:
        for page in _pages(
            client=client,
            ref_type=ref_type,
            connection=connection,
            page_size=page_size,
            progress=progress,
        ):
            with transaction.atomic():
                _page_store(
                    run=run, ref_type=ref_type, connection=connection, page=page, progress=progress
                )
            if on_page is not None:
                on_page(run, page)
    except RailzNotSupported as exc:
        return _run_finish(run, status=SyncRun.Status.UNSUPPORTED, error=str(exc))
    except RailzDataNotReady as exc:
        retry_at = timezone.now() + NOT_READY_RETRY_AFTER
        _retry_schedule(connection=connection, data_type=data_type, at=retry_at)
        return _run_finish(
            run,
            status=SyncRun.Status.NOT_READY,
            retry_at=retry_at,
            error=f"{exc} Nothing was archived; a new attempt is scheduled.",
        )
    except RailzRateLimited as exc:
        retry_at = timezone.now() + timedelta(seconds=exc.retry_after or 60)
        _retry_schedule(connection=connection, data_type=data_type, at=retry_at)
        return _run_finish(
            run,
            status=SyncRun.Status.FAILED,
            retry_at=retry_at,
            error=f"{exc} Nothing was archived; a new attempt is scheduled.",
        )
    except RailzError as exc:
        return _run_finish(
            run,
            status=SyncRun.Status.FAILED,
            error=f"{exc} Stopped after {run.pages} pages; nothing was archived.",
        )
    except Exception as exc:
        logger.exception("sync of %s for %s failed", data_type, connection)
        _run_finish(
            run,
            status=SyncRun.Status.FAILED,
            error=f"Internal error ({type(exc).__name__}: {exc}); nothing was archived.",
        )
        raise

    now = timezone.now()
    note = ""
    with transaction.atomic():
        if len(progress.counts) > 1:
            note = (
                "The list changed in Railz while it was read (its total went from "
                f"{min(progress.counts):,} to {max(progress.counts):,}), so nothing was archived "
                "this time; the next sync will."
            )
        else:
            run.archived = _archive(ref_type=ref_type, progress=progress, now=now)
        for link in ref_type.links:
            _link_resolve(link=link, connection=connection, since=run.started_at)
        if ref_type.data_type == BUSINESS_INFO:
            _base_currency_store(connection=connection)
        Connection.objects.filter(pk=connection.pk).update(last_synced_at=now)
    connection.last_synced_at = now
    return _run_finish(run, status=SyncRun.Status.SUCCEEDED, error=note)


def _run_start(*, connection: Connection, data_type: str) -> tuple[SyncRun, bool]:
    """(a new running SyncRun, True), or (the run another worker is still running, False)."""
    now = timezone.now()
    with transaction.atomic():
        # Holds the connection's row until the new run is recorded, so two workers starting
        # the same sync at once cannot both see "none running" (SQLite's write lock already
        # serialises this).
        Connection.objects.select_for_update().filter(pk=connection.pk).first()
        runs = SyncRun.objects.filter(
            connection=connection, data_type=data_type, status=SyncRun.Status.RUNNING
        )
        runs.filter(started_at__lt=now - RUN_ABANDONED_AFTER).update(
            status=SyncRun.Status.FAILED,
            finished_at=now,
            error="The run stopped without finishing (its worker was lost).",
        )
        other = runs.order_by("-started_at").first()
        if other is not None:
            # Two runs upserting and archiving the same rows would undo each other's work.
            return other, False
        return SyncRun.objects.create(
            connection=connection, data_type=data_type, started_at=now
        ), True


def _pages(
    *,
    client: RailzClient,
    ref_type: RefType,
    connection: Connection,
    page_size: int,
    progress: _Progress,
) -> Iterator[Page]:
    """The type's pages, re-reading (bounded) when a page fails after the client's retries.

    The client cannot resume at an offset, so a retry reads from the start and skips pages
    already stored.
    """
    failures = rate_waits = 0
    while True:
        try:
            for page in _read(
                client=client, ref_type=ref_type, connection=connection, page_size=page_size
            ):
                if page.offset < progress.stored_until:
                    continue
                yield page
                progress.stored_until = page.offset + len(page.items)
                if page.count is not None:
                    progress.counts.add(page.count)
            return
        except RailzRateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else PAGE_RETRY_DELAY
            if wait > MAX_RATE_LIMIT_WAIT or rate_waits >= RATE_LIMIT_WAITS:
                raise
            rate_waits += 1
            logger.info("Railz asked to wait %.0f s before reading %s", wait, ref_type.data_type)
            sleep(wait)
        except (RailzDataNotReady, RailzNotSupported):
            raise
        except RailzError as exc:
            if not exc.retryable or failures >= PAGE_RETRIES:
                raise
            failures += 1
            logger.warning("reading %s failed (%s); retry %d", ref_type.data_type, exc, failures)
            sleep(PAGE_RETRY_DELAY * failures)


def _read(
    *, client: RailzClient, ref_type: RefType, connection: Connection, page_size: int
) -> Iterator[Page]:
    if ref_type.path is not None:
        yield from client.iter_pages(
            ref_type.path, connection_uuid=connection.connection_uuid, limit=page_size
        )
        return
    info = client.business_info(connection_uuid=connection.connection_uuid)
    if info:
        yield Page(offset=0, limit=1, count=1, items=[info], status_code=200)


def _page_store(
    *, run: SyncRun, ref_type: RefType, connection: Connection, page: Page, progress: _Progress
) -> None:
    now = timezone.now()
    items = page.items
    stored: dict[type[RefRecord], dict[str, tuple[int, str, datetime | None]]] = {}
    hashed: dict[str, tuple[str, str]] = {}
    if len(ref_type.models) == 1:
        # One row per record, keeping the record whole: an unchanged record is recognised by
        # its hash before it is even read, so a re-sync of unchanged data maps nothing.
        model = ref_type.models[0]
        ids = [record_id(item) for item in items]
        stored[model] = _stored(model=model, connection=connection, remote_ids=ids)
        seen = progress.seen[model]
        changed = []
        for item, remote_id in zip(items, ids, strict=True):
            if remote_id is not None:
                text = record_json(item)
                digest = content_hash(text)
                previous = stored[model].get(remote_id)
                if previous is not None and previous[1] == digest and previous[2] is None:
                    seen.add(previous[0])
                    run.unchanged += 1
                    continue
                hashed[remote_id] = (text, digest)
            changed.append(item)
        items = changed

    rows: dict[type[RefRecord], dict[str, tuple[dict[str, Any], Any]]] = {
        model: {} for model in ref_type.models
    }
    for item in items:
        try:
            read = list(ref_type.read(item))
        except MalformedRecord as exc:
            _skip(run, record_id(item), str(exc))
            continue
        for model, remote_id, fields, raw in read:
            rows[model][remote_id] = (fields, raw)

    for model, by_id in rows.items():
        if not by_id:
            continue
        if model not in stored:
            stored[model] = _stored(model=model, connection=connection, remote_ids=by_id)
        seen = progress.seen[model]
        writes = []
        for remote_id, (fields, raw) in by_id.items():
            if remote_id in hashed:
                text, digest = hashed[remote_id]
            else:
                text = record_json(raw)
                digest = content_hash(text)
            previous = stored[model].get(remote_id)
            if previous is not None:
                seen.add(previous[0])
                if previous[1] == digest and previous[2] is None:
                    run.unchanged += 1
                    continue
                run.updated += 1
            else:
                run.created += 1
            writes.append((remote_id, fields, text, digest))
        if writes:
            _upsert(model=model, connection=connection, writes=writes, now=now)
    run.pages += 1
    SyncRun.objects.filter(pk=run.pk).update(
        pages=run.pages,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        skipped=run.skipped,
        skipped_records=run.skipped_records,
    )


def _stored(
    *, model: type[RefRecord], connection: Connection, remote_ids: Iterable[str | None]
) -> dict[str, tuple[int, str, datetime | None]]:
    """remote_id -> (pk, content_hash, archived_at) of the page's rows already stored."""
    wanted = [remote_id for remote_id in remote_ids if remote_id is not None]
    if not wanted:
        return {}
    return {
        remote_id: (pk, digest, archived_at)
        for remote_id, pk, digest, archived_at in model.objects.filter(
            connection=connection, remote_id__in=wanted
        )
        .order_by()
        .values_list("remote_id", "pk", "content_hash", "archived_at")
    }


@dataclass(frozen=True)
class _UpsertStatement:
    sql: str
    fields: tuple[models.Field, ...]
    # Fields whose Python value is already what the database driver takes.
    plain: frozenset[str]


_UPSERTS: dict[tuple[str, type[RefRecord]], _UpsertStatement] = {}
_PLAIN_FIELDS = (models.CharField, models.TextField, models.BooleanField)


def _upsert_statement(model: type[RefRecord]) -> _UpsertStatement:
    """INSERT … ON CONFLICT (connection, remote_id) DO UPDATE of every data column.

    Written by hand rather than bulk_create(update_conflicts=True): on SQLite Django splits a
    500-row page into 999-parameter batches and spends more time preparing each value than
    the database spends storing it; one executemany does the page in one statement.
    Foreign keys between reference rows (parent, category…) are left out: they are resolved
    after the run, and an update must not clear them.
    """
    key = (db.vendor, model)
    if key not in _UPSERTS:
        fields = tuple(
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and (not f.is_relation or f.name == "connection")
        )
        quote = db.ops.quote_name
        json_marker = "%s::jsonb" if db.vendor == "postgresql" else "%s"
        placeholders = ", ".join(
            json_marker if isinstance(f, models.JSONField) else "%s" for f in fields
        )
        updates = ", ".join(
            f"{quote(f.column)} = EXCLUDED.{quote(f.column)}"
            for f in fields
            if f.name not in ("connection", "remote_id")
        )
        # Only quoted names from the model's own metadata go into the text; values are bound.
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        conflict = f"{quote('connection_id')}, {quote('remote_id')}"
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        sql += f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        _UPSERTS[key] = _UpsertStatement(
            sql=sql,
            fields=fields,
            plain=frozenset(f.name for f in fields if isinstance(f, _PLAIN_FIELDS)),
        )
    return _UPSERTS[key]


def _upsert(
    *,
    model: type[RefRecord],
    connection: Connection,
    writes: list[tuple[str, dict[str, Any], str, str]],
    now: datetime,
) -> None:
    statement = _upsert_statement(model)
    fixed = {
        "connection": connection.pk,
        "synced_at": db.ops.adapt_datetimefield_value(now),
        "archived_at": None,
    }
    defaults = {f.name: f.get_default() for f in statement.fields}
    rows = []
    for remote_id, fields, text, digest in writes:
        values = {**defaults, **fields, **fixed, "remote_id": remote_id, "raw": text}
        values["content_hash"] = digest
        rows.append(
            [
                values[f.name]
                if f.name in statement.plain or f.name in fixed or f.name == "raw"
                else f.get_db_prep_save(values[f.name], db)
                for f in statement.fields
            ]
        )
    with db.cursor() as cursor:
        cursor.executemany(statement.sql, rows)


def _skip(run: SyncRun, remote_id: str | None, reason: str) -> None:
    run.skipped += 1
    if len(run.skipped_records) < MAX_SKIPPED_LISTED:
        run.skipped_records.append({"id": remote_id, "reason": reason})


def _archive(*, ref_type: RefType, progress: _Progress, now: datetime) -> int:
    archived = 0
    for model in ref_type.models:
        gone = sorted(progress.before[model] - progress.seen[model])
        for start in range(0, len(gone), ARCHIVE_BATCH):
            chunk = gone[start : start + ARCHIVE_BATCH]
            archived += model.objects.filter(pk__in=chunk, archived_at__isnull=True).update(
                archived_at=now
            )
    return archived


def _link_resolve(*, link: Link, connection: Connection, since: datetime) -> None:
    """Point `link.field` at the row whose remote id the record named (one UPDATE).

    Only rows written in this run or still unresolved are touched: a re-sync of unchanged data
    rewrites nothing.
    """
    target = link.target.objects.filter(
        connection=connection, remote_id=OuterRef(link.remote_field)
    ).values("pk")[:1]
    rows = link.model.objects.filter(connection=connection)
    rows.exclude(**{link.remote_field: ""}).filter(
        Q(**{f"{link.field}__isnull": True}) | Q(synced_at__gte=since)
    ).update(**{link.field: Subquery(target)})
    rows.filter(**{link.remote_field: "", f"{link.field}__isnull": False}).update(
        **{link.field: None}
    )


def _base_currency_store(*, connection: Connection) -> None:
    from refs.models import Currency

    base = (
        Currency.objects.filter(connection=connection, is_base_currency=True)
        .active()
        .values_list("code", flat=True)
        .first()
    )
    if base and base != connection.base_currency:
        Connection.objects.filter(pk=connection.pk).update(base_currency=base)
        connection.base_currency = base


def _run_finish(
    run: SyncRun, *, status: str, error: str = "", retry_at: datetime | None = None
) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.retry_at = retry_at
    if run.skipped:
        listed = "; ".join(
            f"{entry['id'] or '(no id)'}: {entry['reason']}" for entry in run.skipped_records[:5]
        )
        more = f" and {run.skipped - 5} more" if run.skipped > 5 else ""
        note = f"{run.skipped} records were skipped ({listed}{more})."
        error = f"{error} {note}".strip()
    run.error = error
    run.save()
    return run


def _retry_schedule(*, connection: Connection, data_type: str, at: datetime) -> None:
    transaction.on_commit(
        lambda: queue.retry_schedule(connection_id=connection.pk, data_type=data_type, at=at)
    )


def connections_sync_enqueue(*, connections: Iterable[Connection]) -> int:
    """Queue a background sync of every reference type of each connection; returns how many.

    The tasks are sent when the current transaction commits, so a worker never looks for rows
    that are not visible yet.
    """
    ids = [connection.pk for connection in connections]
    for connection_id in ids:
        transaction.on_commit(
            lambda connection_id=connection_id: queue.enqueue_connection_sync(
                connection_id=connection_id
            )
        )
    return len(ids)
