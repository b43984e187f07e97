"""The running totals the dashboard reads (pushes per creation hour, connection and column)
stay exactly the pushes' states as pushes are queued in bulk or one by one, sent, settled by
webhook or poll, cancelled and retried: a page never needs to count the history of pushes."""

from collections import Counter

import pytest
from django.db.models import Sum

from pushes.models import PushHourCount, PushRequest
from pushes.push_counts import COLUMN_OF_STATE, hour_of
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
