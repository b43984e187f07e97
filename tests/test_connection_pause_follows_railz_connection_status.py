"""A connection Railz reports disconnected (or its authorisation expired) pauses instead of
refusing pushes: a connections sync that sees it disconnected pauses it with the reason in
words, new pushes of its records queue and wait, and the sync that sees it active again resumes
it by itself, each waiting push sent once. A connection that was never connected, or that
Railz no longer lists, still refuses pushes: nothing would ever send them."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import ConnectionPause, PushRequest, WebhookEvent
from pushes.push_selectors import push_plan_for
from pushes.services.connection_pauses import connection_pause, connection_pauses_follow_status
from pushes.services.push_requests import PushRefused, push_request_create, push_request_submit
from pushes.tasks import connection_pauses_follow_status_task, webhook_event_apply_task
from refs import queue as refs_queue
from refs.models import Connection
from refs.services import connections_discover
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(monkeypatch):
    """The push sends handed to the queue, and the refs app's hand-offs to the push app."""
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args))
    monkeypatch.setattr("refs.queue.async_task", lambda *args, **kw: calls.append(args))
    return calls


def _sync_connections(enqueued):
    """Discover the connections, then run the pause hand-off as a worker would."""
    enqueued.clear()
    run = connections_discover()
    assert run.status == "succeeded", run.error
    handed = [args for args in enqueued if args[0] == refs_queue.PAUSES_TASK]
    for _, connection_ids in handed:
        connection_pauses_follow_status_task(connection_ids)
    return handed


def test_a_connection_railz_reports_disconnected_pauses_and_resumes_when_active_again(
    push_emulator, push_client, push_staff, enqueued, client, push_plain_static
):
    _sync_connections(enqueued)
    connection = Connection.objects.get(connection_uuid=DEMO_QUICKBOOKS)
    queued = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-S-1"), user=push_staff
    )

    push_emulator.control("revoke", connectionUuid=DEMO_QUICKBOOKS, reason="disconnectedByCustomer")
    handed = _sync_connections(enqueued)

    assert handed == [(refs_queue.PAUSES_TASK, [connection.pk])]
    connection.refresh_from_db()
    assert connection.status == "disconnected"
    pause = ConnectionPause.objects.open().get(connection=connection)
    assert pause.cause == "disconnected"
    assert pause.reason == (
        "the business disconnected QuickBooks from Railz (disconnectedByCustomer)"
    )
    # The records still pass their checks, and new pushes queue behind the pause.
    late_record = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-S-2")
    assert not push_plan_for(record=late_record, user=push_staff).refused
    late = push_request_create(record=late_record, user=push_staff)
    assert late.state == "queued"
    for push in (queued, late):
        assert push_request_submit(push_request_id=push.pk, client=push_client) is None
        assert PushRequest.objects.get(pk=push.pk).attempts == 0
    push_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_invoice", "view_pushrequest"])
    )
    client.force_login(push_staff)
    home = client.get(reverse("admin:index")).content.decode()
    assert "Paused: the business disconnected QuickBooks from Railz" in home
    # A sync that changes nothing more pauses nothing again.
    assert _sync_connections(enqueued) == []

    push_emulator.control("reconnect", connectionUuid=DEMO_QUICKBOOKS)
    handed = _sync_connections(enqueued)

    assert handed == [(refs_queue.PAUSES_TASK, [connection.pk])]
    pause.refresh_from_db()
    assert pause.resumed_at is not None and pause.resumed_by is None
    sent = [args[1] for args in enqueued if args[0] == "pushes.tasks.push_submit_task"]
    assert sorted(sent) == sorted([queued.pk, late.pk])
    for pk in sent + sent:  # a second delivery of the same tasks sends nothing again
        push_request_submit(push_request_id=pk, client=push_client)
    push_emulator.control("complete_due")
    push_emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)
    assert set(PushRequest.objects.values_list("state", flat=True)) == {"success"}
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-S-1", "INV-S-2"]


def test_a_record_of_a_disconnected_connection_passes_its_connection_check():
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-S-CHK")
    Connection.objects.filter(pk=invoice.connection_id).update(status="expired")
    invoice.connection.refresh_from_db()
    assert invoice.connection.can_queue and not invoice.connection.can_push
    plan = push_plan_for(record=invoice)
    assert not plan.refused, plan.reason


@pytest.mark.parametrize("status", ["pending", "removed"])
def test_a_connection_never_connected_or_no_longer_listed_still_refuses(status, push_staff):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"INV-S-{status}")
    Connection.objects.filter(pk=invoice.connection_id).update(status=status)
    invoice.connection.refresh_from_db()

    with pytest.raises(PushRefused) as refused:
        push_request_create(record=invoice, user=push_staff)

    assert refused.value.rule == "activeConnection"
    assert f"is {status}" in str(refused.value)
    assert not ConnectionPause.objects.exists()
    assert connection_pauses_follow_status(connection_ids=[invoice.connection_id]) == (0, 0)


def test_an_expired_authorisation_pauses_and_a_sync_seeing_it_active_lifts_only_that_cause(
    push_staff, enqueued
):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-S-EXP")
    Connection.objects.filter(pk=invoice.connection_id).update(status="expired")
    assert connection_pauses_follow_status(connection_ids=[invoice.connection_id]) == (1, 0)
    pause = ConnectionPause.objects.open().get()
    assert pause.cause == "authorisation"
    assert pause.reason == "the authorisation of QuickBooks expired"

    Connection.objects.filter(pk=invoice.connection_id).update(status="active")
    assert connection_pauses_follow_status(connection_ids=[invoice.connection_id]) == (0, 1)
    assert not ConnectionPause.objects.open().exists()

    # A daily cap keeps its own time: the connection being active says nothing about it.
    connection_pause(
        connection_id=invoice.connection_id, cause="daily_cap", reason="cap", resume_after=3600
    )
    assert connection_pauses_follow_status(connection_ids=[invoice.connection_id]) == (0, 0)
    assert ConnectionPause.objects.open().filter(cause="daily_cap").exists()
