"""The push path's statements built once (`pushes.statements`) write and read the same rows the
ORM would: dates, JSON and foreign keys converted by the fields themselves; an expression or a
column of another table is left to the ORM."""

from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_offset

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pushes.models import PushEvent, PushRequest, WebhookEvent
from pushes.services.push_requests import push_request_create
from pushes.statements import (
    OnceCompiled,
    column_read,
    row_insert,
    row_update,
    row_update_then_insert,
    rows_insert,
    rows_read,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def push(push_staff):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-STATEMENTS")
    return push_request_create(record=invoice, user=push_staff)


def _columns(row):
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def _exchange_line(push, now, **fields):
    return PushEvent(
        push_request=push,
        at=now,
        kind=PushEvent.Kind.EXCHANGE,
        source=PushEvent.Source.WORKER,
        method="POST",
        path="/invoices",
        response_body=None,
        **fields,
    )


def test_rows_insert_writes_the_lines_bulk_create_would(push):
    now = timezone.now()
    lines = [
        _exchange_line(
            push,
            now,
            query={"a": [1, "é"]},
            status_code=202,
            request_body={"data": {"lines": [{"amount": "12.50"}]}},
        ),
        PushEvent(
            push_request=push, at=now, kind=PushEvent.Kind.NOTE, source="system", message="x"
        ),
    ]
    before = set(PushEvent.objects.values_list("pk", flat=True))
    rows_insert(PushEvent, lines)

    written = PushEvent.objects.exclude(pk__in=before).order_by("pk")
    assert [(e.kind, e.at, e.query, e.request_body, e.response_body) for e in written] == [
        ("exchange", now, {"a": [1, "é"]}, {"data": {"lines": [{"amount": "12.50"}]}}, None),
        ("note", now, None, None, None),
    ]
    assert all(e.push_request_id == push.pk for e in written)


def test_rows_insert_with_keys_sets_each_row_s_key_across_several_statements(push, monkeypatch):
    """More rows than one statement takes (the database's limit of parameters, or the most
    rows a statement is kept for): every row is written once and each row's key is its own."""
    from pushes import statements

    monkeypatch.setattr(statements, "MOST_ROWS", 3)
    now = timezone.now()
    rows = [
        WebhookEvent(dedupe_key=f"k-many-{n}", raw_body=f'{{"n": {n}}}', received_at=now)
        for n in range(7)
    ]
    with CaptureQueriesContext(connection) as queries:
        rows_insert(WebhookEvent, rows, keys=True)

    inserts = [q for q in queries.captured_queries if q["sql"].lstrip().startswith("INSERT")]
    if connection.features.can_return_rows_from_bulk_insert:
        assert len(inserts) == 3
    assert len({row.pk for row in rows}) == 7
    stored = dict(
        WebhookEvent.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "raw_body")
    )
    assert {row.pk: row.raw_body for row in rows} == stored
    assert all(not row._state.adding for row in rows)


def test_row_insert_sets_the_primary_key_and_a_repeat_fails_on_its_unique_key():
    from django.db import IntegrityError, transaction

    event = WebhookEvent(dedupe_key="k-1", raw_body="{}", received_at=timezone.now())
    row_insert(event)
    assert event.pk is not None
    assert WebhookEvent.objects.get(pk=event.pk).dedupe_key == "k-1"
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(WebhookEvent(dedupe_key="k-1", raw_body="{}", received_at=timezone.now()))


INDIA = fixed_offset(timedelta(hours=5, minutes=30))
PACIFIC = fixed_offset(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("model", "name", "value"),
    [
        (PushEvent, "at", datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)),
        (PushEvent, "at", datetime(2026, 3, 29, 7, 0, tzinfo=INDIA)),
        (PushRequest, "requested_on", None),
        (PushRequest, "requested_on", datetime(2026, 1, 1, 0, 0, tzinfo=PACIFIC)),
        (PushRequest, "state", "queued"),
        (PushRequest, "attempts", 3),
        (PushRequest, "connection", 7),
        (WebhookEvent, "received_at", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_each_value_is_bound_as_the_field_itself_prepares_it(model, name, value):
    """The shortcuts of `_prep` (plain text, a whole number, an aware moment, an empty column)
    bind what the field's own `get_db_prep_save` gives, on this database."""
    from pushes.statements import _named_plan, _prep

    field, kind = _named_plan(model, name)
    assert _prep(field, kind, value) == field.get_db_prep_save(value, connection)


def test_row_update_changes_the_row_only_where_it_still_matches(push):
    now = timezone.now()
    assert row_update(PushRequest, push.pk, where={"state": "success"}, values={"attempts": 7}) == 0
    changed = row_update(
        PushRequest,
        push.pk,
        where={"state": push.state},
        values={"attempts": 7, "sent_at": now, "connection": push.connection},
    )
    assert changed == 1
    push.refresh_from_db()
    assert (push.attempts, push.sent_at) == (7, now)


def test_row_update_with_an_empty_column_as_condition_changes_it_only_while_empty():
    event = WebhookEvent(dedupe_key="k-null", raw_body="{}", received_at=timezone.now())
    row_insert(event)
    first, second = timezone.now(), timezone.now()
    values = {"processed_at": first, "outcome": "applied"}

    assert row_update(WebhookEvent, event.pk, where={"processed_at": None}, values=values) == 1
    later = {"processed_at": second, "outcome": "again"}
    assert row_update(WebhookEvent, event.pk, where={"processed_at": None}, values=later) == 0
    event.refresh_from_db()
    assert (event.processed_at, event.outcome) == (first, "applied")


def test_column_read_gives_the_value_the_orm_gives(push):
    for name in ("state", "created_at", "body", "connection"):
        orm = PushRequest.objects.filter(pk=push.pk).values_list(name, flat=True).first()
        assert column_read(PushRequest, push.pk, name) == orm
    assert column_read(PushRequest, push.pk + 10_000, "state") is None


def test_row_update_leaves_expressions_to_the_orm(push):
    values = {"attempts": F("attempts") + 1}
    assert row_update(PushRequest, push.pk, where={}, values=values) is None
    assert PushRequest.objects.get(pk=push.pk).attempts == push.attempts


def test_rows_read_gives_the_instances_the_orm_gives(push):
    table = PushRequest._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"{quote(table)}.{quote(f.column)}" for f in PushRequest._meta.concrete_fields
    )
    sql = f"SELECT {columns}, 'extra' AS named FROM {quote(table)} WHERE id = %s"  # noqa: S608
    (read,) = rows_read(PushRequest, sql, [push.pk], extra=("named",))

    assert _columns(read) == _columns(PushRequest.objects.get(pk=push.pk))
    assert isinstance(read.body, dict) and read.created_at.tzinfo is not None
    assert read.named == "extra"
    with pytest.raises(ValueError, match="does not select"):
        rows_read(PushRequest, sql, [push.pk])


def test_rows_read_with_a_joined_key_gives_each_row_its_related_row_as_select_related_would(
    push, push_staff
):
    second = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-STATEMENTS-2"),
        user=push_staff,
    )
    ids = [push.pk, second.pk]
    query = PushRequest.objects.select_related("connection").filter(pk__in=ids)
    sql, params = query.query.sql_with_params()

    read = {row.pk: row for row in rows_read(PushRequest, sql, list(params), joined="connection")}

    for expected in query:
        row = read[expected.pk]
        assert _columns(row) == _columns(expected)
        with CaptureQueriesContext(connection) as queries:
            held = row.connection
        assert len(queries) == 0, "the connection is held, not read again"
        assert _columns(held) == _columns(expected.connection)
        assert not held._state.adding and held._state.db == expected.connection._state.db
    with pytest.raises(ValueError, match="its connection's"):
        rows_read(PushRequest, sql, list(params), extra=("named",), joined="connection")


def test_a_worker_reads_the_queued_pushes_ahead_as_the_orm_would(push, push_staff):
    """`_queued`: only the queued ones, each with its connection, the same rows on the first
    read (the statement compiled) and on the next (the statement kept)."""
    from pushes.services.batches import _queued, _queued_query

    sent = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-STATEMENTS-3"),
        user=push_staff,
    )
    PushRequest.objects.filter(pk=sent.pk).update(state=PushRequest.State.PENDING)
    ids = [push.pk, sent.pk, push.pk + sent.pk + 1000]
    expected = {row.pk: row for row in _queued_query(ids)}
    assert list(expected) == [push.pk]
    for _ in range(2):
        found = _queued(ids)
        assert list(found) == [push.pk]
        assert _columns(found[push.pk]) == _columns(expected[push.pk])
        with CaptureQueriesContext(connection) as queries:
            assert found[push.pk].connection.connection_uuid == DEMO_QUICKBOOKS
        assert len(queries) == 0


def test_a_query_is_compiled_once_per_shape_and_never_kept_in_a_shape_not_expected(push):
    """`OnceCompiled`: the ORM compiles the query the first time for a key and never again for
    it; where the ORM binds other parameters than the caller expects, nothing is kept (the
    caller runs the ORM's query instead) and the next call compiles again."""
    built = []

    @OnceCompiled
    def named(number):
        built.append(number)
        return PushRequest.objects.filter(pk=number).values_list("pk")

    first = named.sql("one", [push.pk], push.pk)
    assert first is not None and built == [push.pk]
    assert named.sql("one", [push.pk + 1], push.pk + 1) == first, "kept for its key"
    assert built == [push.pk]
    with connection.cursor() as cursor:
        cursor.execute(first, [push.pk])
        assert cursor.fetchall() == [(push.pk,)]
    assert list(named(push.pk)) == [(push.pk,)], "called, it is the ORM's query"

    assert named.sql("other", [push.pk, "unexpected"], push.pk) is None
    assert named.sql("other", [push.pk, "unexpected"], push.pk) is None
    assert built == [push.pk, push.pk, push.pk, push.pk], "a shape not expected is not kept"


def _lines(push, now):
    return [
        # An empty number: typed by its column, not as text.
        _exchange_line(push, now, status_code=None, request_body={"data": {"amount": "12.50"}}),
        PushEvent(
            push_request=push,
            at=now,
            kind=PushEvent.Kind.STATE,
            source=PushEvent.Source.WORKER,
            from_state=push.state,
            to_state="submitting",
            message="é",
        ),
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="one statement on PostgreSQL; elsewhere the caller writes the two in a transaction",
)
def test_row_update_then_insert_writes_both_only_where_the_row_still_matches(push):
    now = timezone.now()
    before = set(PushEvent.objects.values_list("pk", flat=True))
    lines = _lines(push, now)
    moved = row_update_then_insert(
        PushRequest,
        push.pk,
        where={"state": "success"},
        values={"state": "submitting", "attempts": 7},
        rows=lines,
    )
    assert moved == 0
    assert PushRequest.objects.get(pk=push.pk).state == push.state
    assert not PushEvent.objects.exclude(pk__in=before).exists()

    moved = row_update_then_insert(
        PushRequest,
        push.pk,
        where={"state": push.state},
        values={"state": "submitting", "attempts": 7, "sent_at": now},
        rows=lines,
    )
    assert moved == 1
    changed = PushRequest.objects.get(pk=push.pk)
    assert (changed.state, changed.attempts, changed.sent_at) == ("submitting", 7, now)
    written = PushEvent.objects.exclude(pk__in=before).order_by("pk")
    assert [
        (e.kind, e.at, e.status_code, e.request_body, e.response_body, e.to_state, e.message)
        for e in written
    ] == [
        ("exchange", now, None, {"data": {"amount": "12.50"}}, None, "", ""),
        ("state", now, None, None, None, "submitting", "é"),
    ]
    assert all(e.push_request_id == push.pk for e in written)
    assert all(not line._state.adding for line in lines)


def test_row_update_then_insert_leaves_what_it_cannot_do_in_one_statement_to_the_caller(push):
    now = timezone.now()
    expression = {"attempts": F("attempts") + 1}
    assert (
        row_update_then_insert(
            PushRequest, push.pk, where={}, values=expression, rows=_lines(push, now)
        )
        is None
    )
    no_rows = row_update_then_insert(
        PushRequest, push.pk, where={}, values={"attempts": 3}, rows=[]
    )
    assert no_rows is None
    plain = row_update_then_insert(
        PushRequest, push.pk, where={}, values={"attempts": 3}, rows=_lines(push, now)
    )
    if connection.vendor != "postgresql":
        assert plain is None
    assert PushRequest.objects.get(pk=push.pk).attempts == (
        3 if connection.vendor == "postgresql" else push.attempts
    )
