"""A connection the business revoked mid-bulk-push pauses instead of failing every push: the
remaining pushes wait, new ones queue, the records say "Paused: <reason>", and Resume (after
the business reconnects) sends each waiting push exactly once. A record refused for its own
content still fails alone, and a daily cap resumes by itself."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pushes.models import ConnectionPause, PushRequest, WebhookEvent
from pushes.services.connection_pauses import connection_pauses_resume_due, connection_resume
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
    pushes_dispatch_due,
    pushes_request_bulk,
)
from pushes.tasks import webhook_event_apply_task
from railzpush.railz.errors import RailzRateLimited, RailzRejected, connection_problem
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _submit_queued(client):
    for push in PushRequest.objects.filter(state="queued").order_by("pk"):
        push_request_submit(push_request_id=push.pk, client=client)


def _settle(emulator):
    emulator.control("complete_due")
    emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


def test_revoking_mid_bulk_push_pauses_the_rest_and_resume_pushes_each_once(
    push_emulator, push_client, push_staff, enqueued
):
    numbers = [f"INV-P-{i}" for i in range(6)]
    invoices = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=n) for n in numbers]
    result = pushes_request_bulk(records=invoices, user=push_staff)
    assert len(result.created) == 6
    pushes = sorted(result.created, key=lambda p: p.pk)

    # Two go out, then the business revokes the connection.
    for push in pushes[:2]:
        push_request_submit(push_request_id=push.pk, client=push_client)
    push_emulator.control("revoke", connectionUuid=DEMO_QUICKBOOKS)
    for push in pushes[2:]:
        push_request_submit(push_request_id=push.pk, client=push_client)

    states = [PushRequest.objects.get(pk=p.pk).state for p in pushes]
    # Railz accepted the two sent before the revocation.
    assert set(states[:2]) <= {"pending", "success"}
    # The first refused push paused the connection; the others were never claimed.
    assert states[2:] == ["queued"] * 4
    pause = ConnectionPause.objects.open().get()
    assert pause.cause == "authorisation"
    assert "authorizationRevoked" in pause.reason
    assert not PushRequest.objects.filter(state__in=["failed", "rejected"]).exists()
    third = PushRequest.objects.get(pk=pushes[2].pk)
    assert third.attempts == 0
    assert third.events.filter(message__startswith="Paused: ").exists()
    assert set(
        PushRequest.objects.filter(pk__in=[p.pk for p in pushes[3:]]).values_list(
            "attempts", flat=True
        )
    ) == {0}

    # A push asked for while paused queues, and the dispatcher leaves them all alone.
    late = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-LATE")
    late_push = push_request_create(record=late, user=push_staff)
    assert late_push.state == "queued"
    enqueued.clear()
    later = timezone.now() + timedelta(hours=1)
    assert pushes_dispatch_due(now=later) == []
    assert push_request_submit(push_request_id=late_push.pk, client=push_client) is None
    # A pause a person must lift does not lift itself.
    assert connection_pauses_resume_due(now=later) == 0

    push_emulator.control("reconnect", connectionUuid=DEMO_QUICKBOOKS)
    assert connection_resume(connection_id=pause.connection_id, user=push_staff) == 5
    sent = [args[1] for args in enqueued if args[0] == "pushes.tasks.push_submit_task"]
    assert sorted(sent) == sorted([p.pk for p in pushes[2:]] + [late_push.pk])
    _submit_queued(push_client)
    # A second delivery of the same tasks sends nothing again.
    for pk in sent:
        assert push_request_submit(push_request_id=pk, client=push_client) is None
    _settle(push_emulator)

    assert set(PushRequest.objects.values_list("state", flat=True)) == {"success"}
    assert PushRequest.objects.count() == 7
    assert sorted(emulator_invoice_numbers(DEMO_QUICKBOOKS)) == sorted([*numbers, "INV-P-LATE"])
    pause.refresh_from_db()
    assert pause.resumed_at is not None and pause.resumed_by == push_staff


def test_a_record_refused_for_its_own_content_fails_alone():
    refused = RailzRejected(
        messages=["postedDate must be formatted as yyyy-mm-dd"], status_code=400
    )
    assert connection_problem(refused) is None
    minute = RailzRateLimited(retry_after=30, status_code=429)
    assert connection_problem(minute) is None
    gone = RailzRejected(messages=["Connection X is not active (disconnected)"], status_code=400)
    assert connection_problem(gone).cause == "disconnected"


def test_a_daily_cap_pauses_until_the_providers_day_resets(push_staff, enqueued):
    from pushes.services.connection_pauses import connection_pause_for_error

    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-CAP")
    push = push_request_create(record=invoice, user=push_staff)
    cap = RailzRateLimited(
        "xero allows 10000 requests a day", retry_after=5 * 3600, status_code=429
    )
    pause = connection_pause_for_error(push=push, exc=cap)
    assert pause.cause == "daily_cap" and pause.resume_at is not None
    assert connection_pauses_resume_due(now=timezone.now() + timedelta(hours=4)) == 0
    with time_machine.travel(timezone.now() + timedelta(hours=5, minutes=1), tick=False):
        assert connection_pauses_resume_due() == 1
    assert not ConnectionPause.objects.open().exists()


def test_a_paused_connection_is_said_on_home_list_and_record_with_resume(
    client, push_staff, enqueued, push_plain_static
):
    from django.urls import reverse

    from pushes.services.connection_pauses import connection_pause

    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-UI")
    push = push_request_create(record=invoice, user=push_staff)
    connection_pause(
        connection_id=invoice.connection_id,
        cause="authorisation",
        reason="the business revoked railzpush's access (authorizationRevoked)",
        push=push,
    )
    from django.contrib.auth.models import Permission

    push_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_invoice", "view_pushrequest"])
    )
    client.force_login(push_staff)
    sentence = "Paused: the business revoked railzpush&#x27;s access"
    resume_url = reverse("pushes-connection-resume", args=[invoice.connection_id])
    for url in (
        reverse("admin:index"),
        reverse("admin:pushes_invoice_changelist"),
        reverse("admin:pushes_invoice_change", args=[invoice.pk]),
    ):
        page = client.get(url).content.decode()
        assert sentence in page, url
        assert resume_url in page, url
    assert "1 push waits" in client.get(resume_url).content.decode()
    client.post(resume_url)
    assert not ConnectionPause.objects.open().exists()
    assert ("pushes.tasks.push_submit_task", push.pk) in enqueued


def test_the_emulators_daily_cap_pauses_the_connection_until_its_day_resets(
    push_emulator, push_client, push_staff, enqueued
):
    push_emulator.control("set_daily_limit", connectionUuid=DEMO_QUICKBOOKS, limit=1)
    first = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-DAY1"), user=push_staff
    )
    second = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-DAY2"), user=push_staff
    )
    push_request_submit(push_request_id=first.pk, client=push_client)
    push_request_submit(push_request_id=second.pk, client=push_client)
    second.refresh_from_db()
    assert second.state == "queued" and second.attempts == 0
    pause = ConnectionPause.objects.open().get()
    assert pause.cause == "daily_cap"
    midnight = (timezone.now() + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert abs((pause.resume_at - midnight).total_seconds()) < 120
    # Only this connection waits: the team's budget is not paused for a day.
    from railzpush.railz.ratelimit import WINDOW_SECONDS

    paused_until = push_client.budget.cache.get(push_client.budget.pause_key)
    assert paused_until is None or paused_until - push_client.budget.clock() <= WINDOW_SECONDS


def test_a_push_the_provider_refuses_for_its_authorisation_pauses_the_rest(push_staff, enqueued):
    from pushes.services.push_requests import push_apply_status
    from tests.fixtures.pushes import status_item

    pushes = [
        push_request_create(
            record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"INV-P-A{i}"),
            user=push_staff,
        )
        for i in range(3)
    ]
    for push, code in ((pushes[0], 1), (pushes[1], 2)):
        PushRequest.objects.filter(pk=push.pk).update(
            state="pending", push_communication_id=f"c{code}"
        )
        push.refresh_from_db()
    content = status_item(pushes[0], "failed", errors=[{"field": "", "message": "Bad date"}])
    push_apply_status(push=pushes[0], item=content, source="poll")
    # A record refused for its own content fails alone.
    assert not ConnectionPause.objects.exists()
    auth = {**status_item(pushes[1], "failed"), "responseCode": 401}
    push_apply_status(push=pushes[1], item=auth, source="poll")
    pause = ConnectionPause.objects.open().get()
    assert pause.cause == "authorisation" and "HTTP 401" in pause.reason
    assert push_request_submit(push_request_id=pushes[2].pk, client=None) is None
    assert PushRequest.objects.get(pk=pushes[2].pk).state == "queued"
