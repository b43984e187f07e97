"""Polling asks GET /v2/data/pushStatus once per connection with pending pushes (not once per
push), less often as pushes age (5 s, 15 s, 1 min, 5 min), and flags pushes pending too long."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pushes.models import PushRequest
from pushes.push_selectors import pushes_stuck
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
    pushes_poll_connection,
    pushes_poll_due,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import (
    FakePushClient,
    emulator_invoice_numbers,
    ready_invoice,
    status_item,
)


class _CountingClient:
    def __init__(self, client):
        self.client = client
        self.status_calls = []

    def __getattr__(self, name):
        return getattr(self.client, name)

    def push_status(self, **kwargs):
        self.status_calls.append(kwargs["connection_uuid"])
        return self.client.push_status(**kwargs)


@pytest.mark.django_db(transaction=True)
def test_one_status_call_per_connection_settles_all_its_pushes(
    emulator, push_client, push_staff, monkeypatch
):
    # Webhooks go nowhere here (the emulator fixture's default): polling alone must settle them.
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)
    pushes = []
    for number in ("INV-P-1", "INV-P-2", "INV-P-3"):
        pushes.append(
            push_request_create(
                record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number),
                user=push_staff,
            )
        )
    pushes.append(
        push_request_create(
            record=ready_invoice(connection_uuid=DEMO_XERO, number="INV-P-X"), user=push_staff
        )
    )
    for push in pushes:
        push_request_submit(push_request_id=push.pk, client=push_client)
    assert set(PushRequest.objects.values_list("state", flat=True)) == {"pending"}

    counting = _CountingClient(push_client)
    with time_machine.travel(timezone.now() + timedelta(seconds=6), tick=True):
        result = pushes_poll_due(client=counting)

    assert sorted(counting.status_calls) == sorted([DEMO_QUICKBOOKS, DEMO_XERO])
    assert result.changed == 4
    assert set(PushRequest.objects.values_list("state", flat=True)) == {"success"}
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-P-1", "INV-P-2", "INV-P-3"]
    assert all(
        p.events.filter(kind="exchange", path="/v2/data/pushStatus").exists()
        for p in PushRequest.objects.all()
    )


@pytest.mark.django_db
def test_polls_back_off_as_a_push_ages(push_staff):
    fake = FakePushClient()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        push = push_request_create(
            record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-AGE"),
            user=push_staff,
        )
        push_request_submit(push_request_id=push.pk, client=fake)

    def poll_at(seconds):
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            before = len(fake.calls)
            pushes_poll_due(client=fake)
            polled = len(fake.calls) - before
        gap = PushRequest.objects.get(pk=push.pk).next_poll_at - (
            start + timedelta(seconds=seconds)
        )
        return polled, gap.total_seconds()

    assert poll_at(1) == (0, 4)  # not due yet: first look 5 s after sending
    assert poll_at(5) == (1, 5)
    assert poll_at(60) == (1, 15)
    assert poll_at(300) == (1, 60)
    assert poll_at(1000) == (1, 300)
    assert poll_at(1100) == (0, 200)


@pytest.mark.django_db
def test_a_push_pending_too_long_is_flagged_stuck(push_staff, settings):
    settings.PUSH_STUCK_AFTER_MINUTES = 30
    fake = FakePushClient()
    push = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-STUCK"),
        user=push_staff,
    )
    push_request_submit(push_request_id=push.pk, client=fake)
    assert not pushes_stuck().exists()
    assert list(pushes_stuck(now=timezone.now() + timedelta(minutes=31))) == [
        PushRequest.objects.get(pk=push.pk)
    ]
    fake.statuses[DEMO_QUICKBOOKS] = [status_item(PushRequest.objects.get(pk=push.pk), "success")]
    pushes_poll_connection(connection=push.connection, client=fake)
    assert not pushes_stuck(now=timezone.now() + timedelta(minutes=31)).exists()


@pytest.mark.django_db
def test_the_dispatcher_waits_while_a_bulk_push_is_still_draining(
    push_staff, monkeypatch, settings
):
    from pushes import tasks

    settings.PUSH_DISPATCH_MAX_BACKLOG = 10
    push = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-DISPATCH"),
        user=push_staff,
    )
    PushRequest.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
    enqueued = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: enqueued.append(args[1]))

    class Broker:
        size = 50

        def queue_size(self):
            return self.size

    broker = Broker()
    monkeypatch.setattr(tasks, "get_broker", lambda: broker)
    assert "skipped" in tasks.pushes_dispatch_task()
    assert enqueued == []

    broker.size = 0
    assert tasks.pushes_dispatch_task() == "1 push(es) enqueued"
    assert enqueued == [push.pk]


@pytest.mark.django_db
def test_after_a_rate_limit_storm_the_dispatcher_resends_when_retry_after_ends(
    push_staff, monkeypatch
):
    from pushes import tasks

    push = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-STORM"),
        user=push_staff,
    )
    enqueued = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: enqueued.append(args[1]))
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        # Railz answered 429 with Retry-After: 7; nothing else is queued.
        PushRequest.objects.filter(pk=push.pk).update(
            next_attempt_at=timezone.now() + timedelta(seconds=7)
        )
        slept = []

        def sleep(seconds):
            slept.append(seconds)
            traveller.shift(timedelta(seconds=seconds))

        monkeypatch.setattr(tasks.time, "sleep", sleep)
        assert tasks.pushes_dispatch_task() == "1 push(es) enqueued"
    # One wait, to the second Railz named, instead of the next minute's run.
    assert slept == [7]
    assert enqueued == [push.pk]


@pytest.mark.django_db
def test_the_dispatcher_does_not_wait_for_a_push_due_after_its_loop(
    push_staff, monkeypatch, settings
):
    from pushes import tasks

    push = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-LATER"),
        user=push_staff,
    )
    PushRequest.objects.filter(pk=push.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=settings.PUSH_POLL_LOOP_SECONDS + 30)
    )
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: pytest.fail("slept"))
    assert tasks.pushes_dispatch_task() == "0 push(es) enqueued"
