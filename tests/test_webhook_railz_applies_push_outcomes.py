"""POST /webhooks/railz: a forged, unsigned or stale webhook is refused with 401 and changes
nothing; a signed one is stored once (repeats are acknowledged and ignored) and applied as it is
received (in the background if that fails), whatever order the outcomes arrive in."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pushes.models import PushRequest, WebhookEvent
from pushes.services.push_requests import push_request_create, push_request_submit
from pushes.tasks import webhook_event_apply_task
from railzpush.railz.signatures import sign
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, status_item

pytestmark = pytest.mark.django_db

URL = "/webhooks/railz"


@pytest.fixture
def enqueued(monkeypatch):
    """Tasks enqueued after commit (recorded, not run)."""
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a webhook; what the view does on commit happens before this returns."""

    def send(body, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return _post(client, body, **kwargs)

    return send


@pytest.fixture
def pending_push(push_staff):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-WH-1")
    push = push_request_create(record=invoice, user=push_staff)
    push_request_submit(push_request_id=push.pk, client=FakePushClient())
    return PushRequest.objects.get(pk=push.pk)


def _body(push, status, **extra):
    item = status_item(push, status, **extra)
    data = {
        "event": "push",
        "connectionId": push.connection.connection_uuid,
        "businessName": push.connection.business_name,
        **item,
    }
    return json.dumps({"data": data, "requestId": f"req-{status}"}).encode()


def _post(client, body, *, secret="emulator-webhook-secret", header=None, timestamp_ms=None):
    headers = {}
    if header is not None:
        headers["HTTP_RAILZ_SIGNATURE"] = header
    elif secret is not None:
        headers["HTTP_RAILZ_SIGNATURE"] = sign(body, secret, timestamp_ms=timestamp_ms)
    return client.post(URL, data=body, content_type="application/json", **headers)


def _apply_all():
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong secret", "tampered body", "malformed header"],
)
def test_a_webhook_that_is_not_railzs_is_refused_and_changes_nothing(
    post, pending_push, enqueued, how
):
    body = _body(pending_push, "success")
    if how == "missing":
        response = post(body, secret=None)
    elif how == "wrong secret":
        response = post(body, secret="not-the-secret")
    elif how == "tampered body":
        header = sign(body, "emulator-webhook-secret")
        response = post(body.replace(b"success", b"failed"), header=header)
    else:
        response = post(body, header="t=abc,v=zz")
    assert response.status_code == 401
    assert "signature" in response.json()["error"]
    assert not WebhookEvent.objects.exists()
    assert enqueued == []
    assert PushRequest.objects.get(pk=pending_push.pk).state == "pending"


def test_a_replayed_webhook_signed_long_ago_is_refused(post, pending_push, enqueued):
    body = _body(pending_push, "success")
    signed_at = timezone.now()
    header = sign(body, "emulator-webhook-secret", timestamp_ms=int(signed_at.timestamp() * 1000))
    with time_machine.travel(signed_at + timedelta(minutes=10)):
        response = post(body, header=header)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_a_signed_webhook_is_stored_and_applied_on_receipt_without_a_second_task(
    post, pending_push, enqueued
):
    response = post(_body(pending_push, "success"))
    assert response.status_code == 200
    assert enqueued == []
    push = PushRequest.objects.get(pk=pending_push.pk)
    assert push.state == "success"
    assert push.events.filter(to_state="success", source="webhook").exists()
    event = WebhookEvent.objects.get()
    assert event.processed_at is not None
    assert event.outcome == "1 push(es) changed"


def test_a_webhook_that_fails_to_apply_on_receipt_is_kept_and_applied_in_the_background(
    post, pending_push, enqueued, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-apply")

    monkeypatch.setattr("pushes.services.push_requests._webhook_outcome", broken)
    response = post(_body(pending_push, "success"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.processed_at is None
    assert enqueued == [("pushes.tasks.webhook_event_apply_task", event.pk)]
    # Nothing half-applied: the push is untouched until the task runs.
    assert PushRequest.objects.get(pk=pending_push.pk).state == "pending"

    monkeypatch.undo()
    webhook_event_apply_task(event.pk)
    assert PushRequest.objects.get(pk=pending_push.pk).state == "success"
    assert WebhookEvent.objects.get().processed_at is not None


def test_a_repeated_delivery_is_acknowledged_but_stored_and_applied_once(
    post, pending_push, enqueued
):
    body = _body(pending_push, "success")
    first = post(body)
    second = post(body)
    third = post(_body(pending_push, "success"))
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json()["duplicate"] for r in (first, second, third)] == [False, True, True]
    assert WebhookEvent.objects.count() == 1
    assert enqueued == []
    push = PushRequest.objects.get(pk=pending_push.pk)
    assert push.events.filter(kind="state", to_state="success").count() == 1


def test_out_of_order_outcomes_leave_the_final_state(post, pending_push, enqueued):
    post(_body(pending_push, "success"))
    post(_body(pending_push, "pending"))
    post(_body(pending_push, "failed"))
    _apply_all()
    push = PushRequest.objects.get(pk=pending_push.pk)
    assert push.state == "success"
    assert push.events.filter(kind="state", to_state__in=["success", "failed"]).count() == 1


def test_a_webhook_that_beats_the_workers_answer_is_applied_when_the_answer_is_written(
    post, push_staff, enqueued
):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-WH-2")
    push = push_request_create(record=invoice, user=push_staff)
    fake = FakePushClient()
    communication_id = f"{1:024x}"  # what the fake client will answer
    early = PushRequest(
        pk=push.pk,
        connection=push.connection,
        data_type="invoices",
        push_communication_id=communication_id,
    )
    post(_body(early, "success"))
    _apply_all()
    assert WebhookEvent.objects.get().processed_at is None  # no push known by that id yet

    push_request_submit(push_request_id=push.pk, client=fake)
    push = PushRequest.objects.get(pk=push.pk)
    assert push.push_communication_id == communication_id
    assert push.state == "success"


def test_events_that_do_not_concern_pushes_are_kept_and_ignored(post, enqueued):
    body = json.dumps(
        {"data": {"event": "connectionStatus", "connectionId": DEMO_QUICKBOOKS}, "requestId": "r-1"}
    ).encode()
    assert post(body).status_code == 200
    _apply_all()
    event = WebhookEvent.objects.get()
    assert event.processed_at is not None and event.outcome.startswith("ignored")


def test_a_signed_body_that_is_not_json_is_a_clear_400(post, enqueued):
    response = post(b"not json")
    assert response.status_code == 400
    assert "could not be read" in response.json()["error"]


def test_a_webhook_whose_push_is_written_down_while_it_is_stored_is_applied_at_once(
    pending_push, post, monkeypatch
):
    """The worker writes the push's id down after the webhook looked for it, and looks for
    waiting webhooks before the webhook's row is committed: neither would apply it, and the
    event would wait forever. The receipt looks again once its row is committed."""
    from pushes.services import push_requests

    body = _body(pending_push, "success")
    communication_id = pending_push.push_communication_id
    PushRequest.objects.filter(pk=pending_push.pk).update(push_communication_id="")
    looked = push_requests._webhook_outcome

    def outcome_then_the_worker_writes_the_id(event, **kwargs):
        result = looked(event, **kwargs)
        if not result[1]:
            PushRequest.objects.filter(pk=pending_push.pk).update(
                push_communication_id=communication_id
            )
        return result

    monkeypatch.setattr(push_requests, "_webhook_outcome", outcome_then_the_worker_writes_the_id)
    assert post(body).status_code == 200

    event = WebhookEvent.objects.get()
    assert event.processed_at is not None
    assert event.outcome == "1 push(es) changed"
    assert PushRequest.objects.get(pk=pending_push.pk).state == "success"


def test_a_webhook_that_comes_before_the_answer_is_applied_by_the_worker_that_writes_it_down(
    push_staff, client, enqueued
):
    """Railz can send the outcome before the worker has written down the push's id: the
    receipt keeps it waiting, and the worker applies it as soon as it records the answer."""
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-WH-EARLY")
    push = push_request_create(record=invoice, user=push_staff)
    answers = FakePushClient()

    class OutcomeFirst(FakePushClient):
        def create(self, data_type, **kwargs):
            answer = answers.create(data_type, **kwargs)
            sent = PushRequest.objects.get(pk=push.pk)
            sent.push_communication_id = answer["pushCommunicationId"]
            assert _post(client, _body(sent, "success")).status_code == 200
            return answer

    push_request_submit(push_request_id=push.pk, client=OutcomeFirst())

    event = WebhookEvent.objects.get()
    push.refresh_from_db()
    invoice.refresh_from_db()
    assert push.state == "success" and push.source_object_ids == ["9001"]
    assert invoice.provider_record_id == "9001"
    assert event.processed_at is not None and event.outcome == "1 push(es) changed"
    assert [(e.from_state, e.to_state) for e in push.events.filter(kind="state")] == [
        ("", "queued"),
        ("queued", "submitting"),
        ("submitting", "pending"),
        ("pending", "success"),
    ]
