"""A push goes queued -> submitting -> pending -> success against the emulator, the outcome
arriving by its signed webhook at /webhooks/railz, and the invoice learns its provider id."""

import json

import pytest

from pushes.models import PushEvent, PushRequest, WebhookEvent
from pushes.services.push_requests import push_request_create, push_request_submit
from pushes.tasks import webhook_event_apply_task
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _apply_stored_webhooks():
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


def test_a_pushed_invoice_is_created_once_and_learns_its_provider_id(
    push_emulator, push_client, push_staff, monkeypatch
):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-E2E-1")
    enqueued = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: enqueued.append(args))

    push = push_request_create(record=invoice, user=push_staff)
    assert push.state == "queued"
    assert enqueued == [("pushes.tasks.push_submit_task", push.pk)]

    push_request_submit(push_request_id=push.pk, client=push_client)
    push_emulator.wait_for_webhooks()
    _apply_stored_webhooks()

    push.refresh_from_db()
    invoice.refresh_from_db()
    assert push.state == "success"
    assert push.source_object_ids and invoice.provider_record_id == push.source_object_ids[0]
    assert invoice.last_pushed_hash == push.payload_hash == invoice.payload_hash
    assert not invoice.changed_since_push
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-E2E-1"]
    states = list(push.events.filter(kind=PushEvent.Kind.STATE).values_list("to_state", "source"))
    assert states == [
        ("queued", "staff"),
        ("submitting", "worker"),
        ("pending", "worker"),
        ("success", "webhook"),
    ]
    exchange = push.events.get(kind=PushEvent.Kind.EXCHANGE, method="POST")
    assert exchange.path == "/v2/accounting/invoices" and exchange.status_code == 200
    assert exchange.request_body["data"]["invoiceNumber"] == "INV-E2E-1"
    # The timeline keeps every exchange, the token fetch included, with no secret in it.
    token = push_client.tokens.get()
    for event in push.events.filter(kind=PushEvent.Kind.EXCHANGE):
        stored = json.dumps([event.query, event.request_body, event.response_body, event.message])
        assert token not in stored and "SB_emulator-secret" not in stored


def test_pushing_again_after_a_change_sends_an_update_with_the_provider_id(
    push_emulator, push_client, push_staff
):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-E2E-2")
    first = push_request_create(record=invoice, user=push_staff)
    push_request_submit(push_request_id=first.pk, client=push_client)
    push_emulator.wait_for_webhooks()
    _apply_stored_webhooks()
    invoice.refresh_from_db()
    provider_id = invoice.provider_record_id
    assert provider_id

    line = invoice.lines.get()
    line.description = "Consulting, revised"
    line.save()
    from pushes.payloads import invoice_build_payload, payload_hash

    invoice.payload_hash = payload_hash(invoice_build_payload(invoice))
    invoice.save(update_fields=["payload_hash"])

    second = push_request_create(record=invoice, user=push_staff)
    assert second.operation == "update" and second.provider_record_id == provider_id
    push_request_submit(push_request_id=second.pk, client=push_client)
    push_emulator.wait_for_webhooks()
    _apply_stored_webhooks()

    second.refresh_from_db()
    assert second.state == "success"
    put = second.events.get(kind=PushEvent.Kind.EXCHANGE, method="PUT")
    assert put.path == f"/v2/accounting/invoices/{provider_id}"
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-E2E-2"]
    assert PushRequest.objects.count() == 2
