"""A webhook that changes nothing here yet (it came before the worker wrote its push's id down,
the usual order when Railz answers fast) writes its own row and nothing else, so it is kept
in that one statement, with no transaction around it; one whose push is known still changes
the push, its timeline, its record and the stored event in one transaction. A repeat of the
early one is still refused by its dedupe key and leaves the connection usable."""

import json

import pytest

from pushes.models import PushRequest, WebhookEvent
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
    webhook_event_receive,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, webhook_body

# Outside the test's own transaction, so what the receipt commits is its own.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_pushes(push_staff, enqueued):
    invoices = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"NT-{n}") for n in (1, 2)]
    pushes = [push_request_create(record=invoice, user=push_staff) for invoice in invoices]
    push_request_submit(push_request_id=pushes[0].pk, client=FakePushClient())
    known = PushRequest.objects.get(pk=pushes[0].pk)
    early = PushRequest.objects.get(pk=pushes[1].pk)
    early.push_communication_id = "f" * 24  # what Railz will answer; not written down here yet
    return known, early


def test_a_webhook_before_its_push_is_known_is_kept_in_one_statement_without_a_transaction(
    two_pushes, commits
):
    _, early = two_pushes
    event, created = webhook_event_receive(raw_body=webhook_body(early))
    assert created
    assert commits == []
    stored = WebhookEvent.objects.get(pk=event.pk)
    assert stored.processed_at is None
    assert stored.outcome == "0 push(es) changed; 1 not known yet"
    assert PushRequest.objects.get(pk=early.pk).state == PushRequest.State.QUEUED


def test_a_webhook_whose_push_is_known_changes_it_in_one_transaction(two_pushes, commits):
    known, _ = two_pushes
    event, created = webhook_event_receive(raw_body=webhook_body(known))
    assert created
    assert len(commits) == 1
    assert WebhookEvent.objects.get(pk=event.pk).outcome == "1 push(es) changed"
    push = PushRequest.objects.get(pk=known.pk)
    assert push.state == PushRequest.State.SUCCESS
    assert push.events.filter(to_state="success", source="webhook").count() == 1


def test_a_repeat_of_an_early_webhook_is_refused_by_its_key_and_the_connection_goes_on(
    two_pushes, commits
):
    known, early = two_pushes
    first, created = webhook_event_receive(raw_body=webhook_body(early))
    again, created_again = webhook_event_receive(raw_body=webhook_body(early))
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert WebhookEvent.objects.count() == 1
    # The refused INSERT left no broken transaction behind: the next webhook is applied.
    webhook_event_receive(raw_body=webhook_body(known))
    assert PushRequest.objects.get(pk=known.pk).state == PushRequest.State.SUCCESS


def test_an_event_about_no_push_is_kept_without_a_transaction(db, commits):
    body = json.dumps(
        {"data": {"event": "connectionStatus", "connectionId": DEMO_QUICKBOOKS}, "requestId": "r"}
    ).encode()
    event, created = webhook_event_receive(raw_body=body)
    assert created and commits == []
    stored = WebhookEvent.objects.get(pk=event.pk)
    assert stored.processed_at is not None
    assert stored.outcome.startswith("ignored")
