"""A push's send and the receipt of its outcome cost a fixed, small number of statements,
whatever else the database holds: the claim, the answer and its timeline, the look for an
early webhook; then the push, its timeline, its record, its mirrored document and the stored
event. bench_push prints the same per push end to end; this pins each step so a change that
adds a statement to every push is seen here first."""

import json

import pytest

from pushes.models import PushRequest
from pushes.services import batches
from pushes.services.push_requests import pushes_request_bulk, webhook_event_receive
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, status_item

pytestmark = pytest.mark.django_db


def _statements(action) -> list[str]:
    from django.db import connection

    ran: list[str] = []

    def record(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    # Transactions apart: SQLite's BEGIN is a statement of its own, PostgreSQL's is not, and
    # inside the test's own transaction each one is a savepoint.
    return [sql for sql in ran if not sql.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]


def test_a_send_and_the_receipt_of_its_success_each_cost_a_few_statements(push_staff, enqueued):
    invoices = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"ST-{n}") for n in (1, 2)]
    pushes = pushes_request_bulk(records=invoices, user=push_staff).created
    ids = [p.pk for p in pushes]

    sent = _statements(
        lambda: batches.pushes_submit(
            push_request_ids=ids, slice_seconds=60, client=FakePushClient()
        )
    )
    # One read of both pushes, then for each: claim, answer, timeline, early-webhook look.
    assert len(sent) == 1 + 2 * 4, sent

    push = PushRequest.objects.get(pk=ids[0])
    body = json.dumps(
        {"data": {"event": "push", "connectionId": DEMO_QUICKBOOKS, **status_item(push, "success")}}
    ).encode()
    received = _statements(lambda: webhook_event_receive(raw_body=body))
    # The push (with its connection's uuid, not the connection's whole row), its state, its
    # timeline, its record's provider id, its mirrored document, the stored event.
    assert len(received) == 6, received
    assert not [sql for sql in received if '"refs_connection"."service_name"' in sql]
    push.refresh_from_db()
    assert push.state == PushRequest.State.SUCCESS
