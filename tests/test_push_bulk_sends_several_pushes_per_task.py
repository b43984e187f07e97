"""A bulk push is sent by a few tasks, each sending several pushes in turn (a task costs the
queue more than the send it carries), while every push keeps its own claim, answer and retry:
each queued push is in exactly one task, connections take turns, a push no longer queued is
skipped, one push's unexpected failure does not stop the others, and what a task has not
reached when its time slice runs out goes back to the queue."""

import pytest
from django.db import connection

from pushes.models import PushRequest
from pushes.queue import SUBMIT_MANY_TASK, SUBMIT_TASK
from pushes.services import batches
from pushes.services.push_requests import push_request_cancel, pushes_request_bulk
from railzpush.railz import RailzRateLimited
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _bulk(count_each: int):
    records = [
        ready_invoice(connection_uuid=uuid, number=f"INV-T-{uuid[-2:]}-{i}")
        for uuid in (DEMO_QUICKBOOKS, DEMO_NETSUITE)
        for i in range(count_each)
    ]
    result = pushes_request_bulk(records=records, user=None, source=PushRequest.Source.SYSTEM)
    assert not result.refused
    return result.created


def test_a_bulk_push_is_a_few_tasks_with_each_push_in_one_and_connections_taking_turns(
    enqueued, settings
):
    settings.Q_WORKERS = 2
    settings.PUSH_SUBMIT_PER_TASK = 4
    created = _bulk(6)

    assert {task for task, _ in enqueued} == {SUBMIT_MANY_TASK}
    shares = [ids for _, ids in enqueued]
    assert [len(ids) for ids in shares] == [4, 4, 4]
    assert sorted(pk for ids in shares for pk in ids) == sorted(p.pk for p in created)
    connection_of = {p.pk: p.connection_id for p in created}
    first = [connection_of[pk] for pk in shares[0]]
    assert first[0] != first[1] and first[1] != first[2]


def test_a_few_pushes_are_shared_between_the_workers_and_one_push_is_one_task(enqueued, settings):
    settings.Q_WORKERS = 2
    settings.PUSH_SUBMIT_PER_TASK = 25
    _bulk(2)
    assert [len(ids) for _, ids in enqueued] == [2, 2]

    enqueued.clear()
    created = pushes_request_bulk(
        records=[ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-T-ALONE")],
        user=None,
        source=PushRequest.Source.SYSTEM,
    ).created
    assert enqueued == [(SUBMIT_TASK, created[0].pk)]


def test_each_push_is_sent_on_its_own_and_one_not_queued_or_failing_stops_nothing(
    enqueued, monkeypatch
):
    created = _bulk(2)
    cancelled = created[1]
    push_request_cancel(push=cancelled, user=None)
    client = FakePushClient(RuntimeError("a bug while sending"), RailzRateLimited(retry_after=5))
    ids = [p.pk for p in created]

    result = batches.pushes_submit(push_request_ids=ids, slice_seconds=60, client=client)

    states = dict(PushRequest.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert states[cancelled.pk] == "cancelled"
    # The first push met the bug: claimed and left for its lease to run out (never resent
    # blindly); the second a 429: queued again without counting an attempt; the rest went.
    assert states[ids[0]] == "submitting"
    assert states[ids[2]] == "queued"
    assert PushRequest.objects.get(pk=ids[2]).attempts == 0
    assert states[ids[3]] == "pending"
    assert result.errors == 1 and result.skipped == 1 and result.requeued == 0
    assert dict(result.states) == {"queued": 1, "pending": 1}
    assert [call[0] for call in client.calls] == ["create", "create", "create"]


def test_what_a_task_has_not_reached_when_its_slice_runs_out_goes_back_to_the_queue(
    enqueued,
):
    created = _bulk(2)
    ids = [p.pk for p in created]
    ticks = iter([0.0, 1.0, 30.0])
    enqueued.clear()

    result = batches.pushes_submit(
        push_request_ids=ids, slice_seconds=20, client=FakePushClient(), clock=lambda: next(ticks)
    )

    assert result.requeued == 2 and sum(result.states.values()) == 2
    assert {task for task, _ in enqueued} == {SUBMIT_MANY_TASK}
    assert sorted(pk for _, share in enqueued for pk in share) == sorted(ids[2:])
    states = dict(PushRequest.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert [states[pk] for pk in ids] == ["pending", "pending", "queued", "queued"]


def test_a_task_reads_its_pushes_a_few_turns_ahead_and_never_sends_one_gone_meanwhile(
    enqueued,
):
    created = _bulk(2)
    ids = [p.pk for p in created]
    late = PushRequest.objects.get(pk=ids[2])

    class CancelsOneWhileSending(FakePushClient):
        def create(self, *args, **kwargs):
            if not self.calls:  # while the first is on its way, a person cancels the third
                push_request_cancel(push=late, user=None)
            return super().create(*args, **kwargs)

    client = CancelsOneWhileSending()
    reads = []

    def count_push_reads(execute, sql, params, many, context):
        if sql.startswith("SELECT") and 'FROM "pushes_pushrequest"' in sql:
            reads.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_push_reads):
        result = batches.pushes_submit(push_request_ids=ids, slice_seconds=60, client=client)

    # Four turns, one read of the pushes (with their connections) for all of them.
    assert len([sql for sql in reads if "WHERE" in sql and " IN (" in sql]) == 1
    assert not [sql for sql in reads if '"pushes_pushrequest"."id" = ' in sql]
    states = dict(PushRequest.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert [states[pk] for pk in ids] == ["pending", "pending", "cancelled", "pending"]
    assert len(client.calls) == 3
    assert result.skipped == 1 and dict(result.states) == {"pending": 3}
