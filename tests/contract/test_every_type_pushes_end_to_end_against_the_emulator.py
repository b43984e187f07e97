"""Every declared type pushes end to end against the emulator: queued, sent, its outcome
arriving by the signed webhook, and the record learning its id in the accounting system. A
type mirrored as an open document (invoices, bills, credit notes) is in its mirror from the
moment its push is queued, and under its id there once the push succeeds."""

from __future__ import annotations

import pytest
from django.apps import apps

from pushes.models import PushRequest, WebhookEvent
from pushes.services.push_requests import push_request_create, push_request_submit
from pushes.services.records import record_create
from pushes.spec import Kind
from pushes.tasks import webhook_event_apply_task
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import demo_refs, refs_connection_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("connection_uuid", [DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE])
def test_a_ready_record_is_created_in_the_accounting_system(
    record_type, connection_uuid, push_emulator, push_client, push_staff, monkeypatch
):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kwargs: None)
    connection = refs_connection_for(connection_uuid)
    spec = record_type.spec
    refs = demo_refs(connection, party=spec.party or "customer")
    values = {"subsidiaries": refs.subsidiaries}
    if spec.has_lines:
        values["lines"] = record_type.lines(
            connection, party=refs.party, account=refs.account, document=refs.document
        )
    if spec.party:
        values[spec.party] = refs.party
    if any(f.kind is Kind.LINK for f in spec.line_fields):
        # A payment applies to a document the accounting system holds, in its currency.
        values.update(currency=refs.document.currency, account=refs.bank_account)
    data = record_type.data(
        connection=connection, number=f"E2E-{record_type.data_type[:10]}", **values
    )
    record = record_create(data_type=record_type.data_type, data=data)

    push = push_request_create(record=record, user=push_staff)
    mirror = apps.get_model(spec.mirror) if spec.mirror else None
    if mirror is not None:
        queued = mirror.objects.get(connection=connection, remote_id__startswith="railzpush:")
        assert queued.document_status == "pushing"
    push_request_submit(push_request_id=push.pk, client=push_client)
    push_emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)

    push.refresh_from_db()
    record.refresh_from_db()
    assert push.state == PushRequest.State.SUCCESS, (push.last_error, push.validation_errors)
    assert record.provider_record_id == push.source_object_ids[0]
    assert not record.changed_since_push
    if mirror is not None:
        row = mirror.objects.get(connection=connection, remote_id=record.provider_record_id)
        number = getattr(record, spec.number) if spec.number else ""
        assert (row.name, row.document_status, row.amount_due) == (
            number,
            "open",
            row.total_amount,
        )
        assert row.amount_due > 0
    exchange = push.events.get(kind="exchange", method="POST")
    assert exchange.path == record_type.spec.railz.operations["create"].path
