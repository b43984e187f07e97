"""The running totals the dashboard reads (pushes per creation hour, connection and column)
stay exactly the pushes' states as pushes are queued in bulk or one by one, sent, settled by
webhook or poll, cancelled and retried: a page never needs to count the history of pushes."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Sum

from pushes.models import PushHourCount, PushRequest
from pushes.push_counts import COLUMN_OF_STATE, counts_rebuild, hour_of
from pushes.services.push_requests import (
    push_apply_status,
    push_request_cancel,
    push_request_create,
    push_request_retry,
    push_request_submit,
    pushes_request_bulk,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, status_item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kwargs: None)


def _truth() -> Counter:
    counted: Counter = Counter()
    for push in PushRequest.objects.all():
        counted[(hour_of(push.created_at), push.connection_id, COLUMN_OF_STATE[push.state])] += 1
    return counted


def _totals() -> Counter:
    rows = PushHourCount.objects.values("hour", "connection_id", "column").annotate(n=Sum("count"))
    return Counter({(r["hour"], r["connection_id"], r["column"]): r["n"] for r in rows if r["n"]})


def test_the_totals_follow_each_push_from_queued_to_its_outcome(push_staff):
    invoices = [
        ready_invoice(connection_uuid=uuid, number=f"CNT-{n}")
        for n, uuid in enumerate([DEMO_QUICKBOOKS] * 3 + [DEMO_XERO] * 2)
    ]
    result = pushes_request_bulk(records=invoices[:4], user=push_staff)
    single = push_request_create(record=invoices[4], user=push_staff)
    assert _totals() == _truth()
    assert sum(_totals().values()) == 5

    fake = FakePushClient()
    first, second, third, fourth = result.created
    for push in (first, second, third):
        push_request_submit(push_request_id=push.pk, client=fake)
    assert _totals() == _truth()

    first = PushRequest.objects.get(pk=first.pk)
    second = PushRequest.objects.get(pk=second.pk)
    push_apply_status(push=first, item=status_item(first, "success"), source="webhook")
    push_apply_status(push=second, item=status_item(second, "failed"), source="poll")
    # A repeat of an outcome moves nothing twice.
    push_apply_status(push=first, item=status_item(first, "success"), source="poll")
    push_request_cancel(push=PushRequest.objects.get(pk=fourth.pk), user=push_staff)
    push_request_cancel(push=PushRequest.objects.get(pk=single.pk), user=push_staff)
    assert _totals() == _truth()

    push_request_retry(push=PushRequest.objects.get(pk=second.pk), user=push_staff)
    totals = _totals()
    assert totals == _truth()
    columns = Counter()
    for (_, _, column), n in totals.items():
        columns[column] += n
    assert columns == {"success": 1, "failed": 1, "cancelled": 2, "in_flight": 2}


def test_the_totals_follow_writes_made_outside_the_pipeline(push_staff):
    """The database keeps the totals, so a bulk update, a data fix or a deletion made with
    no thought for them still leaves them exactly the pushes' states."""
    invoices = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"OUT-{n}") for n in range(4)]
    pushes = pushes_request_bulk(records=invoices, user=push_staff).created
    other = ready_invoice(connection_uuid=DEMO_XERO, number="OUT-X").connection
    ids = [p.pk for p in pushes]

    PushRequest.objects.filter(pk__in=ids[:2]).update(state=PushRequest.State.SUCCESS)
    assert _totals() == _truth()
    # The same column (queued -> submitting) moves nothing; a repeated write changes nothing.
    PushRequest.objects.filter(pk=ids[2]).update(state=PushRequest.State.SUBMITTING)
    PushRequest.objects.filter(pk__in=ids[:2]).update(state=PushRequest.State.SUCCESS)
    assert _totals() == _truth()
    # Moved to another hour (a week back) and to another connection.
    moved = PushRequest.objects.get(pk=ids[0])
    PushRequest.objects.filter(pk=ids[0]).update(
        created_at=moved.created_at - timedelta(days=7, minutes=30)
    )
    PushRequest.objects.filter(pk=ids[1]).update(connection=other)
    assert _totals() == _truth()
    assert len({hour for hour, _, _ in _totals()}) == 2
    PushRequest.objects.filter(pk=ids[3]).delete()
    assert _totals() == _truth()
    assert sum(_totals().values()) == 3
    # Recounting from the pushes finds what the triggers kept.
    kept = _totals()
    counts_rebuild()
    assert _totals() == kept


def test_a_push_deleted_after_its_count_row_writes_no_row_again(push_staff):
    """Emptying the tables (a test database's flush, a purge of a connection's history) may
    delete the counts before the pushes: a push deleted after its count row never writes that
    row again, so nothing is left naming a connection about to go."""
    kept = ready_invoice(connection_uuid=DEMO_XERO, number="KEEP-1")
    gone = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"GONE-{n}") for n in range(2)]
    pushes_request_bulk(records=[kept, *gone], user=push_staff)
    connection = gone[0].connection

    PushHourCount.objects.filter(connection=connection).delete()
    PushRequest.objects.filter(connection=connection).delete()
    assert not PushHourCount.objects.filter(connection=connection).exists()
    assert _totals() == _truth()
    assert sum(_totals().values()) == 1
