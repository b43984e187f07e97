"""A push put off by a 429's Retry-After (or a backoff) is sent again as soon as it falls due:
the worker that puts it off wakes the dispatcher, which sleeps until then, instead of leaving
it to the scheduler's next tick (up to a minute, and the scheduler's lateness, later). One
dispatcher at a time; none for a wait the minute schedule reaches anyway."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from pushes import tasks
from pushes.models import PushRequest
from pushes.queue import DISPATCH_TASK, DISPATCHER_WOKEN_KEY, SUBMIT_TASK
from pushes.services.push_requests import push_request_create, push_request_submit
from railzpush.railz import RailzRateLimited
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_dispatcher_woken():
    cache.delete(DISPATCHER_WOKEN_KEY)
    yield
    cache.delete(DISPATCHER_WOKEN_KEY)


class _Broker:
    """A broker holding `size` tasks: the suite's real one (Redis on the scale setup) may still
    hold tasks other tests queued."""

    def __init__(self, size):
        self.size = size

    def queue_size(self):
        return self.size


def _put_off(push_staff, number, retry_after):
    push = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number), user=push_staff
    )
    push_request_submit(
        push_request_id=push.pk, client=FakePushClient(RailzRateLimited(retry_after=retry_after))
    )
    push.refresh_from_db()
    assert push.state == PushRequest.State.QUEUED
    return push


def test_the_first_push_put_off_wakes_one_dispatcher_and_the_next_ones_share_it(
    push_staff, enqueued
):
    _put_off(push_staff, "WAKE-1", retry_after=5)
    _put_off(push_staff, "WAKE-2", retry_after=5)

    woken = [args for args in enqueued if args[0] == DISPATCH_TASK]
    assert woken == [(DISPATCH_TASK, True)]
    assert [args[0] for args in enqueued if args[0] != DISPATCH_TASK] == [SUBMIT_TASK] * 2


def test_a_wait_the_minute_schedule_reaches_wakes_nobody(push_staff, enqueued, settings):
    settings.PUSH_POLL_LOOP_SECONDS = 30
    _put_off(push_staff, "WAKE-LONG", retry_after=45)
    assert not [args for args in enqueued if args[0] == DISPATCH_TASK]


def test_the_woken_dispatcher_sends_them_when_due_whatever_the_backlog(
    push_staff, enqueued, monkeypatch, settings
):
    push = _put_off(push_staff, "WAKE-DUE", retry_after=5)
    # Due now (the sleep is the schedule's own), with a backlog the schedule would stop at.
    PushRequest.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
    settings.PUSH_DISPATCH_MAX_BACKLOG = 0
    monkeypatch.setattr(tasks, "get_broker", lambda: _Broker(9))
    enqueued.clear()

    assert tasks.pushes_dispatch_task() == "9 task(s) still queued; dispatch skipped"
    assert tasks.pushes_dispatch_task(woken=True) == "1 push(es) enqueued"
    assert enqueued == [(SUBMIT_TASK, push.pk)]
    # Done: the next push put off may wake another.
    assert cache.get(DISPATCHER_WOKEN_KEY) is None


def test_the_woken_dispatcher_also_sends_what_falls_due_a_moment_later(
    push_staff, enqueued, monkeypatch
):
    """Pushes put off together come back spread over a second; the woken dispatcher sends
    them all, where the scheduled one would leave the later ones to its next run."""
    first = _put_off(push_staff, "WAKE-A", retry_after=5)
    second = _put_off(push_staff, "WAKE-B", retry_after=5)
    enqueued.clear()
    slept = []
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        PushRequest.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
        PushRequest.objects.filter(pk=second.pk).update(
            next_attempt_at=timezone.now() + timedelta(seconds=0.8)
        )

        def sleep(seconds):
            slept.append(seconds)
            traveller.shift(timedelta(seconds=seconds))

        monkeypatch.setattr(tasks.time, "sleep", sleep)
        assert tasks.pushes_dispatch_task(woken=True) == "2 push(es) enqueued"
    assert slept == [pytest.approx(0.8)]
    assert [args[1] for args in enqueued] == [first.pk, second.pk]


def test_while_a_woken_dispatcher_waits_the_scheduled_one_does_not(
    push_staff, enqueued, monkeypatch
):
    push = _put_off(push_staff, "WAKE-WAIT", retry_after=5)
    assert cache.get(DISPATCHER_WOKEN_KEY) is not None  # the woken one is waiting for it
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: pytest.fail("slept"))
    monkeypatch.setattr(tasks, "get_broker", lambda: _Broker(0))
    assert tasks.pushes_dispatch_task() == "0 push(es) enqueued"
    assert PushRequest.objects.get(pk=push.pk).state == PushRequest.State.QUEUED
