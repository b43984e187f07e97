"""Every way a push can go wrong against the emulator ends with exactly one invoice in the
accounting system: a worker killed mid-send, an answer lost after Railz accepted, duplicated
and out-of-order webhooks, 5xx and 429 storms."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from pushes.models import PushEvent, PushRequest, WebhookEvent
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
    pushes_dispatch_due,
)
from pushes.services.reconcile import pushes_reconcile_unknown
from pushes.tasks import webhook_event_apply_task
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _settle(emulator):
    """Let the emulator's webhooks arrive, then run the tasks they enqueued."""
    emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


def _push(number, user):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
    return invoice, push_request_create(record=invoice, user=user)


def _assert_one_record(invoice, number):
    invoice.refresh_from_db()
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == [number]
    assert invoice.provider_record_id


class _DiesAfterSending:
    """A worker killed right after its request left: Railz has it, nothing was written back."""

    def __init__(self, client):
        self.client = client

    def create(self, *args, **kwargs):
        self.client.create(*args, **kwargs)
        raise SystemExit("worker killed")


def test_a_worker_killed_mid_send_is_reconciled_not_resent(
    push_emulator, push_client, push_staff, enqueued
):
    invoice, push = _push("INV-R-KILL", push_staff)
    with pytest.raises(SystemExit):
        push_request_submit(push_request_id=push.pk, client=_DiesAfterSending(push_client))
    _settle(push_emulator)
    assert PushRequest.objects.get(pk=push.pk).state == "submitting"
    # The webhook names a push nobody here knows yet: it waits.
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 1

    # django-q2 hands the task to another worker: it must not send again.
    assert push_request_submit(push_request_id=push.pk, client=push_client) is None

    later = timezone.now() + timedelta(seconds=settings.PUSH_LEASE_SECONDS + 1)
    with time_machine.travel(later, tick=True):
        pushes_reconcile_unknown(client=push_client)

    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "success"
    assert list(push.events.filter(kind="state").values_list("to_state", flat=True)) == [
        "queued",
        "submitting",
        "unknown",
        "success",
    ]
    _assert_one_record(invoice, "INV-R-KILL")


def test_an_answer_lost_after_railz_accepted_is_adopted_not_resent(
    push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")
    invoice, push = _push("INV-R-LOST", push_staff)
    push_request_submit(push_request_id=push.pk, client=push_client)
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "unknown"
    assert "not known whether" in push.last_error
    assert ("pushes.tasks.push_reconcile_task", push.pk) in enqueued
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    _settle(push_emulator)

    pushes_reconcile_unknown(client=push_client)
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "success" and push.push_communication_id
    # The webhook that came while the id was unknown here is applied (a no-op) once adopted.
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert push.events.filter(kind="note", message__startswith="Reconciled").exists()
    # A webhook that comes again after adoption changes nothing.
    push_emulator.control("complete_due")
    _settle(push_emulator)
    _assert_one_record(invoice, "INV-R-LOST")
    assert PushRequest.objects.count() == 1


def test_duplicated_and_out_of_order_webhooks_leave_one_success(
    push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(
        connection_uuid=DEMO_QUICKBOOKS, duplicate_webhooks=True, out_of_order_webhooks=True
    )
    invoice, push = _push("INV-R-DUP", push_staff)
    push_request_submit(push_request_id=push.pk, client=push_client)
    _settle(push_emulator)

    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "success"
    deliveries = push_emulator.deliveries(communication_id=push.push_communication_id)
    assert len(deliveries) == 4  # success twice, then a stale "pending" twice
    assert WebhookEvent.objects.count() == 2  # one per distinct outcome
    assert push.events.filter(kind="state", to_state="success").count() == 1
    _assert_one_record(invoice, "INV-R-DUP")


def test_a_5xx_storm_before_acceptance_is_retried_with_backoff_and_sent_once(
    push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, error_rate=1.0, error_status=503)
    invoice, push = _push("INV-R-503", push_staff)
    for attempt in (1, 2):
        push_request_submit(push_request_id=push.pk, client=push_client)
        push = PushRequest.objects.get(pk=push.pk)
        assert push.state == "queued" and push.attempts == attempt
        assert push.next_attempt_at > timezone.now()
        with time_machine.travel(push.next_attempt_at + timedelta(seconds=1), tick=True):
            assert pushes_dispatch_due() == [push.pk]
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []

    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    push_request_submit(push_request_id=push.pk, client=push_client)
    _settle(push_emulator)
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "success" and push.attempts == 3
    assert push.events.filter(kind="exchange", status_code=503).count() == 2
    _assert_one_record(invoice, "INV-R-503")


def test_retries_before_acceptance_stop_at_the_bound_as_failed(
    push_emulator, push_client, push_staff, enqueued, settings
):
    settings.PUSH_MAX_ATTEMPTS = 2
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, error_rate=1.0, error_status=503)
    _, push = _push("INV-R-BOUND", push_staff)
    push_request_submit(push_request_id=push.pk, client=push_client)
    push_request_submit(push_request_id=push.pk, client=push_client)
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "failed"
    assert "Gave up after 2 attempts" in push.events.get(to_state="failed").message
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []


def test_a_500_on_the_write_is_unknown_and_never_sent_again(
    push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, error_rate=1.0, error_status=500)
    _, push = _push("INV-R-500", push_staff)
    push_request_submit(push_request_id=push.pk, client=push_client)
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    assert PushRequest.objects.get(pk=push.pk).state == "unknown"

    pushes_reconcile_unknown(client=push_client)
    push = PushRequest.objects.get(pk=push.pk)
    # The emulator failed before recording anything: nothing to adopt, a person decides.
    assert push.state == "unknown"
    assert "probably never arrived" in push.reconcile_note
    assert pushes_dispatch_due(now=timezone.now() + timedelta(days=1)) == []
    assert push.events.filter(kind="exchange", method="POST").count() == 1
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []


def test_a_429_storm_requeues_at_retry_after_without_spending_attempts(
    push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, storm_requests=2)
    invoice, push = _push("INV-R-429", push_staff)
    for _ in range(2):
        push_request_submit(push_request_id=push.pk, client=push_client)
        push = PushRequest.objects.get(pk=push.pk)
        assert push.state == "queued" and push.attempts == 0
        assert "Too many requests" in push.last_error
        with time_machine.travel(push.next_attempt_at + timedelta(seconds=1), tick=True):
            pushes_dispatch_due()
            push_request_submit(push_request_id=push.pk, client=push_client)
            push = PushRequest.objects.get(pk=push.pk)
            if push.state != "queued":
                break
    _settle(push_emulator)
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "success" and push.attempts == 1
    assert push.events.filter(kind=PushEvent.Kind.EXCHANGE, status_code=429).count() == 2
    _assert_one_record(invoice, "INV-R-429")
