"""The person who asked for a push hears when it failed, was refused or stays unknown: one
email a push however often the job runs, in their chosen way (immediately, a daily digest, or
nothing); approvers hear when something waits; an outgoing webhook gets the same, signed, and
a failing endpoint is retried later without holding anything up."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from pushes.models import AlertDelivery, AlertWebhook, PushAlert, PushRequest
from pushes.services.alerts import (
    SIGNATURE_HEADER,
    alert_deliveries_send_due,
    alert_preference_set,
    alert_signature,
    alerts_collect,
    alerts_send_digests,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import ready_invoice, refs_connection_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)


@pytest.fixture
def asker(django_user_model):
    return django_user_model.objects.create_user(
        "asker", email="asker@example.com", password="pw", is_staff=True
    )


def _finished(asker, number, state, **fields):
    from pushes.services.push_requests import push_request_create

    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
    push = push_request_create(record=invoice, user=None)
    PushRequest.objects.filter(pk=push.pk).update(
        state=state, requested_by=asker, updated_at=timezone.now(), **fields
    )
    return PushRequest.objects.get(pk=push.pk)


def test_one_email_per_failed_push_with_the_refusal_in_words_and_a_link(asker):
    push = _finished(
        asker,
        "INV-AL-1",
        "failed",
        validation_errors=[{"field": "customerRef", "message": "Customer is inactive"}],
    )
    alerts_collect()
    alerts_collect()
    assert len(mail.outbox) == 1
    [message] = mail.outbox
    assert message.to == ["asker@example.com"]
    assert "Customer is inactive. Choose another customer" in message.body
    assert f"/admin/pushes/pushrequest/{push.pk}/change/" in message.body
    assert PushAlert.objects.filter(push=push).count() == 1


def test_an_unknown_push_is_told_only_past_the_limit(asker, settings):
    sent = timezone.now() - timedelta(minutes=settings.PUSH_ALERT_UNKNOWN_AFTER_MINUTES - 5)
    push = _finished(asker, "INV-AL-U", "unknown", sent_at=sent)
    alerts_collect()
    assert mail.outbox == []
    alerts_collect(now=timezone.now() + timedelta(minutes=10))
    assert len(mail.outbox) == 1 and "no known outcome" in mail.outbox[0].subject
    assert PushAlert.objects.get().push == push


def test_the_digest_setting_sends_nothing_until_the_digest_runs(asker):
    alert_preference_set(user=asker, delivery="digest")
    _finished(asker, "INV-AL-D1", "failed", last_error="Railz said no.")
    _finished(asker, "INV-AL-D2", "rejected", last_error="Railz refused it.")
    alerts_collect()
    assert mail.outbox == []
    assert alerts_send_digests() == 1
    [digest] = mail.outbox
    assert "2 push(es)" in digest.subject
    assert "INV-AL-D1" in digest.body and "INV-AL-D2" in digest.body
    assert alerts_send_digests() == 0 and len(mail.outbox) == 1


def test_nothing_is_emailed_to_who_chose_nothing(asker):
    alert_preference_set(user=asker, delivery="none")
    _finished(asker, "INV-AL-N", "failed", last_error="no")
    alerts_collect()
    alerts_send_digests()
    assert mail.outbox == []


def test_the_webhook_is_signed_and_retried_with_backoff(asker, monkeypatch):
    AlertWebhook.objects.create(
        connection=refs_connection_for(DEMO_QUICKBOOKS),
        url="https://chat.example/hook",
        secret="s3",
    )
    _finished(asker, "INV-AL-W", "failed", last_error="no")
    alerts_collect()
    delivery = AlertDelivery.objects.get()
    calls = []

    class Answer:
        def __init__(self, status_code):
            self.status_code = status_code

    answers = [Answer(500), Answer(204)]

    def post(url, data, headers, timeout):
        calls.append((url, data, headers))
        return answers.pop(0)

    monkeypatch.setattr("pushes.services.alerts.requests.post", post)
    assert alert_deliveries_send_due() == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "500" in delivery.last_error
    # Not due again until its backoff has passed.
    assert alert_deliveries_send_due() == 0 and len(calls) == 1
    assert alert_deliveries_send_due(now=delivery.next_attempt_at) == 1
    url, body, headers = calls[-1]
    assert url == "https://chat.example/hook"
    timestamp = int(headers[SIGNATURE_HEADER].split(",")[0][2:])
    assert headers[SIGNATURE_HEADER] == alert_signature(secret="s3", body=body, timestamp=timestamp)
    assert b'"event": "push.failed"' in body


def test_approvers_are_told_when_something_waits(asker, django_user_model):
    from django.contrib.auth.models import Permission

    from pushes.models import ApprovalPolicy
    from pushes.services.approvals import approval_submit

    approver = django_user_model.objects.create_user(
        "approver", email="approver@example.com", password="pw", is_staff=True
    )
    approver.user_permissions.add(Permission.objects.get(codename="approve_pushes"))
    asker.user_permissions.add(
        *Permission.objects.filter(codename__in=["push_records", "approve_pushes"])
    )
    ApprovalPolicy.objects.create(connection=refs_connection_for(DEMO_QUICKBOOKS), rule="every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-AL-APP")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        approval_submit(record=invoice, user=django_user_model.objects.get(pk=asker.pk))
    # The preparer, an approver too, is not told about their own submission.
    assert [m.to for m in mail.outbox] == [["approver@example.com"]]
    assert "INV-AL-APP" in mail.outbox[0].subject


def test_a_retry_queued_by_the_system_is_told_to_who_asked_first(asker):
    first = _finished(asker, "INV-AL-R", "cancelled")
    retry = _finished(asker, "INV-AL-R2", "failed", last_error="no", retry_of=first)
    PushRequest.objects.filter(pk=retry.pk).update(requested_by=None)
    alerts_collect()
    assert [m.to for m in mail.outbox] == [["asker@example.com"]]
    assert PushAlert.objects.get().push_id == retry.pk
