"""The wiring: a push enqueues its send through django-q2 once committed, the webhook view
enqueues its application, and setup_schedules writes the pipeline's periodic jobs.

django-q2 runs tasks in-process here (sync mode); the behaviour of each task is proven in the
other push tests by calling the task bodies directly."""

import pytest
from django.core.management import call_command
from django_q.conf import Conf
from django_q.models import Schedule

from pushes.models import PushRequest, WebhookEvent
from pushes.services.push_requests import push_request_create
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice


@pytest.mark.django_db(transaction=True)
def test_a_push_runs_through_the_queue_and_its_webhook_to_success(
    push_emulator, push_staff, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-W-1")

    push = push_request_create(record=invoice, user=push_staff)
    assert PushRequest.objects.get(pk=push.pk).state in ("pending", "success")

    push_emulator.wait_for_webhooks()
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "success"
    assert push.events.filter(to_state="success", source="webhook").exists()
    assert WebhookEvent.objects.get().processed_at is not None
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-W-1"]


@pytest.mark.django_db
def test_setup_schedules_declares_polling_dispatch_and_reconciliation():
    call_command("setup_schedules", verbosity=0)
    call_command("setup_schedules", verbosity=0)  # idempotent
    schedules = {
        s.name: (s.func, s.minutes) for s in Schedule.objects.filter(name__startswith="pushes:")
    }
    assert schedules == {
        "pushes: poll push status": ("pushes.tasks.pushes_poll_task", 1),
        "pushes: dispatch due pushes": ("pushes.tasks.pushes_dispatch_task", 1),
        "pushes: expire lost sends": ("pushes.tasks.pushes_expire_leases_task", 1),
        "pushes: reconcile unknown pushes": ("pushes.tasks.pushes_reconcile_task", 5),
        "pushes: refresh push rules (pushOptions)": (
            "pushes.tasks.push_options_refresh_all_task",
            24 * 60,
        ),
        "pushes: alert who asked (failed, refused, unknown) and send webhooks": (
            "pushes.tasks.alerts_task",
            1,
        ),
        "pushes: daily digest of alerts": ("pushes.tasks.alerts_digest_task", 24 * 60),
    }
