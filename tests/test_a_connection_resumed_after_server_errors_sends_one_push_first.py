"""When a connection's pause for a run of server errors ends by itself, its oldest waiting push
goes first and alone; the others are held until the accounting system answers it, then sent
together. A server error on that first push pauses the connection again with one call spent and
nothing else sent; an answer that never comes lets the held pushes go when their hold ends. A
person's Resume sends every waiting push at once, as before."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pushes.models import ConnectionPause, PushRequest
from pushes.queue import PROBE_TASK, SUBMIT_MANY_TASK, SUBMIT_TASK
from pushes.services.connection_pauses import (
    PROBE_HOLD_SECONDS,
    connection_pause_for_error,
    connection_pauses_resume_due,
    connection_resume,
)
from pushes.services.push_requests import push_request_create, pushes_dispatch_due
from pushes.tasks import push_probe_task, pushes_submit_task
from railzpush.railz.errors import RailzServerError
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("server_error_pauses"),
]


def _paused_with_waiting(user, prefix: str, count: int = 4):
    """`count` queued pushes on one connection, paused by a run of server errors."""
    pushes = [
        push_request_create(
            record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"{prefix}-{i}"),
            user=user,
        )
        for i in range(count)
    ]
    pause = None
    while pause is None:
        pause = connection_pause_for_error(push=pushes[0], exc=RailzServerError(status_code=503))
    assert pause.cause == "provider_errors" and pause.resume_at is not None
    return pushes, pause


def _probe_of(enqueued) -> tuple[int, object]:
    [probe] = [call for call in enqueued if call[0] == PROBE_TASK]
    return probe[1], probe[2]


def _sent(enqueued) -> list[int]:
    """The pushes the enqueued submit tasks send."""
    ids: list[int] = []
    for call in enqueued:
        if call[0] == SUBMIT_TASK:
            ids.append(call[1])
        elif call[0] == SUBMIT_MANY_TASK:
            ids.extend(call[1])
    return sorted(ids)


def _next_attempts(pushes) -> set:
    return set(
        PushRequest.objects.filter(pk__in=[p.pk for p in pushes]).values_list(
            "next_attempt_at", flat=True
        )
    )


def test_the_oldest_push_goes_first_and_the_others_follow_its_answer(
    push_emulator, push_staff, enqueued
):
    pushes, pause = _paused_with_waiting(push_staff, "INV-PROBE-A")
    enqueued.clear()

    assert connection_pauses_resume_due(now=pause.resume_at) == 1

    first, held_until = _probe_of(enqueued)
    assert first == pushes[0].pk
    assert _sent(enqueued) == []
    assert _next_attempts(pushes[1:]) == {held_until}
    assert held_until - timezone.now() <= timedelta(seconds=PROBE_HOLD_SECONDS)
    # The dispatcher leaves the held ones alone while the first is on its way.
    assert pushes_dispatch_due(now=timezone.now() + timedelta(seconds=30)) == []
    assert pushes[0].events.filter(message__contains="sent first, alone").exists()
    assert not pushes[1].events.filter(message__contains="resumed").exists()

    enqueued.clear()
    result = push_probe_task(first, held_until)

    assert "3 push(es) released" in result
    assert PushRequest.objects.get(pk=first).state in ("pending", "success")
    released = _sent(enqueued)
    assert released == sorted(p.pk for p in pushes[1:])
    assert pushes[1].events.filter(message__contains=f"answered push #{first}").exists()
    for call in enqueued:
        if call[0] == SUBMIT_MANY_TASK:
            pushes_submit_task(call[1])
    assert sorted(emulator_invoice_numbers(DEMO_QUICKBOOKS)) == sorted(
        f"INV-PROBE-A-{i}" for i in range(4)
    )


def test_a_server_error_on_the_first_push_pauses_again_and_sends_nothing_else(
    push_emulator, push_staff, enqueued
):
    pushes, pause = _paused_with_waiting(push_staff, "INV-PROBE-B")
    enqueued.clear()
    connection_pauses_resume_due(now=pause.resume_at)
    first, held_until = _probe_of(enqueued)
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, error_rate=1.0, error_status=503)
    enqueued.clear()

    result = push_probe_task(first, held_until)

    assert "0 push(es) released" in result
    again = ConnectionPause.objects.open().get()
    assert again.pk != pause.pk
    probe = PushRequest.objects.get(pk=first)
    assert probe.state == "queued" and probe.attempts == 0
    assert _sent(enqueued) == []
    assert _next_attempts(pushes[1:]) == {held_until}
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []

    # The outage over, the next pause's end tries the same oldest push first again.
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    enqueued.clear()
    assert connection_pauses_resume_due(now=again.resume_at) == 1
    first_again, held_again = _probe_of(enqueued)
    assert first_again == first
    assert _next_attempts(pushes[1:]) == {held_again}
    assert "3 push(es) released" in push_probe_task(first_again, held_again)


def test_held_pushes_go_when_their_hold_ends_if_the_answer_is_lost(
    push_emulator, push_staff, enqueued
):
    pushes, pause = _paused_with_waiting(push_staff, "INV-PROBE-C", count=3)
    enqueued.clear()
    connection_pauses_resume_due(now=pause.resume_at)
    first, held_until = _probe_of(enqueued)
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")

    result = push_probe_task(first, held_until)

    assert "0 push(es) released" in result
    assert PushRequest.objects.get(pk=first).state == "unknown"
    assert pushes_dispatch_due(now=held_until - timedelta(seconds=1)) == []
    assert sorted(pushes_dispatch_due(now=held_until)) == sorted(p.pk for p in pushes[1:])


def test_a_person_s_resume_sends_every_waiting_push_at_once(push_staff, enqueued):
    pushes, pause = _paused_with_waiting(push_staff, "INV-PROBE-D")
    enqueued.clear()

    assert connection_resume(connection_id=pause.connection_id, user=push_staff) == 4

    assert not [call for call in enqueued if call[0] == PROBE_TASK]
    assert _sent(enqueued) == sorted(p.pk for p in pushes)
