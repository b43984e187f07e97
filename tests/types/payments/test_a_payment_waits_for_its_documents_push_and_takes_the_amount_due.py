"""Payments in order: a payment of an invoice still being pushed waits for it and says so, is
sent with the invoice's real id once the accounting system gives it, and is held with the
reason if that push fails; a successful payment lowers the mirrored amount due at once, so a
second payment cannot take the same amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pushes.models import PushRequest
from pushes.services.push_requests import PushRefused, push_apply_status, push_request_create
from pushes.services.records import record_create
from pushes.spec import LineData, RecordData
from refs.models import OpenInvoice
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    OpenInvoiceFactory,
    invoice_data,
)
from tests.fixtures.pushes import *  # noqa: F403

pytestmark = pytest.mark.django_db

State = PushRequest.State


@pytest.fixture(autouse=True)
def no_queue(enqueued):
    """Nothing here runs a task: each test reads what was enqueued."""
    return enqueued


def pay(connection, customer, lines, *, total):
    return record_create(
        data_type="invoicePayments",
        data=RecordData(
            connection=connection,
            status="ready",
            customer=customer,
            account=AccountFactory(connection=connection, is_bank_account=True),
            date="2026-11-20",
            currency="CAD",
            total_amount=total,
            lines=[LineData(document=d, amount=a) for d, a in lines],
        ),
    )


def settle(push, status, *, ids=(), errors=()):
    """As if the push was sent and Railz then reported `status` for it."""
    PushRequest.objects.filter(pk=push.pk).update(state=State.PENDING)
    push.refresh_from_db()
    push_apply_status(
        push=push,
        item={
            "status": status,
            "pushCommunicationId": f"c{push.pk:023d}",
            "sourceObjectIds": list(ids),
            "validation": {"errors": list(errors)},
        },
        source="poll",
    )
    push.refresh_from_db()


def composed_invoice(connection, customer):
    data = invoice_data(connection=connection, customer=customer, invoice_number="INV-77")
    return record_create(data_type="invoices", data=data)


def paying_an_invoice_on_its_way(user):
    """An invoice composed here and queued, and a payment of 50 against its placeholder, queued
    behind it: (invoice, its push, its mirror row, the payment, the payment's push)."""
    connection = ConnectionFactory()
    customer = CustomerFactory(connection=connection)
    invoice = composed_invoice(connection, customer)
    invoice_push = push_request_create(record=invoice, user=user)
    on_its_way = OpenInvoice.objects.get(connection=connection, name="INV-77")
    payment = pay(connection, customer, [(on_its_way, "50")], total="50")
    payment_push = push_request_create(record=payment, user=user)
    return invoice, invoice_push, on_its_way, payment, payment_push


def test_a_payment_waits_for_its_invoice_and_is_sent_with_the_real_id(push_staff, no_queue):
    connection = ConnectionFactory()
    customer = CustomerFactory(connection=connection)
    invoice = composed_invoice(connection, customer)
    invoice_push = push_request_create(record=invoice, user=push_staff)

    # On its way: in the mirror at once, under a placeholder, so it can be paid.
    on_its_way = OpenInvoice.objects.get(connection=connection, name="INV-77")
    assert on_its_way.document_status == "pushing"
    assert on_its_way.remote_id.startswith("railzpush:")
    payment = pay(connection, customer, [(on_its_way, "50")], total="50")
    no_queue.clear()
    payment_push = push_request_create(record=payment, user=push_staff)

    assert payment_push.state == State.QUEUED and payment_push.next_attempt_at is None
    assert no_queue == []  # nothing enqueued: it is not sent
    assert "waits for INV-77" in payment_push.events.get().message

    settle(invoice_push, "success", ids=["INV-ID-9"])

    payment_push.refresh_from_db()
    on_its_way.refresh_from_db()
    assert on_its_way.remote_id == "INV-ID-9" and on_its_way.document_status == "open"
    assert payment_push.next_attempt_at is not None
    links = payment_push.body["data"]["lines"][0]["links"]
    assert links == [{"type": "invoice", "id": "INV-ID-9"}]
    assert "is in the accounting system" in payment_push.events.order_by("-pk")[0].message


def test_a_payment_waits_for_an_invoice_a_sync_brought_first_and_follows_it(push_staff, no_queue):
    invoice, invoice_push, on_its_way, payment, payment_push = paying_an_invoice_on_its_way(
        push_staff
    )
    # A sync read the invoice from the accounting system before its push's outcome came.
    synced = OpenInvoiceFactory(
        connection=invoice.connection,
        customer=invoice.customer,
        remote_id="INV-ID-10",
        name="INV-77",
    )

    settle(invoice_push, "success", ids=["INV-ID-10"])

    assert not OpenInvoice.objects.filter(pk=on_its_way.pk).exists()
    assert payment.lines.get().document_id == synced.pk
    payment_push.refresh_from_db()
    assert payment_push.next_attempt_at is not None
    links = payment_push.body["data"]["lines"][0]["links"]
    assert links == [{"type": "invoice", "id": "INV-ID-10"}]


def test_a_payment_is_held_when_its_invoices_push_fails(push_staff):
    _, invoice_push, on_its_way, payment, payment_push = paying_an_invoice_on_its_way(push_staff)

    settle(
        invoice_push, "failed", errors=[{"field": "customerRef", "message": "Customer inactive"}]
    )

    payment_push.refresh_from_db()
    on_its_way.refresh_from_db()
    assert on_its_way.document_status == "notPushed"
    assert payment_push.state == State.QUEUED and payment_push.next_attempt_at is None
    held = payment_push.events.order_by("-pk")[0].message
    assert held.startswith("Held: the push of INV-77 failed") and "Customer inactive" in held
    # Never sent with a guessed link: the payment is not ready while its invoice is not there.
    from pushes.services.records import record_validate

    payment = type(payment).objects.get(pk=payment.pk)
    assert ("lines[0].links", "notInAccountingSystem") in [
        (p.field, p.rule) for p in record_validate(record=payment)
    ]


def test_a_successful_payment_lowers_the_amount_due_at_once(push_staff):
    connection = ConnectionFactory()
    customer = CustomerFactory(connection=connection)
    document = OpenInvoiceFactory(
        connection=connection, party=customer, amount_due=Decimal("100"), total_amount=100
    )
    first = pay(connection, customer, [(document, "70")], total="70")
    second = pay(connection, customer, [(document, "40")], total="40")
    push = push_request_create(record=first, user=push_staff)

    # While the first is on its way, the second cannot take the same remaining amount.
    with pytest.raises(PushRefused) as refused:
        push_request_create(record=second, user=push_staff)
    assert "30.00 still due" in str(refused.value)

    settle(push, "success", ids=["PAY-1"])

    document.refresh_from_db()
    assert document.amount_due == Decimal("30") and document.amount_due_is_local
    assert document.document_status == "partiallyPaid"
    with pytest.raises(PushRefused):
        push_request_create(record=second, user=push_staff)
