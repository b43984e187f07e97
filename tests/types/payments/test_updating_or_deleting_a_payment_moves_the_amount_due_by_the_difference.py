"""Once a payment is in the accounting system, an update moves its documents' mirrored amount
due (and its credit notes' remaining credit) by the difference between what it applied before
and what it applies now, at once and marked local; a delete gives back what it applied. What
it applied is what its pushes sent, not its lines as edited since."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pushes.services.push_requests import push_request_create
from pushes.services.records import record_save_problems, record_update
from pushes.spec import LineData, RecordData
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    OpenInvoiceCreditNoteFactory,
    OpenInvoiceFactory,
)
from tests.fixtures.pushes import *  # noqa: F403
from tests.types.payments.test_a_payment_waits_for_its_documents_push_and_takes_the_amount_due import (  # noqa: E501
    settle,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kwargs: None)


def data(connection, customer, account, lines, *, total):
    return RecordData(
        connection=connection,
        status="ready",
        customer=customer,
        account=account,
        date="2026-11-20",
        currency="CAD",
        total_amount=total,
        lines=[
            LineData(**{"credit_note" if r.link_type == "creditNote" else "document": r}, amount=a)
            for r, a in lines
        ],
    )


@pytest.fixture
def paid(push_staff):
    """A payment of 70 on an invoice of 100, less 20 of a credit note of 30, pushed."""
    from pushes.services.records import record_create

    connection = ConnectionFactory(service_name="quickbooks")
    customer = CustomerFactory(connection=connection)
    account = AccountFactory(connection=connection, is_bank_account=True)
    invoice = OpenInvoiceFactory(
        connection=connection, party=customer, amount_due=Decimal("100"), total_amount=100
    )
    note = OpenInvoiceCreditNoteFactory(
        connection=connection, party=customer, amount_due=Decimal("30"), total_amount=30
    )
    make = lambda lines, total: data(connection, customer, account, lines, total=total)  # noqa: E731
    payment = record_create(
        data_type="invoicePayments", data=make([(invoice, "70"), (note, "20")], "50")
    )
    settle(push_request_create(record=payment, user=push_staff), "success", ids=["PAY-1"])
    invoice.refresh_from_db()
    note.refresh_from_db()
    assert (invoice.amount_due, note.amount_due) == (30, 10)
    return payment, invoice, note, make


def test_an_update_moves_the_amounts_by_the_difference(paid, push_staff):
    payment, invoice, note, make = paid
    # 90 on the invoice is more than the 30 left, but the payment already holds 70 of it.
    changed = make([(invoice, "90"), (note, "5")], "85")
    assert record_save_problems(data_type="invoicePayments", data=changed, record=payment) == []
    payment = record_update(record=payment, data=changed)

    push = push_request_create(record=payment, user=push_staff)
    assert push.operation == "update"
    settle(push, "success", ids=["PAY-1"])

    invoice.refresh_from_db()
    note.refresh_from_db()
    assert invoice.amount_due == 10 and invoice.amount_due_is_local
    assert note.amount_due == 25 and note.document_status == "partiallyPaid"


def test_more_than_it_held_plus_what_is_left_is_still_refused(paid):
    payment, invoice, note, make = paid

    problems = record_save_problems(
        data_type="invoicePayments",
        data=make([(invoice, "101"), (note, "20")], "81"),
        record=payment,
    )

    assert [(p.field, p.rule) for p in problems] == [("lines[0].amount", "amountDue")]


def test_a_delete_gives_back_what_the_last_push_applied(paid, push_staff):
    payment, invoice, note, make = paid
    payment = record_update(record=payment, data=make([(invoice, "90"), (note, "5")], "85"))
    settle(push_request_create(record=payment, user=push_staff), "success", ids=["PAY-1"])
    # Edited again but not pushed: the accounting system still holds 90 and 5.
    payment = record_update(record=payment, data=make([(invoice, "10")], "10"))

    push = push_request_create(record=payment, user=push_staff, operation="delete")
    settle(push, "success", ids=["PAY-1"])

    invoice.refresh_from_db()
    note.refresh_from_db()
    assert (invoice.amount_due, note.amount_due) == (100, 30)
    assert invoice.document_status == "open" and note.document_status == "open"
