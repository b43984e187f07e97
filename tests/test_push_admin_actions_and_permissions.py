"""Staff see every push with its timeline, body and reasons in plain words; only holders of
pushes.push_records see and run the actions, each reporting, once confirmed, what it did and
skipped."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import PushRequest
from pushes.services.push_requests import (
    push_apply_status,
    push_request_create,
    push_request_submit,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, status_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]

CHANGELIST = "admin:pushes_pushrequest_changelist"


@pytest.fixture
def admin_pusher(push_staff):
    push_staff.user_permissions.add(Permission.objects.get(codename="view_pushrequest"))
    return type(push_staff).objects.get(pk=push_staff.pk)


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_pushrequest"))
    return user


def _failed_push(user, number="INV-A-1"):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
    push = push_request_create(record=invoice, user=user)
    push_request_submit(push_request_id=push.pk, client=FakePushClient())
    push = PushRequest.objects.get(pk=push.pk)
    errors = [{"field": "customerRef", "message": "Customer is inactive"}]
    push_apply_status(push=push, item=status_item(push, "failed", errors=errors), source="poll")
    return PushRequest.objects.get(pk=push.pk)


def _act(client, action, pushes):
    """Choose the action and confirm it on its confirmation page."""
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [p.pk for p in pushes], "confirm": "yes"},
        follow=True,
    )


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_staff_without_the_permission_see_pushes_but_no_actions(client, viewer, push_staff):
    push = _failed_push(push_staff)
    client.force_login(viewer)
    changelist = client.get(reverse(CHANGELIST))
    assert changelist.status_code == 200
    assert "retry_pushes" not in changelist.content.decode()

    _act(client, "retry_pushes", [push])
    assert PushRequest.objects.count() == 1  # the action was refused

    page = client.get(reverse("admin:pushes_pushrequest_change", args=[push.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Customer is inactive. Choose another customer" in text  # the reason, in words
    assert "INV-A-1" in text  # the body sent
    assert "pending → failed" in text  # the timeline


def test_retry_makes_a_new_attempt_linked_to_the_old_one(client, admin_pusher):
    push = _failed_push(admin_pusher)
    client.force_login(admin_pusher)
    response = _act(client, "retry_pushes", [push])
    retry = PushRequest.objects.exclude(pk=push.pk).get()
    assert retry.retry_of == push and retry.state == "queued"
    assert "Retried: 1." in _messages(response)


def test_retry_is_refused_while_an_attempt_is_pending(client, admin_pusher):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-2")
    push = push_request_create(record=invoice, user=admin_pusher)
    push_request_submit(push_request_id=push.pk, client=FakePushClient())
    client.force_login(admin_pusher)
    response = _act(client, "retry_pushes", [push])
    assert PushRequest.objects.count() == 1
    text = " ".join(_messages(response))
    assert "Retried: none." in text and "still pending" in text


def test_cancel_queued_reports_what_it_cancelled_and_skipped(client, admin_pusher):
    queued = push_request_create(
        record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-3"),
        user=admin_pusher,
    )
    failed = _failed_push(admin_pusher, number="INV-A-4")
    client.force_login(admin_pusher)
    response = _act(client, "cancel_queued", [queued, failed])
    assert PushRequest.objects.get(pk=queued.pk).state == "cancelled"
    assert PushRequest.objects.get(pk=failed.pk).state == "failed"
    text = " ".join(_messages(response))
    assert "Cancelled: 1." in text and f"#{failed.pk} is failed" in text


def test_the_history_cannot_be_edited_or_deleted(client, admin_pusher):
    push = _failed_push(admin_pusher)
    client.force_login(admin_pusher)
    page = client.get(reverse("admin:pushes_pushrequest_change", args=[push.pk]))
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:pushes_pushrequest_delete", args=[push.pk])).status_code == 403
