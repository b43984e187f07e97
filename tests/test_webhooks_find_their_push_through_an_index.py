"""A webhook finds the push it names through the index of Railz push ids, never by reading the
push request table: with a million pushes, a scan per webhook would be most of its cost.

SQLite uses the partial unique index on `push_communication_id` only when the query repeats
the index's condition, so every statement a webhook's receipt (and the worker applying one
that came early) runs on the table is explained: SQLite's plan must search an index. On
PostgreSQL sequential scans are switched off and the plan must still find one.
"""

import pytest
from django.db import connection

from pushes.models import PushRequest
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
    webhook_event_receive,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, webhook_body
from tests.fixtures.query_plans import postgresql_plans, sqlite_plans, statements_run

pytestmark = pytest.mark.django_db

TABLE = "pushes_pushrequest"


def _reads_of_pushes(action) -> list[tuple[str, tuple]]:
    return [
        (sql, params) for sql, params in statements_run(action, TABLE) if sql.startswith("SELECT")
    ]


@pytest.fixture
def reads(push_staff, enqueued):
    """The reads of push requests by a webhook's receipt, for a known push and for one the
    worker has not written down yet."""
    invoices = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"IX-{n}") for n in (1, 2)]
    pushes = [push_request_create(record=invoice, user=push_staff) for invoice in invoices]
    push_request_submit(push_request_id=pushes[0].pk, client=FakePushClient())
    known = PushRequest.objects.get(pk=pushes[0].pk)
    early = PushRequest.objects.get(pk=pushes[1].pk)
    early.push_communication_id = "not-written-down-yet"
    statements = _reads_of_pushes(lambda: webhook_event_receive(raw_body=webhook_body(known)))
    statements += _reads_of_pushes(lambda: webhook_event_receive(raw_body=webhook_body(early)))
    assert PushRequest.objects.get(pk=known.pk).state == "success"
    return statements


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own query plans")
def test_on_sqlite_a_webhook_searches_the_index_of_railz_push_ids(reads):
    assert reads
    for sql, plan in sqlite_plans(reads):
        # "SCAN t" reads the table, "SCAN t USING INDEX i" a whole index.
        assert not [line for line in plan if line.startswith(f"SCAN {TABLE}")], (sql, plan)
        assert any("pushes_push_communication_id_unique" in line for line in plan), plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
def test_on_postgresql_a_webhook_can_use_the_index_of_railz_push_ids(reads):
    assert reads
    for sql, plan in postgresql_plans(reads):
        assert f"Seq Scan on {TABLE}" not in plan, (sql, plan)
        assert "pushes_push_communication_id_unique" in plan, plan
