"""A journal entry's rules: each line is a debit or a credit, never both; a line names one
customer or vendor (its entityRef, sent with its type); and the entry balances in its own
currency or it cannot be ready (rule `balanced`, reported at `lines`)."""

from __future__ import annotations

import pytest

from pushes.payloads import record_build_payload
from pushes.services.records import RecordInvalid, record_create, record_save_problems
from pushes.spec import LineData, RecordData
from tests.factories import AccountFactory, ConnectionFactory, CustomerFactory, VendorFactory

pytestmark = pytest.mark.django_db


def _data(connection, *lines, status="ready", **values):
    return RecordData(
        connection=connection, status=status, currency="CAD", lines=list(lines), **values
    )


def _line(connection, **values):
    return LineData(account=AccountFactory(connection=connection), **values)


def _problems(data):
    found = record_save_problems(data_type="journalEntries", data=data)
    return [(p.field, p.rule, p.message) for p in found]


def test_an_unbalanced_entry_cannot_be_ready_and_says_by_how_much():
    connection = ConnectionFactory()
    data = _data(connection, _line(connection, debit="100.00"), _line(connection, credit="60"))

    assert _problems(data) == [
        (
            "lines",
            "balanced",
            "Debits (CAD 100.00) and credits (CAD 60.00) differ by CAD 40.00: a journal entry "
            "must balance.",
        )
    ]
    data.status = "draft"
    assert _problems(data) == []


def test_a_balanced_entry_is_ready_and_sends_one_side_a_line():
    connection = ConnectionFactory()
    customer = CustomerFactory(connection=connection, remote_id="C-9")
    entry = record_create(
        data_type="journalEntries",
        data=_data(
            connection,
            _line(connection, debit="250.10", customer=customer),
            _line(connection, credit="200"),
            _line(connection, credit="50.10"),
            journal_number="ACCR-11",
        ),
    )

    lines = record_build_payload(entry)["lines"]

    assert [(line.get("debit"), line.get("credit")) for line in lines] == [
        (250.1, None),
        (None, 200),
        (None, 50.1),
    ]
    assert lines[0]["entityRef"] == {"id": "C-9", "type": "customer"}


def test_a_line_with_both_sides_is_refused_even_in_a_draft():
    connection = ConnectionFactory()
    data = _data(connection, _line(connection, debit="5", credit="5"), status="draft")

    with pytest.raises(RecordInvalid) as refused:
        record_create(data_type="journalEntries", data=data)

    assert [(p.field, p.rule) for p in refused.value.problems] == [("lines[0].credit", "oneSide")]


def test_a_line_needs_an_amount_and_an_account_and_names_one_entity():
    connection = ConnectionFactory()
    data = _data(
        connection,
        LineData(description="no account", debit="10"),
        _line(connection, description="nothing"),
        _line(
            connection,
            credit="10",
            customer=CustomerFactory(connection=connection),
            vendor=VendorFactory(connection=connection),
        ),
    )

    assert [(field, rule) for field, rule, _ in _problems(data)] == [
        ("lines[2].entityRef", "oneOf"),
        ("lines[0].accountRef", "required"),
        ("lines[1].debit", "required"),
    ]


def test_a_negative_amount_belongs_on_the_other_side():
    connection = ConnectionFactory()
    data = _data(connection, _line(connection, debit="-10"), _line(connection, credit="-10"))

    assert [(field, rule) for field, rule, _ in _problems(data)] == [
        ("lines[0].debit", "min"),
        ("lines[1].credit", "min"),
    ]
