"""A payment's own rules, each a problem at its field with a rule code: no more than the amount
due, only the party's documents in the payment's currency, a total equal to what is applied,
a bank account, and a document that is in the accounting system or on its way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pushes import registry
from pushes.services.records import record_save_problems
from pushes.spec import LineData, RecordData
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    OpenBillFactory,
    OpenInvoiceFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

KINDS = {
    "invoicePayments": ("customer", CustomerFactory, OpenInvoiceFactory),
    "billPayments": ("vendor", VendorFactory, OpenBillFactory),
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return request.param


def payment(data_type, connection, *, party, lines, total="100.00", **overrides):
    who = KINDS[data_type][0]
    values = {
        who: party,
        "account": AccountFactory(connection=connection, is_bank_account=True),
        "date": "2026-11-02",
        "currency": "CAD",
        "total_amount": total,
        "status": "ready",
        "lines": [LineData(document=d, amount=a) for d, a in lines],
        **overrides,
    }
    return RecordData(connection=connection, **values)


def problems(data_type, data):
    return [(p.field, p.rule) for p in record_save_problems(data_type=data_type, data=data)]


def test_a_complete_payment_has_no_problem(kind):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    first = document_factory(connection=connection, party=party, amount_due=Decimal("60"))
    second = document_factory(connection=connection, party=party, amount_due=Decimal("40"))

    data = payment(kind, connection, party=party, lines=[(first, "60"), (second, "40")])

    assert problems(kind, data) == []


def test_more_than_the_amount_due_is_refused_at_the_amount(kind):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    document = document_factory(connection=connection, party=party, amount_due=Decimal("80"))

    data = payment(kind, connection, party=party, lines=[(document, "100")])

    assert problems(kind, data) == [("lines[0].amount", "amountDue")]
    message = record_save_problems(data_type=kind, data=data)[0].message
    assert "80.00 still due" in message


def test_a_document_of_another_party_or_currency_is_refused_at_its_link(kind):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party, other = party_factory(connection=connection), party_factory(connection=connection)
    theirs = document_factory(connection=connection, party=other)
    in_usd = document_factory(connection=connection, party=party, currency="USD")

    data = payment(kind, connection, party=party, lines=[(theirs, "50"), (in_usd, "50")])

    assert problems(kind, data) == [
        ("lines[0].links", "sameParty"),
        ("lines[1].links", "sameCurrency"),
    ]


def test_a_document_of_another_connection_is_refused(kind):
    connection, elsewhere = ConnectionFactory(), ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    document = document_factory(connection=elsewhere)

    data = payment(kind, connection, party=party, lines=[(document, "100")])

    assert ("lines[0].links", "sameConnection") in problems(kind, data)


def test_a_total_that_is_not_what_is_applied_is_refused_at_the_total(kind):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    document = document_factory(connection=connection, party=party)

    data = payment(kind, connection, party=party, lines=[(document, "90")], total="100.00")

    assert problems(kind, data) == [("totalAmount", "allocationsTotal")]


def test_the_money_moves_through_a_bank_account(kind):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    document = document_factory(connection=connection, party=party)

    data = payment(
        kind,
        connection,
        party=party,
        lines=[(document, "100")],
        account=AccountFactory(connection=connection, is_bank_account=False),
    )

    assert problems(kind, data) == [("accountRef", "bankAccount")]


def test_a_document_whose_push_failed_is_not_in_the_accounting_system(kind):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    document = document_factory(
        connection=connection,
        party=party,
        remote_id="railzpush:invoices:1",
        document_status="notPushed",
    )

    data = payment(kind, connection, party=party, lines=[(document, "100")])

    assert problems(kind, data) == [("lines[0].links", "notInAccountingSystem")]


def test_the_invoice_payment_update_sends_its_own_body():
    from pushes.payloads import record_build_payload
    from pushes.services.records import record_create
    from railzpush.railz.datatypes import Op, validate_request

    connection = ConnectionFactory(service_name="quickbooks")
    party = CustomerFactory(connection=connection)
    document = OpenInvoiceFactory(connection=connection, party=party)
    data = payment(
        "invoicePayments",
        connection,
        party=party,
        lines=[(document, "100")],
        payment_method="debitCard",
    )
    record = record_create(data_type="invoicePayments", data=data)

    created = record_build_payload(record, Op.CREATE)
    updated = record_build_payload(record, Op.UPDATE)

    assert created["paymentMethod"] == "debitCard"
    # UpdateInvoicePayment knows fewer methods: a debit card is "other" there.
    assert updated["paymentMethod"] == "other"
    body = {"connectionUuid": connection.connection_uuid}
    assert validate_request("invoicePayments", Op.UPDATE, {**body, "data": updated}) == []
    assert validate_request("invoicePayments", Op.UPDATE, {**body, "data": created}) != []
    assert created["lines"] == [
        {"amount": 100, "links": [{"type": "invoice", "id": document.remote_id}]}
    ]
    assert registry.for_data_type("invoicePayments").spec.party == "customer"
