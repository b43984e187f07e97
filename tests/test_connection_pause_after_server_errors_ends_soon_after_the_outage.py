"""A run of server errors pauses a connection for the 503's Retry-After when it names one, else
briefly at first and a quarter longer for each pause that follows while the outage goes on, up
to PUSH_PAUSE_RETRY_SECONDS (so the connection is idle for about a quarter of the outage after
it ends, not as long again); once a pause ends by itself the first server error pauses the
connection again, so each probe of an outage costs a call or two; the dispatcher waits for a
pause that ends within its loop and sends the connection's pushes then, so they go out within
seconds of a short outage's end."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pushes.models import ConnectionPause
from pushes.services import connection_pauses
from pushes.services.connection_pauses import connection_pause_for_error, connection_resume
from pushes.services.push_requests import push_request_create
from railzpush.railz.errors import RailzServerError
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("server_error_pauses"),
]


def _run_of_errors(push, *, retry_after=None) -> ConnectionPause | None:
    """Up to three server errors (the run that pauses); the pause they opened."""
    for _ in range(3):
        pause = connection_pause_for_error(
            push=push, exc=RailzServerError(status_code=503, retry_after=retry_after)
        )
        if pause is not None:
            return pause
    return None


def _seconds(pause: ConnectionPause) -> float:
    return (pause.resume_at - pause.paused_at).total_seconds()


def test_the_pause_grows_by_a_quarter_while_the_outage_goes_on_and_starts_short_again_after(
    push_staff, enqueued
):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-OUTAGE-1")
    push = push_request_create(record=invoice, user=push_staff)
    connection = push.connection_id

    first = _run_of_errors(push)
    assert first.cause == "provider_errors"
    assert _seconds(first) == 15

    durations = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            clock.shift(timedelta(seconds=_seconds(ConnectionPause.objects.open().get())))
            connection_pauses.connection_pauses_resume_due()
            durations.append(_seconds(_run_of_errors(push)))
        assert durations == [18.75, 23.438, 29.297]
        for _ in range(3):
            clock.shift(timedelta(seconds=_seconds(ConnectionPause.objects.open().get())))
            connection_pauses.connection_pauses_resume_due()
            durations.append(_seconds(_run_of_errors(push)))
        assert durations[3:] == [36.621, 45.776, 50]  # capped at PUSH_PAUSE_RETRY_SECONDS

        # Long after the last pause ended, a new outage starts short again.
        connection_resume(connection_id=connection)
        clock.shift(timedelta(seconds=301))
        assert _seconds(_run_of_errors(push)) == 15


def test_a_503_s_retry_after_sets_the_pause(push_staff, enqueued):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-OUTAGE-2")
    push = push_request_create(record=invoice, user=push_staff)
    assert _seconds(_run_of_errors(push, retry_after=7)) == 7
    connection_resume(connection_id=push.connection_id)
    # Never longer than the longest pause, whatever Railz says.
    assert _seconds(_run_of_errors(push, retry_after=3600)) == 50


def test_the_dispatcher_waits_for_a_pause_ending_within_its_loop_and_sends_its_pushes(
    push_staff, enqueued, settings
):
    from pushes.tasks import pushes_dispatch_task

    settings.PUSH_PAUSE_FIRST_RETRY_SECONDS = 1
    settings.PUSH_POLL_LOOP_SECONDS = 30
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-OUTAGE-3")
    push = push_request_create(record=invoice, user=push_staff)
    pause = _run_of_errors(push)
    assert _seconds(pause) == 1
    enqueued.clear()

    result = pushes_dispatch_task()

    assert "1 paused connection(s) resumed" in result
    pause.refresh_from_db()
    assert pause.resumed_at is not None
    assert [call[1] for call in enqueued] == [push.pk]


def test_after_a_pause_ends_by_itself_the_first_server_error_pauses_again(push_staff, enqueued):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-OUTAGE-4")
    push = push_request_create(record=invoice, user=push_staff)
    error = RailzServerError(status_code=503)
    first = _run_of_errors(push)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        clock.shift(timedelta(seconds=_seconds(first)))
        assert connection_pauses.connection_pauses_resume_due() == 1

        again = connection_pause_for_error(push=push, exc=error)
        assert again is not None and again.pk != first.pk
        assert _seconds(again) == 18.75

        # Probation lasts a minute: long after a resume, a lone error is only counted.
        clock.shift(timedelta(seconds=_seconds(again)))
        connection_pauses.connection_pauses_resume_due()
        clock.shift(timedelta(seconds=connection_pauses.PROBATION_SECONDS + 1))
        assert connection_pause_for_error(push=push, exc=error) is None


def test_a_pause_staff_end_by_hand_puts_nobody_on_probation(push_staff, enqueued):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-OUTAGE-5")
    push = push_request_create(record=invoice, user=push_staff)
    _run_of_errors(push)
    connection_resume(connection_id=push.connection_id, user=push_staff)
    error = RailzServerError(status_code=503)
    assert connection_pause_for_error(push=push, exc=error) is None
    assert connection_pause_for_error(push=push, exc=error) is None
    assert connection_pause_for_error(push=push, exc=error) is not None
