"""A payment whose invoice's push failed or was cancelled is held: still queued and never sent,
it says why in the push list, on its page and in the API, and waits for a person. Released,
it goes at once if the invoice got into the accounting system meanwhile, or waits for the
invoice to be pushed again; it can be cancelled instead. The running totals count it as queued
throughout, so nothing else about the state machine changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pushes.models import PushHourCount, PushRequest
from pushes.push_counts import counts_rebuild
from pushes.services.open_documents import push_request_release
from pushes.services.push_requests import (
    PushRefused,
    push_request_cancel,
    push_request_create,
)
from tests.factories import (
    invoice_plain_static,  # noqa: F401
)
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.pushes import *  # noqa: F403
from tests.types.payments.test_a_payment_waits_for_its_documents_push_and_takes_the_amount_due import (  # noqa: E501
    paying_an_invoice_on_its_way,
    settle,
)

pytestmark = pytest.mark.django_db

State = PushRequest.State


@pytest.fixture(autouse=True)
def no_queue(enqueued):
    """Nothing here runs a task: each test reads what was enqueued."""
    return enqueued


@pytest.fixture
def held(api_pusher):
    """An invoice composed here whose push failed, and the payment of it, held."""
    invoice, invoice_push, _, _, payment_push = paying_an_invoice_on_its_way(api_pusher)
    settle(
        invoice_push, "failed", errors=[{"field": "customerRef", "message": "Customer inactive"}]
    )
    payment_push.refresh_from_db()
    return invoice, payment_push


def _counted(column: str) -> int:
    return sum(PushHourCount.objects.filter(column=column).values_list("count", flat=True))


def test_the_held_payment_says_why_in_the_api_the_list_and_its_page(
    held,
    api_as,
    api_pusher,
    admin_client,
    invoice_plain_static,  # noqa: F811
):
    _invoice, push = held

    assert push.state == State.QUEUED and push.next_attempt_at is None
    assert push.held_reason.startswith("Held: the push of INV-77 failed")
    assert "Customer inactive" in push.held_reason
    api = api_as(api_pusher).get(f"/api/v1/pushes/{push.pk}/").json()
    assert api["state"] == "queued" and api["held_reason"] == push.held_reason
    listed = admin_client.get(reverse("admin:pushes_pushrequest_changelist")).content.decode()
    assert "Held (a document it pays did not get there)" in listed
    assert "Held: the push of INV-77 failed" in listed
    page = admin_client.get(
        reverse("admin:pushes_pushrequest_change", args=[push.pk])
    ).content.decode()
    assert "Release it or cancel it." in page and "Release" in page


def test_held_payments_are_found_by_their_filters_and_on_the_dashboard(
    held,
    api_as,
    api_pusher,
    admin_client,
    invoice_plain_static,  # noqa: F811
):
    _invoice, push = held
    from django.utils import timezone

    from pushes.dashboard import pushes_needing_person

    api = api_as(api_pusher)
    found = api.get("/api/v1/pushes/", {"held": "true"}).json()["results"]
    others = api.get("/api/v1/pushes/", {"held": "false"}).json()["results"]
    assert [p["id"] for p in found] == [push.pk]
    assert push.pk not in [p["id"] for p in others]
    listed = admin_client.get(
        reverse("admin:pushes_pushrequest_changelist"), {"attention": "held"}
    ).content.decode()
    assert f"/admin/pushes/pushrequest/{push.pk}/change/" in listed
    failures, _total = pushes_needing_person(now=timezone.now())
    held_there = [f for f in failures if f.push.pk == push.pk]
    assert held_there and held_there[0].badge.key == "held"
    assert held_there[0].message.startswith("Held: the push of INV-77 failed")


def test_pushing_the_invoice_again_does_not_send_a_held_payment(held, api_pusher, no_queue):
    invoice, push = held
    again = push_request_create(record=invoice, user=api_pusher)
    no_queue.clear()

    settle(again, "success", ids=["INV-ID-2"])

    push.refresh_from_db()
    assert push.held_reason and push.next_attempt_at is None
    assert no_queue == []


def test_released_after_the_invoice_got_there_it_is_sent_with_the_real_id(
    held, api_pusher, no_queue, django_capture_on_commit_callbacks
):
    invoice, push = held
    settle(push_request_create(record=invoice, user=api_pusher), "success", ids=["INV-ID-2"])
    no_queue.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert push_request_release(push=push, user=api_pusher)

    push.refresh_from_db()
    assert push.held_reason == "" and push.next_attempt_at is not None
    assert push.body["data"]["lines"][0]["links"] == [{"type": "invoice", "id": "INV-ID-2"}]
    assert len(no_queue) == 1
    assert "Released by pusher" in push.events.order_by("-pk")[0].message


def test_released_before_it_waits_for_the_invoice_pushed_again(held, api_pusher):
    invoice, push = held

    assert push_request_release(push=push, user=api_pusher)
    push.refresh_from_db()
    assert push.held_reason == "" and push.next_attempt_at is None
    assert "waits for INV-77" in push.events.order_by("-pk")[0].message

    settle(push_request_create(record=invoice, user=api_pusher), "success", ids=["INV-ID-3"])

    push.refresh_from_db()
    assert push.next_attempt_at is not None
    assert push.body["data"]["lines"][0]["links"] == [{"type": "invoice", "id": "INV-ID-3"}]


def test_a_held_payment_can_be_cancelled_and_counts_stay_right(held, api_pusher):
    _invoice, push = held
    before = (_counted("in_flight"), _counted("cancelled"))

    assert push_request_cancel(push=push, user=api_pusher)

    push.refresh_from_db()
    assert push.state == State.CANCELLED
    after = (_counted("in_flight"), _counted("cancelled"))
    assert after == (before[0] - 1, before[1] + 1)
    counts_rebuild()
    assert (_counted("in_flight"), _counted("cancelled")) == after


def test_only_a_held_push_is_released(held, api_pusher, api_as):
    _invoice, push = held
    push_request_release(push=push, user=api_pusher)

    with pytest.raises(PushRefused, match="not held"):
        push_request_release(push=push, user=api_pusher)
    answer = api_as(api_pusher).post(f"/api/v1/pushes/{push.pk}/release/")
    assert answer.status_code == 409
    [error] = answer.json()["errors"]
    assert error["rule"] == "pushNotHeld" and "not held" in error["message"]
