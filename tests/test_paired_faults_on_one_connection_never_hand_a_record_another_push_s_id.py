"""Two faults on pushes of one connection inside one reconciliation window: a lost answer with a
500, a lost answer with a read timeout Railz never logged, two lost answers. Whatever the mix,
every record ends holding its own provider id and none holds another's: each push is adopted
with proof, settled as never received and pushed again exactly once, or left for a person with
the candidates shown on its page."""

import json
from datetime import timedelta

import pytest
import requests
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse
from requests.adapters import HTTPAdapter

from pushes.dashboard import dashboard_build
from pushes.models import Invoice, PushRequest, WebhookEvent
from pushes.services.push_requests import (
    push_request_create,
    push_request_submit,
)
from pushes.services.reconcile import pushes_reconcile_unknown
from pushes.tasks import webhook_event_apply_task
from railzpush.emulator.models import EmuPush, EmuRecord
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("push_plain_static"),
]


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args))
    return calls


class _UnloggedTimeout(HTTPAdapter):
    """Writes time out before Railz logs them: the client sees a read timeout, Railz nothing."""

    def send(self, request, **kwargs):
        if request.method == "POST" and "/v2/accounting/" in request.url:
            raise requests.ReadTimeout("Read timed out.", request=request)
        return super().send(request, **kwargs)


def _settle(emulator):
    """Let the emulator's webhooks arrive, then run the tasks they enqueued."""
    emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


def _push(number, user):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
    return invoice, push_request_create(record=invoice, user=user)


def _reload(push):
    return PushRequest.objects.get(pk=push.pk)


def _submit_with_fault(emulator, client, push, **faults):
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, **faults)
    push_request_submit(push_request_id=push.pk, client=client)
    emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    assert _reload(push).state == "unknown"


def _lost_answer(emulator, client, push):
    _submit_with_fault(emulator, client, push, lose_answer="drop")


def _railz_500(emulator, client, push):
    _submit_with_fault(emulator, client, push, error_rate=1.0, error_status=500)


def _unlogged_timeout(emulator, push):
    client = emulator.client()
    client.session.mount(emulator.api_url, _UnloggedTimeout())
    push_request_submit(push_request_id=push.pk, client=client)
    assert _reload(push).state == "unknown"


def _assert_each_record_holds_its_own_id(*invoices):
    """Every invoice's provider id names the record created with its own number, once."""
    ids = []
    for invoice in invoices:
        invoice = Invoice.objects.get(pk=invoice.pk)
        assert invoice.provider_record_id, invoice.invoice_number
        body = EmuRecord.objects.get(
            connection__connection_uuid=DEMO_QUICKBOOKS,
            data_type="invoices",
            remote_id=invoice.provider_record_id,
        ).body
        assert json.loads(body)["invoiceNumber"] == invoice.invoice_number
        ids.append(invoice.provider_record_id)
    assert len(set(ids)) == len(ids)
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == sorted(i.invoice_number for i in invoices)


def _window_end(push):
    push = _reload(push)
    return push.sent_at + timedelta(
        seconds=settings.RAILZ_READ_TIMEOUT + settings.PUSH_RECONCILE_SKEW_SECONDS + 1
    )


def _adopted_with_proof(push):
    push = _reload(push)
    assert push.state == "success" and push.push_communication_id
    assert push.reconcile_evidence["adopted"] == push.push_communication_id
    return push.events.get(kind="note", message__startswith="Reconciled").message


def _settled_never_received_and_pushed_again(emulator, client, push, first_check):
    """Two checks PUSH_SETTLE_NOT_RECEIVED_SECONDS apart settle it; its one new attempt runs."""
    with time_machine.travel(first_check, tick=True):
        pushes_reconcile_unknown(client=client)
    waiting = _reload(push)
    assert waiting.state == "unknown" and waiting.reconcile_reason == "second_check"
    assert "probably never arrived" in waiting.reconcile_note
    assert not PushRequest.objects.filter(retry_of=push).exists()

    second = first_check + timedelta(seconds=settings.PUSH_SETTLE_NOT_RECEIVED_SECONDS + 1)
    with time_machine.travel(second, tick=True):
        pushes_reconcile_unknown(client=client)
        pushes_reconcile_unknown(client=client)  # a second run changes nothing
    settled = _reload(push)
    assert settled.state == "failed"
    state_change = settled.events.get(kind="state", to_state="failed")
    assert state_change.message.startswith("Settled as never received")
    assert "2 checks" in state_change.message
    assert len(settled.reconcile_evidence["notListed"]) == 2
    retries = list(PushRequest.objects.filter(retry_of=push))
    assert len(retries) == 1 and retries[0].state == "queued" and retries[0].source == "system"
    assert settled.events.filter(message__startswith="Queued again automatically").count() == 1

    push_request_submit(push_request_id=retries[0].pk, client=client)
    _settle(emulator)
    assert _reload(retries[0]).state == "success"
    return retries[0]


def test_a_lost_answer_and_a_500_each_end_with_their_own_record(
    push_emulator, push_client, push_staff, enqueued
):
    first, lost = _push("INV-P-LOST", push_staff)
    second, failed = _push("INV-P-500", push_staff)
    _lost_answer(push_emulator, push_client, lost)
    _railz_500(push_emulator, push_client, failed)
    _settle(push_emulator)
    # Railz created one invoice, for the first push only.
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-P-LOST"]

    pushes_reconcile_unknown(client=push_client)

    # Both pushes could own Railz's one push: the record read back decides, for the first.
    proof = _adopted_with_proof(lost)
    assert "read back from Railz" in proof and "INV-P-LOST" in proof and f"#{failed.pk}" in proof
    assert _reload(failed).state == "unknown"
    assert not Invoice.objects.get(pk=second.pk).provider_record_id

    _settled_never_received_and_pushed_again(
        push_emulator, push_client, failed, _window_end(failed)
    )
    _assert_each_record_holds_its_own_id(first, second)


def test_a_lost_answer_and_a_timeout_railz_never_logged_each_end_with_their_own_record(
    push_emulator, push_client, push_staff, enqueued
):
    first, timed_out = _push("INV-P-TIMEOUT", push_staff)
    second, lost = _push("INV-P-LOST2", push_staff)
    _unlogged_timeout(push_emulator, timed_out)
    _lost_answer(push_emulator, push_client, lost)
    _settle(push_emulator)
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-P-LOST2"]

    pushes_reconcile_unknown(client=push_client)

    # The earlier push (the timeout) is looked at first: the record is not its own.
    assert _reload(timed_out).state == "unknown"
    assert "INV-P-LOST2" in _adopted_with_proof(lost)
    assert not Invoice.objects.get(pk=first.pk).provider_record_id

    _settled_never_received_and_pushed_again(
        push_emulator, push_client, timed_out, _window_end(lost)
    )
    _assert_each_record_holds_its_own_id(first, second)


def test_two_lost_answers_are_each_adopted_by_their_own_record(
    push_emulator, push_client, push_staff, enqueued
):
    first, one = _push("INV-P-ONE", push_staff)
    second, two = _push("INV-P-TWO", push_staff)
    _lost_answer(push_emulator, push_client, one)
    _lost_answer(push_emulator, push_client, two)
    _settle(push_emulator)

    pushes_reconcile_unknown(client=push_client)

    assert "INV-P-ONE" in _adopted_with_proof(one)
    _adopted_with_proof(two)
    sent = {
        p.communication_id: json.loads(p.body)["invoiceNumber"]
        for p in EmuPush.objects.filter(operation="create")
    }
    assert sent[_reload(one).push_communication_id] == "INV-P-ONE"
    assert sent[_reload(two).push_communication_id] == "INV-P-TWO"
    assert not PushRequest.objects.filter(retry_of__isnull=False).exists()
    _assert_each_record_holds_its_own_id(first, second)


def _staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("decider", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_pushrequest", "push_records"])
    )
    client.force_login(user)
    return client


def test_without_proof_the_candidates_wait_side_by_side_for_a_person_who_adopts_one(
    push_emulator, push_client, push_staff, enqueued, client, django_user_model, monkeypatch
):
    # Railz keeps both pushes pending: there is no record to read, so nothing can be proven.
    first, one = _push("INV-P-HELD1", push_staff)
    second, two = _push("INV-P-HELD2", push_staff)
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, stay_pending=True)
    for push in (one, two):
        push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")
        push_request_submit(push_request_id=push.pk, client=push_client)
        push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="")

    pushes_reconcile_unknown(client=push_client)

    held = {json.loads(p.body)["invoiceNumber"]: p.communication_id for p in EmuPush.objects.all()}
    for push in (one, two):
        push = _reload(push)
        assert push.state == "unknown" and push.reconcile_reason == "several"
        assert "cannot be told apart" in push.reconcile_note
        stored = {row["pushCommunicationId"] for row in push.reconcile_evidence["candidates"]}
        assert stored == set(held.values())
    assert [w.sentence for w in dashboard_build().unknown_by_reason] == [
        "2 pushes: several Railz pushes could be theirs"
    ]

    staff = _staff_client(client, django_user_model)
    url = reverse("admin:pushes_pushrequest_change", args=[one.pk])

    def no_railz(*args, **kwargs):
        raise AssertionError("the page must not call Railz")

    with monkeypatch.context() as patched:
        patched.setattr("railzpush.railz.client.RailzClient._send", no_railz)
        page = staff.get(url).content.decode()
    for communication_id in held.values():
        assert f'data-candidate="{communication_id}"' in page
        assert f"Adopt {communication_id}" in page
    assert f'href="{reverse("admin:pushes_pushrequest_change", args=[two.pk])}"' in page
    assert "None of these: mark never received" in page

    adopt = reverse("admin:pushes_pushrequest_adopt", args=[one.pk])
    monkeypatch.setattr("pushes.services.push_requests.get_client", lambda **kw: push_client)
    staff.post(adopt, {"candidate": held["INV-P-HELD1"]})
    one = _reload(one)
    assert one.state == "pending" and one.push_communication_id == held["INV-P-HELD1"]
    decision = one.events.get(kind="note", message__contains="decided")
    assert decision.source == "staff" and "decider decided" in decision.message

    # The same candidate cannot be handed to the other push.
    page = staff.post(
        reverse("admin:pushes_pushrequest_adopt", args=[two.pk]),
        {"candidate": held["INV-P-HELD1"]},
        follow=True,
    ).content.decode()
    assert f"already belongs to push #{one.pk}" in page
    assert _reload(two).state == "unknown"

    # Railz completes both; the first is polled, the second is then the only one left.
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    push_emulator.control("complete_due")
    _settle(push_emulator)
    pushes_reconcile_unknown(client=push_client)
    assert _reload(one).state == "success"
    _adopted_with_proof(two)
    _assert_each_record_holds_its_own_id(first, second)


def test_with_automatic_requeue_off_a_push_never_received_waits_for_a_person(
    push_emulator, push_client, push_staff, enqueued, settings
):
    settings.PUSH_AUTO_REQUEUE_NOT_RECEIVED = False
    first, lost = _push("INV-P-OFF1", push_staff)
    _, failed = _push("INV-P-OFF2", push_staff)
    _lost_answer(push_emulator, push_client, lost)
    _railz_500(push_emulator, push_client, failed)
    _settle(push_emulator)

    pushes_reconcile_unknown(client=push_client)
    check = _window_end(failed)
    with time_machine.travel(check, tick=True):
        pushes_reconcile_unknown(client=push_client)
        assert [w.sentence for w in dashboard_build().unknown_by_reason] == [
            "1 push: waiting for the second check"
        ]
    later = check + timedelta(seconds=settings.PUSH_SETTLE_NOT_RECEIVED_SECONDS + 1)
    with time_machine.travel(later, tick=True):
        pushes_reconcile_unknown(client=push_client)

    failed = _reload(failed)
    assert failed.state == "unknown" and failed.reconcile_reason == "not_listed"
    assert "PUSH_AUTO_REQUEUE_NOT_RECEIVED is off" in failed.reconcile_note
    assert not PushRequest.objects.filter(retry_of=failed).exists()
    assert [w.sentence for w in dashboard_build().unknown_by_reason] == [
        "1 push: never listed by Railz; not queued again automatically"
    ]
    _adopted_with_proof(lost)
    _assert_each_record_holds_its_own_id(first)


def test_an_update_whose_provider_id_names_another_record_is_never_sent(
    push_emulator, push_client, push_staff, enqueued
):
    mine, created_mine = _push("INV-P-MINE", push_staff)
    theirs, created_theirs = _push("INV-P-THEIRS", push_staff)
    for push in (created_mine, created_theirs):
        push_request_submit(push_request_id=push.pk, client=push_client)
    _settle(push_emulator)
    _assert_each_record_holds_its_own_id(mine, theirs)
    their_id = Invoice.objects.get(pk=theirs.pk).provider_record_id
    # A wrong adoption of the past: this invoice holds the other invoice's provider id.
    Invoice.objects.filter(pk=mine.pk).update(provider_record_id=their_id)

    update = push_request_create(
        record=Invoice.objects.get(pk=mine.pk), user=push_staff, operation="update"
    )
    push_request_submit(push_request_id=update.pk, client=push_client)

    update = _reload(update)
    assert update.state == "failed"
    assert "Not sent" in update.last_error
    assert "INV-P-MINE" in update.last_error and "INV-P-THEIRS" in update.last_error
    assert their_id in update.last_error
    assert not update.events.filter(kind="exchange", method="PUT").exists()
    assert not EmuPush.objects.filter(operation="update").exists()
    body = EmuRecord.objects.get(data_type="invoices", remote_id=their_id).body
    assert json.loads(body)["invoiceNumber"] == "INV-P-THEIRS"

    # The same update with the invoice's own id goes through.
    Invoice.objects.filter(pk=mine.pk).update(
        provider_record_id=_reload(created_mine).source_object_ids[0]
    )
    again = push_request_create(
        record=Invoice.objects.get(pk=mine.pk), user=push_staff, operation="update"
    )
    push_request_submit(push_request_id=again.pk, client=push_client)
    _settle(push_emulator)
    assert _reload(again).state == "success"


def test_a_delete_whose_provider_id_names_another_record_is_never_sent(
    push_emulator, push_client, push_staff, enqueued
):
    mine, created_mine = _push("INV-P-DEL-MINE", push_staff)
    theirs, created_theirs = _push("INV-P-DEL-THEIRS", push_staff)
    for push in (created_mine, created_theirs):
        push_request_submit(push_request_id=push.pk, client=push_client)
    _settle(push_emulator)
    their_id = Invoice.objects.get(pk=theirs.pk).provider_record_id
    Invoice.objects.filter(pk=mine.pk).update(provider_record_id=their_id)

    delete = push_request_create(
        record=Invoice.objects.get(pk=mine.pk), user=push_staff, operation="delete"
    )
    push_request_submit(push_request_id=delete.pk, client=push_client)

    delete = _reload(delete)
    assert delete.state == "failed" and delete.last_error.startswith("Not sent: this delete")
    assert "INV-P-DEL-MINE" in delete.last_error and "INV-P-DEL-THEIRS" in delete.last_error
    assert not delete.events.filter(kind="exchange", method="DELETE").exists()
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-P-DEL-MINE", "INV-P-DEL-THEIRS"]
