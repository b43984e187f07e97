"""A push whose worker died mid-send surfaces as `unknown`, with its reconciliation enqueued,
within two minutes by default; a live send is never lost for being declared dead.

The lease of a send is what one write to Railz can take (the rate-limit wait, the connect and
read timeouts) plus a margin, not the whole task timeout, and the `pushes: expire lost sends`
job looks every minute (waiting for a stuck send whose lease is about to run out, since
django-q2's scheduler may fire it half a minute late).
"""

import math
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from pushes import queue, tasks
from pushes.models import PushRequest
from pushes.schedules import schedules
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
    pushes_expire_leases,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice
from tests.test_settings_fail_loudly import load_settings

# django-q2's scheduler looks for due schedules every 30 seconds.
SCHEDULER_LATENESS = 30


def _lease_of(**env) -> int:
    result = load_settings("print(settings.PUSH_LEASE_SECONDS)", **env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


def test_the_default_lease_is_one_send_plus_a_margin_not_the_task_timeout():
    send = (
        settings.PUSH_RATE_LIMIT_WAIT_SECONDS
        + settings.RAILZ_CONNECT_TIMEOUT
        + settings.RAILZ_READ_TIMEOUT
    )
    assert settings.PUSH_LEASE_SECONDS == math.ceil(send) + settings.PUSH_LEASE_MARGIN_SECONDS
    assert settings.PUSH_LEASE_SECONDS < settings.Q_CLUSTER["timeout"]
    # Railz has recorded a request that reached it before we declare it lost (the
    # reconciliation window ends read timeout + skew after the send).
    assert settings.PUSH_LEASE_SECONDS > (
        settings.RAILZ_READ_TIMEOUT + settings.PUSH_RECONCILE_SKEW_SECONDS
    )


def test_a_dead_send_surfaces_within_two_minutes_end_to_end_by_default():
    lease = _lease_of()
    [job] = [s for s in schedules() if s.func == "pushes.tasks.pushes_expire_leases_task"]
    # Worst case: the lease runs out just after a run that could not wait for it (it was more
    # than EXPIRE_WAIT_SECONDS away); the next run comes at most a minute plus the scheduler's
    # lateness later, less the part of that gap the previous run could have waited.
    gap = job.minutes * 60 + SCHEDULER_LATENESS
    worst = lease + gap - min(tasks.EXPIRE_WAIT_SECONDS, settings.PUSH_POLL_LOOP_SECONDS)
    assert worst <= 120, (lease, gap)


def test_the_lease_follows_the_railz_timeouts():
    assert _lease_of(RAILZ_READ_TIMEOUT="60") == math.ceil(2 + 5 + 60) + 10
    assert _lease_of(PUSH_LEASE_SECONDS="90") == 90


def test_a_lease_shorter_than_a_send_stops_start_up():
    result = load_settings(PUSH_LEASE_SECONDS="30")
    assert result.returncode != 0
    assert "PUSH_LEASE_SECONDS must be longer than a send can take" in result.stderr


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kw: calls.append(args))
    return calls


def _submitting(push_staff, number, *, age_seconds):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
    push = push_request_create(record=invoice, user=push_staff)
    sent_at = timezone.now() - timedelta(seconds=age_seconds)
    PushRequest.objects.filter(pk=push.pk).update(state="submitting", sent_at=sent_at)
    return push


@pytest.mark.django_db
def test_the_scheduled_job_moves_a_stale_send_to_unknown_and_enqueues_its_reconciliation(
    push_staff, enqueued, django_capture_on_commit_callbacks
):
    lease = settings.PUSH_LEASE_SECONDS
    stale = _submitting(push_staff, "INV-L-1", age_seconds=lease + 1)
    live = _submitting(push_staff, "INV-L-2", age_seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.pushes_expire_leases_task()
    assert result.startswith("1 push(es)")
    stale.refresh_from_db()
    live.refresh_from_db()
    assert (stale.state, live.state) == ("unknown", "submitting")
    assert "worker stopped" in stale.last_error
    assert stale.events.filter(to_state="unknown", source="system").exists()
    assert enqueued == [(queue.RECONCILE_TASK, stale.pk)]


@pytest.mark.django_db
def test_the_job_waits_for_a_stuck_send_whose_lease_is_about_to_run_out(
    push_staff, enqueued, monkeypatch
):
    lease = settings.PUSH_LEASE_SECONDS
    stuck = _submitting(push_staff, "INV-L-3", age_seconds=lease - 10)
    _submitting(push_staff, "INV-L-4", age_seconds=lease - 50)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        slept = []

        def sleep(seconds):
            slept.append(seconds)
            traveller.shift(timedelta(seconds=seconds))

        monkeypatch.setattr(tasks.time, "sleep", sleep)
        tasks.pushes_expire_leases_task()
    assert len(slept) == 1 and 10 < slept[0] <= 12
    states = dict(PushRequest.objects.values_list("pk", "state"))
    assert states[stuck.pk] == "unknown"
    assert sorted(states.values()) == ["submitting", "unknown"]


@pytest.mark.django_db
def test_a_live_send_that_outlasts_its_lease_still_records_railz_answer(push_staff):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-L-5")
    push = push_request_create(record=invoice, user=push_staff)
    PushRequest.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())

    class SlowClient(FakePushClient):
        def create(self, *args, **kwargs):
            # The answer takes longer than the lease: the job declares the push lost...
            later = timezone.now() + timedelta(seconds=settings.PUSH_LEASE_SECONDS + 1)
            assert pushes_expire_leases(now=later) == 1
            return super().create(*args, **kwargs)

    push_request_submit(push_request_id=push.pk, client=SlowClient())
    push.refresh_from_db()
    # ...and Railz's answer, arriving after all, adopts it.
    assert push.state == "pending"
    assert push.push_communication_id
    assert list(push.events.exclude(to_state="").values_list("to_state", flat=True)) == [
        "queued",
        "submitting",
        "unknown",
        "pending",
    ]
