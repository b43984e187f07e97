"""A payment's own rules, each a problem at its field with a rule code: no more than the amount
due, only the party's documents in the payment's currency, a total equal to what is applied,
a bank account, and a document that is in the accounting system or on its way. Credit notes
alike: no more credit than remains, only the party's in the payment's currency and connection,
and the total is what is paid less the credit applied."""

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
    OpenBillCreditNoteFactory,
    OpenBillFactory,
    OpenInvoiceCreditNoteFactory,
    OpenInvoiceFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

KINDS = {
    "invoicePayments": ("customer", CustomerFactory, OpenInvoiceFactory),
    "billPayments": ("vendor", VendorFactory, OpenBillFactory),
}
CREDIT_NOTES = {
    "invoicePayments": OpenInvoiceCreditNoteFactory,
    "billPayments": OpenBillCreditNoteFactory,
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
        "lines": [LineData(**{_link(d): d}, amount=a) for d, a in lines],
        **overrides,
    }
    return RecordData(connection=connection, **values)


def _link(row) -> str:
    return "credit_note" if row.link_type == "creditNote" else "document"


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


def _with_credit(kind, *, credit_party=None, credit_connection=None, **credit):
    connection = ConnectionFactory()
    _who, party_factory, document_factory = KINDS[kind]
    party = party_factory(connection=connection)
    document = document_factory(connection=connection, party=party, amount_due=Decimal("100"))
    note = CREDIT_NOTES[kind](
        connection=credit_connection or connection,
        party=credit_party(credit_connection or connection) if credit_party else party,
        **{"amount_due": Decimal("30"), **credit},
    )
    return connection, party, document, note


def test_credit_applied_lowers_the_total_the_payment_moves(kind):
    connection, party, document, note = _with_credit(kind)
    lines = [(document, "100"), (note, "30")]

    net = payment(kind, connection, party=party, lines=lines, total="70.00")
    gross = payment(kind, connection, party=party, lines=lines, total="100.00")

    assert problems(kind, net) == []
    assert problems(kind, gross) == [("totalAmount", "allocationsTotal")]
    message = record_save_problems(data_type=kind, data=gross)[0].message
    assert "less 30.00 of credit = 70.00" in message


def test_more_credit_than_remains_is_refused_at_the_amount(kind):
    connection, party, document, note = _with_credit(kind)

    data = payment(
        kind, connection, party=party, lines=[(document, "100"), (note, "40")], total="60.00"
    )

    assert problems(kind, data) == [("lines[1].amount", "amountDue")]
    message = record_save_problems(data_type=kind, data=data)[0].message
    assert "30.00 credit remaining on" in message


def test_a_credit_note_of_another_party_currency_or_connection_is_refused_at_its_link(kind):
    _who, party_factory, _document_factory = KINDS[kind]
    others = _with_credit(kind, credit_party=lambda c: party_factory(connection=c))
    in_usd = _with_credit(kind, currency="USD")
    elsewhere = _with_credit(kind, credit_connection=ConnectionFactory())

    found = []
    for connection, party, document, note in (others, in_usd, elsewhere):
        data = payment(
            kind, connection, party=party, lines=[(document, "100"), (note, "30")], total="70.00"
        )
        found.append(problems(kind, data))

    assert found[0] == [("lines[1].links", "sameParty")]
    assert found[1] == [("lines[1].links", "sameCurrency")]
    assert ("lines[1].links", "sameConnection") in found[2]


def test_a_line_names_a_document_or_a_credit_note_and_never_both(kind):
    connection, party, document, note = _with_credit(kind)
    neither = payment(kind, connection, party=party, lines=[], total="70.00")
    neither.lines = [LineData(amount="70")]
    both = payment(kind, connection, party=party, lines=[], total="70.00")
    both.lines = [LineData(document=document, credit_note=note, amount="70")]

    assert problems(kind, neither) == [("lines[0].links", "required")]
    assert ("lines[0].links", "oneLink") in problems(kind, both)


def test_the_credit_note_goes_as_a_credit_note_link(kind):
    from pushes.payloads import record_build_payload
    from pushes.services.records import record_create

    connection, party, document, note = _with_credit(kind)
    data = payment(
        kind, connection, party=party, lines=[(document, "100"), (note, "30")], total="70.00"
    )

    body = record_build_payload(record_create(data_type=kind, data=data))

    assert body["totalAmount"] == 70
    assert body["lines"][1] == {
        "amount": 30,
        "links": [{"type": "creditNote", "id": note.remote_id}],
    }
