"""Only the push service changes a push's state, by conditional UPDATEs: finished pushes never
move again, repeated or late statuses change nothing, and a queued push is sent once."""

import pytest
from django.db import IntegrityError, transaction

from pushes.models import PushEvent, PushRequest
from pushes.services.push_requests import (
    PushRefused,
    push_apply_status,
    push_request_cancel,
    push_request_create,
    push_request_submit,
)
from railzpush.railz import RailzRejected
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, status_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice():
    return ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-SM-1")


@pytest.fixture
def pending_push(invoice, push_staff):
    push = push_request_create(record=invoice, user=push_staff)
    push_request_submit(push_request_id=push.pk, client=FakePushClient())
    push.refresh_from_db()
    assert push.state == "pending"
    return push


def _fresh(push):
    return PushRequest.objects.get(pk=push.pk)


@pytest.mark.parametrize("final", ["success", "failed"])
def test_a_finished_push_ignores_every_later_status(pending_push, final):
    assert push_apply_status(
        push=pending_push, item=status_item(pending_push, final), source="poll"
    )
    for late in ("pending", "success", "failed"):
        changed = push_apply_status(
            push=_fresh(pending_push), item=status_item(pending_push, late), source="webhook"
        )
        assert not changed
    push = _fresh(pending_push)
    assert push.state == final
    assert push.events.filter(kind=PushEvent.Kind.STATE, to_state=final).count() == 1


def test_a_stale_copy_of_the_push_cannot_move_it_backwards(pending_push):
    stale = _fresh(pending_push)  # still says pending in memory
    push_apply_status(push=pending_push, item=status_item(pending_push, "success"), source="poll")
    assert not push_apply_status(push=stale, item=status_item(stale, "failed"), source="webhook")
    assert _fresh(pending_push).state == "success"


def test_success_writes_the_provider_id_on_the_record_exactly_once(pending_push, invoice):
    item = status_item(pending_push, "success", source_object_ids=["INV-77"])
    assert push_apply_status(push=pending_push, item=item, source="webhook")
    invoice.refresh_from_db()
    assert invoice.provider_record_id == "INV-77"
    assert invoice.last_pushed_hash == pending_push.payload_hash
    assert invoice.last_pushed_at is not None


def test_failed_keeps_the_accounting_systems_reasons(pending_push, invoice):
    errors = [{"field": "customerRef", "message": "Customer is inactive"}]
    push_apply_status(
        push=pending_push, item=status_item(pending_push, "failed", errors=errors), source="poll"
    )
    push = _fresh(pending_push)
    assert push.state == "failed"
    assert push.validation_errors == errors
    invoice.refresh_from_db()
    assert invoice.provider_record_id == ""


def test_a_queued_push_is_sent_once_even_if_two_workers_run_its_task(invoice, push_staff):
    push = push_request_create(record=invoice, user=push_staff)
    client = FakePushClient()
    assert push_request_submit(push_request_id=push.pk, client=client) is not None
    assert push_request_submit(push_request_id=push.pk, client=client) is None
    assert [c[0] for c in client.calls] == ["create"]
    assert _fresh(push).attempts == 1


def test_cancel_works_only_while_queued(invoice, push_staff):
    push = push_request_create(record=invoice, user=push_staff)
    stale = _fresh(push)
    assert push_request_cancel(push=push, user=push_staff)
    assert _fresh(push).state == "cancelled"
    with pytest.raises(PushRefused, match="is cancelled; only queued pushes can be cancelled"):
        push_request_cancel(push=_fresh(push), user=push_staff)
    # A copy read before the cancel still says queued: the conditional UPDATE refuses it.
    assert not push_request_cancel(push=stale, user=push_staff)
    # A cancelled push is never claimed by a worker.
    assert push_request_submit(push_request_id=push.pk, client=FakePushClient()) is None


def test_cancel_refuses_a_push_already_sent(invoice, push_staff):
    push = push_request_create(record=invoice, user=push_staff)
    read_while_queued = _fresh(push)
    push_request_submit(push_request_id=push.pk, client=FakePushClient())
    with pytest.raises(PushRefused, match="is pending; only queued pushes can be cancelled"):
        push_request_cancel(push=_fresh(push), user=push_staff)
    # A worker sent it after this copy was read: the state machine has the last word.
    assert not push_request_cancel(push=read_while_queued, user=push_staff)
    assert _fresh(push).state == "pending"


def test_a_synchronous_400_is_rejected_with_railz_messages(invoice, push_staff):
    push = push_request_create(record=invoice, user=push_staff)
    rejected = RailzRejected(
        status_code=400, messages=["postedDate must be formatted as yyyy-mm-dd"]
    )
    push_request_submit(push_request_id=push.pk, client=FakePushClient(rejected))
    push = _fresh(push)
    assert push.state == "rejected"
    assert push.response_code == 400
    assert push.validation_errors == [
        {"field": "", "message": "postedDate must be formatted as yyyy-mm-dd"}
    ]


def test_a_second_push_of_a_record_in_flight_is_refused(pending_push, invoice, push_staff):
    with pytest.raises(PushRefused, match="in progress"):
        push_request_create(record=invoice, user=push_staff, operation="update")
    assert PushRequest.objects.count() == 1


def test_the_database_itself_refuses_two_pushes_in_flight_for_one_record(pending_push):
    twin = PushRequest.objects.get(pk=pending_push.pk)
    twin.pk = None
    twin.push_communication_id = ""
    twin.state = "queued"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_a_finished_push_does_not_block_the_next_one(pending_push, invoice, push_staff):
    push_apply_status(push=pending_push, item=status_item(pending_push, "failed"), source="poll")
    again = push_request_create(record=invoice, user=push_staff)
    assert again.state == "queued" and again.operation == "create"


def test_staff_without_the_permission_cannot_push(invoice, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    with pytest.raises(PushRefused, match="permission"):
        push_request_create(record=invoice, user=viewer)
    assert not PushRequest.objects.exists()
