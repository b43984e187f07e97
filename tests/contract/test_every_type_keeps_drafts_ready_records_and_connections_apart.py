"""Every declared type: a draft may be incomplete but never impossible, a ready record is
checked in full, and a reference from another connection is refused at its field."""

from __future__ import annotations

import pytest

from pushes.services.records import (
    RecordInvalid,
    record_create,
    record_save_problems,
    record_update,
    record_validate,
)
from pushes.spec import Kind, RecordData
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    SubsidiaryFactory,
    TrackingOptionFactory,
)

pytestmark = pytest.mark.django_db


def test_a_draft_may_be_incomplete_and_a_ready_record_may_not(record_type):
    connection = ConnectionFactory()
    incomplete = RecordData(connection=connection, status="draft")

    assert record_save_problems(data_type=record_type.data_type, data=incomplete) == []
    draft = record_create(data_type=record_type.data_type, data=incomplete)
    assert draft.status == "draft"
    assert [(p.field, p.rule) for p in record_validate(record=draft)] == record_type.required

    ready = RecordData(connection=connection, status="ready")
    with pytest.raises(RecordInvalid) as refused:
        record_create(data_type=record_type.data_type, data=ready)
    assert [p.rule for p in refused.value.problems] == [rule for _, rule in record_type.required]
    assert type(draft).objects.count() == 1


def test_a_draft_is_refused_what_can_never_be_stored(record_type):
    connection = ConnectionFactory()
    spec = record_type.spec
    data = record_type.data(connection=connection, status="draft")
    if spec.has_lines:
        number = record_type.decimal_line_field
        data.lines = [record_type.line(connection, **{number.name: "1.123456"})]
        expected = (f"lines[0].{number.path}", "maxDecimalPlaces")
    else:
        text = next(f for f in spec.fields if f.kind is Kind.TEXT and spec.max_length(f))
        setattr(data, text.name, "x" * (spec.max_length(text) + 1))
        expected = (text.path, "maxLength")

    problems = record_save_problems(data_type=record_type.data_type, data=data)

    assert [(p.field, p.rule) for p in problems] == [expected]


def test_a_complete_ready_record_is_written_with_its_lines(record_type):
    connection = ConnectionFactory()
    record = record_type.create(connection=connection)

    assert record.status == "ready" and record_validate(record=record) == []
    if record_type.spec.has_lines:
        assert record.lines.first().description == "Roasting services"
    assert record.payload_hash and not record.changed_since_push


def test_a_reference_from_another_connection_is_refused_even_in_a_draft(record_type):
    connection, other = ConnectionFactory(), ConnectionFactory()
    data = record_type.data(connection=connection, status="draft")
    setattr(data, record_type.ref_name, record_type.ref_value(other))
    expected = [(record_type.ref_path, "sameConnection")]
    if record_type.spec.has_lines:
        data.lines = [record_type.line(connection, account=AccountFactory(connection=other))]
        expected.append(("lines[0].accountRef", "sameConnection"))

    with pytest.raises(RecordInvalid) as refused:
        record_create(data_type=record_type.data_type, data=data)

    assert [(p.field, p.rule) for p in refused.value.problems] == expected
    assert "belongs to another connection" in refused.value.problems[0].message


def test_a_record_stays_with_its_connection(record_type):
    record = record_type.create(connection=ConnectionFactory())
    moved = record_type.data(connection=ConnectionFactory())

    with pytest.raises(RecordInvalid) as refused:
        record_update(record=record, data=moved)

    assert refused.value.problems[0].field == "connectionUuid"
    assert refused.value.problems[0].rule == "sameConnection"


def test_a_cap_on_lines_lives_in_the_declaration(record_type, monkeypatch):
    import dataclasses

    record_type.needs_lines()
    from pushes import registry

    pushable = registry.for_data_type(record_type.data_type)
    capped = dataclasses.replace(pushable.spec, max_lines=1)
    monkeypatch.setitem(
        registry._BY_DATA_TYPE, record_type.data_type, dataclasses.replace(pushable, spec=capped)
    )
    connection = ConnectionFactory()
    data = record_type.data(connection=connection, status="draft")
    data.lines = [record_type.line(connection), record_type.line(connection)]

    problems = record_save_problems(data_type=record_type.data_type, data=data)

    assert [(p.field, p.rule) for p in problems] == [("lines", "maxItems")]


def test_the_database_refuses_another_connections_reference_from_any_writer(record_type):
    from django.db import DatabaseError, IntegrityError, transaction

    record = record_type.create(connection=ConnectionFactory())
    other = ConnectionFactory()

    # IntegrityError on SQLite (RAISE(ABORT)), on PostgreSQL (SQLSTATE 23000).
    refused = (IntegrityError, DatabaseError)
    if not record_type.ref_many:
        row = record_type.ref(other)
        with pytest.raises(refused, match="belongs to another connection"), transaction.atomic():
            type(record).objects.filter(pk=record.pk).update(**{record_type.ref_name: row})
    if record_type.spec.has_lines:
        line = record.lines.first()
        account = AccountFactory(connection=other)
        with pytest.raises(refused, match="belongs to another connection"), transaction.atomic():
            type(line).objects.filter(pk=line.pk).update(account=account)
        with pytest.raises(refused, match="belongs to another connection"), transaction.atomic():
            line.tracking_options.add(TrackingOptionFactory(connection=other))
    with pytest.raises(refused, match="belongs to another connection"), transaction.atomic():
        record.subsidiaries.add(SubsidiaryFactory(connection=other))
