"""Pushes through the API: queued from an invoice by holders of the push permission only,
followed with their timeline, and retried, refreshed, reconciled, cancelled or marked as never
received through the pipeline's services, with 409 whenever the push's state does not allow
it."""

import pytest
from django.utils import timezone

from pushes.models import Invoice, PushEvent, PushRequest
from railzpush.railz import RailzServerError
from tests.fixtures.api import *  # noqa: F403
from tests.test_api_invoices import INVOICES, draft_body

PUSHES = "/api/v1/pushes/"


@pytest.fixture
def ready_invoice(api, api_refs):
    response = api.post(INVOICES, draft_body(api_refs, status="ready"), format="json")
    assert response.status_code == 201, response.json()
    return Invoice.objects.get(pk=response.json()["id"])


@pytest.fixture
def pusher(api_as, api_pusher):
    return api_as(api_pusher)


@pytest.fixture
def railz_status(monkeypatch):
    """What Railz's pushStatus answers (a list of items, or an error to raise)."""
    from pushes.services import push_requests

    answer = {"items": [], "calls": 0}

    class FakeClient:
        def push_status(self, *, connection_uuid, **kwargs):
            answer["calls"] += 1
            if isinstance(answer["items"], Exception):
                raise answer["items"]
            return {"data": answer["items"]}

    monkeypatch.setattr(push_requests, "get_client", lambda **kwargs: FakeClient())
    return answer


def push_of(invoice, pusher, path="push"):
    return pusher.post(f"{INVOICES}{invoice.pk}/{path}/")


def states(**fields):
    return list(PushRequest.objects.order_by("pk").values_list(*fields or ["state"], flat=True))


def test_pushing_needs_staff_and_the_push_permission(
    anonymous_api, api_as, api_user, api, ready_invoice
):
    assert push_of(ready_invoice, anonymous_api).status_code == 401
    assert push_of(ready_invoice, api_as(api_user)).status_code == 403
    refused = push_of(ready_invoice, api)
    assert refused.status_code == 403
    assert "push records" in refused.json()["errors"][0]["message"]
    assert not PushRequest.objects.exists()


def test_a_push_is_queued_and_answered_202_with_where_to_follow_it(pusher, ready_invoice):
    response = push_of(ready_invoice, pusher)
    assert response.status_code == 202, response.json()
    push = PushRequest.objects.get()
    assert response["Location"] == f"{PUSHES}{push.pk}/"
    body = response.json()
    assert (body["id"], body["state"], body["operation"]) == (push.pk, "queued", "create")
    assert (body["record_type"], body["record_id"]) == ("invoice", ready_invoice.pk)
    assert body["source"] == "api"
    assert body["requested_by"] == "pusher"
    assert push.body["data"]["invoiceNumber"] == "INV-1001"


def test_a_second_push_while_one_is_in_flight_is_409(pusher, ready_invoice):
    assert push_of(ready_invoice, pusher).status_code == 202
    response = push_of(ready_invoice, pusher)
    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["rule"] == "pushInFlight"
    assert "in progress" in error["message"]
    assert states() == ["queued"]


def test_a_draft_is_not_pushed(pusher, api, api_refs):
    draft = api.post(INVOICES, draft_body(api_refs), format="json").json()
    response = pusher.post(f"{INVOICES}{draft['id']}/push/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["rule"] == "pushRefused"
    assert "draft" in response.json()["errors"][0]["message"]
    assert not PushRequest.objects.exists()


def test_an_invalid_ready_invoice_is_refused_with_its_field_problems(pusher, ready_invoice):
    Invoice.objects.filter(pk=ready_invoice.pk).update(customer=None)
    response = push_of(ready_invoice, pusher)
    assert response.status_code == 400
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        ("customerRef", "required")
    ]
    assert not PushRequest.objects.exists()


def test_push_update_of_an_invoice_never_pushed_is_409(pusher, ready_invoice):
    response = push_of(ready_invoice, pusher, "push-update")
    assert response.status_code == 409
    assert "push it first" in response.json()["errors"][0]["message"]


def test_push_update_queues_an_update_of_a_pushed_invoice(pusher, ready_invoice):
    Invoice.objects.filter(pk=ready_invoice.pk).update(
        provider_record_id="xero-77", last_pushed_at=timezone.now(), last_pushed_hash="old"
    )
    response = push_of(ready_invoice, pusher, "push-update")
    assert response.status_code == 202, response.json()
    assert response.json()["operation"] == "update"
    assert response.json()["provider_record_id"] == "xero-77"


def test_a_retried_push_with_its_key_queues_one_push(pusher, ready_invoice):
    headers = {"Idempotency-Key": "push-inv-1001"}
    first = pusher.post(f"{INVOICES}{ready_invoice.pk}/push/", headers=headers)
    again = pusher.post(f"{INVOICES}{ready_invoice.pk}/push/", headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PushRequest.objects.count() == 1


def test_pushes_are_listed_newest_first_by_cursor_and_filtered(
    pusher, api, api_refs, django_assert_num_queries
):
    invoices = []
    for n in range(5):
        body = draft_body(api_refs, status="ready", invoice_number=f"P-{n}")
        invoices.append(api.post(INVOICES, body, format="json").json()["id"])
        assert pusher.post(f"{INVOICES}{invoices[-1]}/push/").status_code == 202
    newest_first = list(
        PushRequest.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)
    )
    PushRequest.objects.filter(pk=newest_first[0]).update(state="pending")

    page = api.get(PUSHES, {"page_size": 2}).json()
    assert [row["id"] for row in page["results"]] == newest_first[:2]
    assert "count" not in page
    second = api.get(page["next"]).json()
    assert [row["id"] for row in second["results"]] == newest_first[2:4]

    def listed(**params):
        return [row["id"] for row in api.get(PUSHES, params).json()["results"]]

    assert listed(state="pending") == newest_first[:1]
    assert listed(state=["queued", "pending"]) == newest_first
    assert listed(connection=api_refs.connection.connection_uuid) == newest_first
    assert listed(connection=api_refs.other.connection.pk) == []
    assert listed(data_type="invoices", invoice=invoices[0]) == newest_first[-1:]
    today = timezone.now().date().isoformat()
    assert listed(created_after=today, created_before=today) == newest_first
    assert listed(created_after="2099-01-01") == []
    bad = api.get(PUSHES, {"state": "sleeping"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "state"

    for size in (1, 5):
        # token + the user's permissions and its groups' + page (no COUNT with cursors)
        with django_assert_num_queries(4):
            assert len(api.get(PUSHES, {"page_size": size}).json()["results"]) == size


def test_a_push_is_retrieved_with_its_timeline(pusher, api, ready_invoice):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    response = api.get(f"{PUSHES}{push_id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["body"]["connectionUuid"] == ready_invoice.connection.connection_uuid
    [event] = body["events"]
    assert (event["kind"], event["to_state"], event["source"]) == ("state", "queued", "api")
    assert api.get(f"{PUSHES}999999/").status_code == 404


def test_push_actions_need_the_push_permission(anonymous_api, api, pusher, ready_invoice):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    for verb in ("retry", "refresh", "reconcile", "cancel", "never-received"):
        assert anonymous_api.post(f"{PUSHES}{push_id}/{verb}/").status_code == 401
        assert api.post(f"{PUSHES}{push_id}/{verb}/").status_code == 403
    assert states() == ["queued"]


def test_cancel_stops_a_queued_push_once(pusher, ready_invoice):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    response = pusher.post(f"{PUSHES}{push_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["events"][-1]["to_state"] == "cancelled"
    again = pusher.post(f"{PUSHES}{push_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["rule"] == "pushNotCancellable"


def test_retry_makes_a_new_attempt_of_a_push_that_did_not_succeed(pusher, ready_invoice):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    refused = pusher.post(f"{PUSHES}{push_id}/retry/")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["rule"] == "pushNotRetryable"

    PushRequest.objects.filter(pk=push_id).update(state="failed")
    response = pusher.post(f"{PUSHES}{push_id}/retry/")
    assert response.status_code == 201, response.json()
    assert response.json()["retry_of"] == push_id
    assert response.json()["state"] == "queued"
    assert states() == ["failed", "queued"]


def test_refresh_asks_railz_about_a_pending_push(pusher, ready_invoice, railz_status):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    not_pending = pusher.post(f"{PUSHES}{push_id}/refresh/")
    assert not_pending.status_code == 409
    assert railz_status["calls"] == 0

    PushRequest.objects.filter(pk=push_id).update(state="pending", push_communication_id="PC-1")
    railz_status["items"] = [
        {
            "pushCommunicationId": "PC-1",
            "status": "success",
            "dataType": "invoices",
            "sourceObjectIds": ["xero-inv-9"],
            "completedOn": "2026-11-22T04:00:00.000Z",
        }
    ]
    response = pusher.post(f"{PUSHES}{push_id}/refresh/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "success"
    assert response.json()["source_object_ids"] == ["xero-inv-9"]
    assert [e["source"] for e in response.json()["events"]][-1] == "api"
    ready_invoice.refresh_from_db()
    assert ready_invoice.provider_record_id == "xero-inv-9"


def test_refresh_when_railz_fails_is_502_and_changes_nothing(pusher, ready_invoice, railz_status):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    PushRequest.objects.filter(pk=push_id).update(state="pending", push_communication_id="PC-2")
    railz_status["items"] = RailzServerError(status_code=503)
    response = pusher.post(f"{PUSHES}{push_id}/refresh/")
    assert response.status_code == 502
    assert response.json()["errors"][0]["rule"] == "railzUnavailable"
    assert states() == ["pending"]


def test_reconcile_settles_an_unknown_push_from_railzs_list(pusher, ready_invoice, railz_status):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    assert pusher.post(f"{PUSHES}{push_id}/reconcile/").status_code == 409

    sent_at = timezone.now()
    PushRequest.objects.filter(pk=push_id).update(state="unknown", sent_at=sent_at)
    railz_status["items"] = [
        {
            "pushCommunicationId": "PC-LOST",
            "status": "pending",
            "dataType": "invoices",
            "requestedOn": sent_at.isoformat(),
        }
    ]
    response = pusher.post(f"{PUSHES}{push_id}/reconcile/")
    assert response.status_code == 200, response.json()
    assert "adopted" in response.json()["outcome"]
    assert response.json()["push"]["state"] == "pending"
    assert response.json()["push"]["push_communication_id"] == "PC-LOST"


def test_never_received_settles_an_unknown_push_as_failed_so_it_can_be_retried(
    pusher, ready_invoice
):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    queued = pusher.post(f"{PUSHES}{push_id}/never-received/")
    assert queued.status_code == 409
    [error] = queued.json()["errors"]
    assert error["rule"] == "pushNotUnknown"
    assert "only pushes whose outcome is unknown" in error["message"]
    assert states() == ["queued"]

    PushRequest.objects.filter(pk=push_id).update(state="unknown", sent_at=timezone.now())
    response = pusher.post(f"{PUSHES}{push_id}/never-received/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "failed" and body["completed_on"]
    last = body["events"][-1]
    assert (last["from_state"], last["to_state"]) == ("unknown", "failed")
    assert "pusher checked the accounting system" in last["message"]

    again = pusher.post(f"{PUSHES}{push_id}/never-received/")
    assert again.status_code == 409 and again.json()["errors"][0]["rule"] == "pushNotUnknown"
    assert pusher.post(f"{PUSHES}{push_id}/retry/").status_code == 201


def test_an_invoice_with_a_push_in_flight_or_behind_it_is_not_deleted(api, pusher, ready_invoice):
    push_id = push_of(ready_invoice, pusher).json()["id"]
    response = api.delete(f"{INVOICES}{ready_invoice.pk}/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["rule"] == "pushInFlight"
    PushRequest.objects.filter(pk=push_id).update(state="failed")
    response = api.delete(f"{INVOICES}{ready_invoice.pk}/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["rule"] == "invoicePushed"
    assert Invoice.objects.filter(pk=ready_invoice.pk).exists()
    assert PushEvent.objects.filter(push_request_id=push_id).exists()
