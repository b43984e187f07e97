"""On PostgreSQL: reconciliation runs racing each other (the periodic task, a staff click, the
task enqueued when the push became unknown) adopt a proven candidate once and settle a push
never received once, with exactly one new attempt (SQLite serialises writers, so it cannot
show this)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from pushes.models import PushEvent, PushRequest
from pushes.services.push_requests import push_request_create
from pushes.services.reconcile import pushes_reconcile_unknown
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice
from tests.test_push_concurrency_on_postgres import THREADS, _run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="needs PostgreSQL: SQLite takes one writer at a time, so nothing runs concurrently",
    ),
    pytest.mark.django_db(transaction=True),
]


def _unknown(number, user, *, sent_at, **fields):
    push = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number), user=user
    )
    PushRequest.objects.filter(pk=push.pk).update(
        state="unknown", sent_at=sent_at, attempts=1, **fields
    )
    return PushRequest.objects.get(pk=push.pk)


def test_racing_reconciliations_adopt_once_and_requeue_once(push_staff, monkeypatch):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)
    now = timezone.now()
    sent = now - timedelta(hours=1)
    lost = _unknown("INV-PG-LOST", push_staff, sent_at=sent)
    first_check = now - timedelta(seconds=settings.PUSH_SETTLE_NOT_RECEIVED_SECONDS + 10)
    never = _unknown(
        "INV-PG-NEVER",
        push_staff,
        sent_at=sent + timedelta(seconds=2),
        reconcile_reason="second_check",
        reconcile_evidence={"notListed": [first_check.isoformat()]},
    )
    client = FakePushClient()
    requested = (sent + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    client.statuses[DEMO_QUICKBOOKS] = [
        {
            "dataType": "invoices",
            "requestedOn": requested,
            "completedOn": requested,
            "status": "success",
            "responseCode": 201,
            "validation": {"errors": []},
            "pushCommunicationId": "c" * 24,
            "sourceObjectIds": ["7001"],
        }
    ]
    client.records["7001"] = {**lost.body["data"], "id": "7001"}

    results = _run_together(lambda i: pushes_reconcile_unknown(client=client))

    assert not [r for r in results if isinstance(r, Exception)], results
    lost = PushRequest.objects.get(pk=lost.pk)
    assert lost.state == "success" and lost.source_object_ids == ["7001"]
    assert lost.events.filter(kind="state", to_state="success").count() == 1
    assert lost.events.filter(kind="note", message__startswith="Reconciled").count() == 1
    never = PushRequest.objects.get(pk=never.pk)
    assert never.state == "failed"
    assert never.events.filter(kind="state", to_state="failed").count() == 1
    retries = PushRequest.objects.filter(retry_of=never)
    assert retries.count() == 1 and retries.get().state == "queued"
    notes = PushEvent.objects.filter(push_request=never, message__startswith="Queued again")
    assert notes.count() == 1
    assert PushRequest.objects.count() == 3
    assert len(results) == THREADS
