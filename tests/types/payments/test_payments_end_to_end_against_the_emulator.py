"""Payments end to end against the emulator, composed and pushed through the REST API:
an invoice made in the accounting system and one made here are paid; one payment is split
over two bills; a payment waits behind its invoice's push; an amount above what is due is
refused before anything is sent, and by the accounting system if sent anyway; a credit note is
applied with a payment, and deleting the payment gives its credit back."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pushes.models import PushRequest, WebhookEvent
from pushes.services.push_requests import push_request_create, push_request_submit
from pushes.tasks import webhook_event_apply_task
from railzpush.emulator.models import EmuRecord
from refs.models import Customer, OpenBill, OpenInvoice, OpenInvoiceCreditNote, Vendor
from refs.services import refs_sync
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import demo_bank_account, ready_invoice, refs_connection_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def books(push_emulator, push_client, monkeypatch):
    """The demo QuickBooks business mirrored: parties and open documents, as a sync has them."""
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kwargs: None)
    connection = refs_connection_for(DEMO_QUICKBOOKS)
    for data_type in (
        "customers",
        "vendors",
        "invoices",
        "bills",
        "invoiceCreditNotes",
        "billCreditNotes",
    ):
        run = refs_sync(connection=connection, data_type=data_type, client=push_client)
        assert run.status == "succeeded", run.error
    return connection


def settle(emulator, push, client):
    """Send `push` and apply the webhooks the accounting system answers with."""
    push_request_submit(push_request_id=push.pk, client=client)
    emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)
    push.refresh_from_db()
    return push


def emulator_amount_due(data_type, remote_id, key="amountDue") -> Decimal:
    body = EmuRecord.objects.get(
        connection__connection_uuid=DEMO_QUICKBOOKS, data_type=data_type, remote_id=remote_id
    ).body
    return Decimal(str(json.loads(body)[key]))


def compose(client, data_type, connection, party, lines, *, total, currency="USD"):
    party_key = "customer" if data_type == "invoicePayments" else "vendor"
    response = client.post(
        f"/api/v1/{data_type}/",
        {
            "connection": connection.connection_uuid,
            "status": "ready",
            party_key: {"id": party.pk},
            "account": {"id": demo_bank_account(connection).pk},
            "date": "2026-11-20",
            "currency": currency,
            "total_amount": str(total),
            "lines": [{_link(d): {"id": d.pk}, "amount": str(a)} for d, a in lines],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _link(row) -> str:
    return "credit_note" if row.link_type == "creditNote" else "document"


def push_through_api(client, data_type, pk):
    response = client.post(f"/api/v1/{data_type}/{pk}/push/")
    assert response.status_code == 202, response.json()
    return PushRequest.objects.get(pk=response.json()["id"])


def test_an_invoice_made_in_the_accounting_system_is_paid(
    books, api_as, api_pusher, push_emulator, push_client
):
    api = api_as(api_pusher)
    document = OpenInvoice.objects.filter(connection=books, document_status="open").first()
    customer = Customer.objects.get(connection=books, remote_id=document.party_remote_id)
    due = document.amount_due
    pk = compose(
        api,
        "invoicePayments",
        books,
        customer,
        [(document, "100.00")],
        total="100.00",
        currency=document.currency,
    )

    push = settle(push_emulator, push_through_api(api, "invoicePayments", pk), push_client)

    assert push.state == PushRequest.State.SUCCESS, (push.last_error, push.validation_errors)
    document.refresh_from_db()
    assert document.amount_due == due - 100 and document.amount_due_is_local
    assert emulator_amount_due("invoices", document.remote_id) == due - 100
    # The next sync confirms it: the accounting system's own figure, no longer local.
    refs_sync(connection=books, data_type="invoices", client=push_client)
    document.refresh_from_db()
    assert document.amount_due == due - 100 and not document.amount_due_is_local


def test_an_invoice_made_here_is_paid_once_its_push_succeeds_and_the_payment_waited(
    books, api_as, api_pusher, push_emulator, push_client
):
    api = api_as(api_pusher)
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-PAY-1", amount="120.00")
    invoice_push = push_request_create(record=invoice, user=api_pusher)
    on_its_way = OpenInvoice.objects.get(connection=books, name="INV-PAY-1")
    pk = compose(
        api,
        "invoicePayments",
        books,
        invoice.customer,
        [(on_its_way, "120.00")],
        total="120.00",
        currency=on_its_way.currency or "USD",
    )

    payment_push = push_through_api(api, "invoicePayments", pk)
    assert payment_push.next_attempt_at is None  # waits for the invoice
    settle(push_emulator, invoice_push, push_client)
    payment_push.refresh_from_db()
    assert payment_push.next_attempt_at is not None
    invoice.refresh_from_db()
    link = payment_push.body["data"]["lines"][0]["links"][0]
    assert link == {"type": "invoice", "id": invoice.provider_record_id}

    settle(push_emulator, payment_push, push_client)

    assert payment_push.state == PushRequest.State.SUCCESS, payment_push.validation_errors
    assert emulator_amount_due("invoices", invoice.provider_record_id) == 0
    on_its_way.refresh_from_db()
    assert on_its_way.amount_due == 0 and on_its_way.document_status == "paid"


def test_one_payment_is_split_over_two_bills(books, api_as, api_pusher, push_emulator, push_client):
    api = api_as(api_pusher)
    first, second = (
        OpenBill.objects.filter(connection=books, document_status="open")
        .filter(
            party_remote_id=OpenBill.objects.filter(
                connection=books, document_status="open"
            ).values("party_remote_id")[:1]
        )
        .order_by("posted_date")[:2]
    )
    vendor = Vendor.objects.get(connection=books, remote_id=first.party_remote_id)
    pk = compose(
        api,
        "billPayments",
        books,
        vendor,
        [(first, "30.00"), (second, "20.00")],
        total="50.00",
        currency=first.currency,
    )

    push = settle(push_emulator, push_through_api(api, "billPayments", pk), push_client)

    assert push.state == PushRequest.State.SUCCESS, push.validation_errors
    for bill, paid in ((first, 30), (second, 20)):
        before = bill.amount_due
        bill.refresh_from_db()
        assert bill.amount_due == before - paid
        assert emulator_amount_due("bills", bill.remote_id) == before - paid


def test_more_than_is_due_is_refused_before_sending_and_by_the_accounting_system(
    books, api_as, api_pusher, push_client
):
    api = api_as(api_pusher)
    document = OpenInvoice.objects.filter(connection=books, document_status="open").first()
    customer = Customer.objects.get(connection=books, remote_id=document.party_remote_id)
    too_much = document.amount_due + 1
    response = api.post(
        "/api/v1/invoicePayments/",
        {
            "connection": books.connection_uuid,
            "status": "ready",
            "customer": {"id": customer.pk},
            "account": {"id": demo_bank_account(books).pk},
            "date": "2026-11-20",
            "currency": document.currency,
            "total_amount": str(too_much),
            "lines": [{"document": {"id": document.pk}, "amount": str(too_much)}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        ("lines[0].amount", "amountDue")
    ]
    assert not PushRequest.objects.exists()
    # Sent anyway (straight to Railz), the accounting system refuses it in its own words.
    answer = push_client.create(
        "invoicePayments",
        connection_uuid=books.connection_uuid,
        data={
            "customerRef": {"id": customer.remote_id},
            "totalAmount": float(too_much),
            "lines": [
                {
                    "amount": float(too_much),
                    "links": [{"type": "invoice", "id": document.remote_id}],
                }
            ],
        },
    )
    errors = [
        e
        for item in push_client.push_status(connection_uuid=books.connection_uuid)["data"]
        if item["pushCommunicationId"] == answer["pushCommunicationId"]
        for e in item["validation"]["errors"]
    ]
    assert errors and "exceeds the balance due" in errors[0]["message"]


def test_a_credit_note_is_applied_with_a_payment_and_a_delete_gives_the_credit_back(
    books, api_as, api_pusher, push_emulator, push_client
):
    api = api_as(api_pusher)
    note = OpenInvoiceCreditNote.objects.filter(connection=books, document_status="open").first()
    invoice = OpenInvoice.objects.filter(
        connection=books, party_remote_id=note.party_remote_id, document_status="open"
    ).first()
    customer = Customer.objects.get(connection=books, remote_id=note.party_remote_id)
    credit, due = note.amount_due, invoice.amount_due
    pk = compose(
        api,
        "invoicePayments",
        books,
        customer,
        [(invoice, "100.00"), (note, "30.00")],
        total="70.00",
        currency=invoice.currency,
    )

    push = settle(push_emulator, push_through_api(api, "invoicePayments", pk), push_client)

    assert push.state == PushRequest.State.SUCCESS, (push.last_error, push.validation_errors)
    assert push.body["data"]["lines"][1]["links"] == [{"type": "creditNote", "id": note.remote_id}]
    note.refresh_from_db()
    invoice.refresh_from_db()
    assert note.amount_due == credit - 30 and note.amount_due_is_local
    assert invoice.amount_due == due - 100
    remaining = emulator_amount_due("invoiceCreditNotes", note.remote_id, "remainingCredit")
    assert remaining == credit - 30
    api_note = api.get(f"/api/v1/open-invoice-credit-notes/{note.pk}/").json()
    assert Decimal(api_note["remaining_credit"]) == credit - 30

    deleted = push_request_create(
        record=push.content_type.get_object_for_this_type(pk=push.object_id),
        user=api_pusher,
        operation="delete",
    )
    settle(push_emulator, deleted, push_client)

    assert deleted.state == PushRequest.State.SUCCESS, deleted.validation_errors
    note.refresh_from_db()
    assert note.amount_due == credit
    remaining = emulator_amount_due("invoiceCreditNotes", note.remote_id, "remainingCredit")
    assert remaining == credit
