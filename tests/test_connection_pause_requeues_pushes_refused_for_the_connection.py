"""A push the accounting system refused with HTTP 401/403 while its connection was breaking was
refused for the connection, not its content: it stays failed (a finished push never moves
again), and a new attempt is queued automatically behind the pause, once, so Resume sends it
exactly once. A push whose outcome is unknown is never resent, and a record refused for its
content still fails alone."""

import pytest

from pushes.models import ConnectionPause, PushRequest, WebhookEvent
from pushes.services.connection_pauses import connection_resume
from pushes.services.push_requests import (
    push_apply_status,
    push_request_create,
    push_request_submit,
)
from pushes.tasks import webhook_event_apply_task
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice, status_item

pytestmark = pytest.mark.django_db(transaction=True)


def _pending(push, communication_id):
    PushRequest.objects.filter(pk=push.pk).update(
        state="pending", push_communication_id=communication_id, attempts=1
    )
    push.refresh_from_db()
    return push


def _refused(push, code, message="Unauthorized"):
    return {
        **status_item(push, "failed", errors=[{"field": "", "message": message}]),
        "responseCode": code,
    }


def _follow_up(push):
    return PushRequest.objects.filter(retry_of=push).first()


def test_pushes_refused_for_the_connection_wait_behind_the_pause_and_resume_sends_each_once(
    push_emulator, push_client, push_staff, enqueued
):
    numbers = ["INV-R-401", "INV-R-403", "INV-R-BAD", "INV-R-UNK"]
    pushes = [
        push_request_create(
            record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=n), user=push_staff
        )
        for n in numbers
    ]
    refused_401, refused_403, bad, unknown = (
        _pending(p, f"{i + 1:024x}") for i, p in enumerate(pushes)
    )
    PushRequest.objects.filter(pk=unknown.pk).update(state="unknown")

    # A record refused for its own content fails alone: no pause, no new attempt.
    assert push_apply_status(push=bad, item=_refused(bad, 400, "Bad date"), source="poll")
    assert not ConnectionPause.objects.exists()
    assert _follow_up(bad) is None

    # The provider refuses two pushes for the connection's authorisation.
    assert push_apply_status(push=refused_401, item=_refused(refused_401, 401), source="poll")
    assert push_apply_status(
        push=refused_403, item=_refused(refused_403, 403, "Forbidden"), source="webhook"
    )
    pause = ConnectionPause.objects.open().get()
    assert pause.cause == "authorisation"
    for refused in (refused_401, refused_403):
        refused.refresh_from_db()
        # Monotonic: the refused push stays failed, with the provider's words.
        assert refused.state == "failed"
        follow_up = _follow_up(refused)
        assert follow_up is not None
        assert follow_up.state == "queued" and follow_up.attempts == 0
        assert follow_up.source == "system"
        assert refused.events.filter(
            message__contains=f"queued again automatically as push #{follow_up.pk}"
        ).exists()
    # The same outcome told again (the webhook after the poll) queues nothing more.
    again = PushRequest.objects.get(pk=refused_401.pk)
    assert not push_apply_status(push=again, item=_refused(again, 401), source="webhook")
    assert PushRequest.objects.filter(retry_of=refused_401).count() == 1

    # Held while paused: the worker claims none of them.
    follow_ups = [_follow_up(refused_401), _follow_up(refused_403)]
    for follow_up in follow_ups:
        assert push_request_submit(push_request_id=follow_up.pk, client=push_client) is None
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []

    enqueued.clear()
    assert connection_resume(connection_id=pause.connection_id, user=push_staff) == 2
    sent = [args[1] for args in enqueued if args[0] == "pushes.tasks.push_submit_task"]
    assert sorted(sent) == sorted(p.pk for p in follow_ups)
    for pk in sent + sent:  # a second delivery of the same tasks sends nothing again
        push_request_submit(push_request_id=pk, client=push_client)
    push_emulator.control("complete_due")
    push_emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)

    assert [PushRequest.objects.get(pk=p.pk).state for p in follow_ups] == ["success"] * 2
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-R-401", "INV-R-403"]
    # The push whose outcome is unknown was neither resent nor queued again.
    assert PushRequest.objects.get(pk=unknown.pk).state == "unknown"
    assert _follow_up(unknown) is None
    assert PushRequest.objects.get(pk=bad.pk).state == "failed"


def test_a_new_attempt_refused_again_is_left_for_a_person(push_staff, enqueued):
    push = _pending(
        push_request_create(
            record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-R-TWICE"),
            user=push_staff,
        ),
        "a" * 24,
    )
    push_apply_status(push=push, item=_refused(push, 401), source="poll")
    follow_up = _follow_up(push)
    connection_resume(connection_id=push.connection_id, user=push_staff)
    follow_up = _pending(follow_up, "b" * 24)

    push_apply_status(push=follow_up, item=_refused(follow_up, 401), source="poll")

    # Paused again, but the automatic attempt is not itself queued again: one send can never
    # turn into a chain of them.
    assert ConnectionPause.objects.open().filter(connection_id=push.connection_id).exists()
    assert _follow_up(follow_up) is None
    assert follow_up.events.filter(message__startswith="Not queued again automatically").exists()
    assert PushRequest.objects.filter(state="queued").count() == 0
