"""On PostgreSQL a worker writes Railz's answer down (the push's new state and Railz's push id,
with the lines of its timeline) in one statement, without a transaction around it: BEGIN and
COMMIT are a round trip each there, on every push. The lines and the state are still written
together or not at all, and a push moved meanwhile (its lease ran out) is decided from the
state it is in now, as before."""

import pytest
from django.db import connection

from pushes.models import PushRequest
from pushes.services.push_requests import push_request_create, push_request_submit
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL's data-modifying WITH; SQLite writes the two in a transaction",
    ),
]

State = PushRequest.State


@pytest.fixture
def push(push_staff, enqueued):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="ONE-STATEMENT")
    return push_request_create(record=invoice, user=push_staff)


def _timeline(push):
    return list(push.events.order_by("pk").values_list("kind", "from_state", "to_state"))


def test_a_send_and_its_answer_commit_no_transaction_and_write_the_whole_timeline(push, commits):
    push_request_submit(push_request_id=push.pk, client=FakePushClient())  # no HTTP exchange

    assert commits == []
    sent = PushRequest.objects.get(pk=push.pk)
    assert sent.state == State.PENDING
    assert sent.push_communication_id == f"{1:024x}"
    assert _timeline(sent) == [
        ("state", "", "queued"),
        ("state", "queued", "submitting"),
        ("state", "submitting", "pending"),
    ]


def test_a_push_moved_while_its_answer_was_on_the_way_is_decided_from_its_state_now(push):
    class LeaseRunsOut(FakePushClient):
        def create(self, data_type, **kwargs):
            # The lease expiry moved it to unknown (and wrote the claim's line itself).
            PushRequest.objects.filter(pk=push.pk).update(state=State.UNKNOWN)
            return super().create(data_type, **kwargs)

    push_request_submit(push_request_id=push.pk, client=LeaseRunsOut())

    sent = PushRequest.objects.get(pk=push.pk)
    assert sent.state == State.PENDING
    assert sent.push_communication_id == f"{1:024x}"
    # Railz's answer is adopted from unknown; the claim's line is left to whoever moved it.
    assert _timeline(sent) == [
        ("state", "", "queued"),
        ("state", "unknown", "pending"),
    ]
