"""Delete from the accounting system: one more push through the same pipeline. It is allowed
only for a record created there, through an active connection, with no push in flight and a
provider Railz can delete from; the record's content does not matter. Once the delete
succeeds the record forgets its provider id, and a later Push creates it again."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import Invoice, PushEvent, PushRequest, WebhookEvent
from pushes.push_selectors import push_plan_for, push_retry_plan
from pushes.services.push_requests import (
    PushRefused,
    push_request_create,
    push_request_retry,
    push_request_submit,
)
from pushes.services.reconcile import pushes_reconcile_unknown
from pushes.tasks import webhook_event_apply_task
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_OLD_MILL, DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, no_longer_listed, ready_invoice

CHANGELIST = "admin:pushes_invoice_changelist"
INVOICES = "/api/v1/invoices/"


def _created(invoice, provider_record_id="4711"):
    """The invoice as if an earlier push had created it in the accounting system."""
    Invoice.objects.filter(pk=invoice.pk).update(
        provider_record_id=provider_record_id,
        last_pushed_hash=invoice.payload_hash,
        last_pushed_at="2025-03-04T10:00:00Z",
    )
    invoice.refresh_from_db()
    return invoice


def _with_invoice_access(user):
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_invoice", "change_invoice"])
    )
    return type(user).objects.get(pk=user.pk)


# --- what the plan allows ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_record_created_in_the_accounting_system_can_be_deleted(push_staff):
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-1"))
    plan = push_plan_for(record=invoice, operation="delete", user=push_staff)
    assert plan.operation == "delete"
    assert plan.reason.endswith("will be deleted from quickbooks (id 4711).")

    push = push_request_create(record=invoice, user=push_staff, operation="delete")
    assert (push.operation, push.provider_record_id, push.state) == ("delete", "4711", "queued")
    # A DELETE carries no data: only the connection, and no hash to write back to the record.
    assert push.body == {"connectionUuid": DEMO_QUICKBOOKS}
    assert push.payload_hash == ""
    [event] = push.events.all()
    assert "will be deleted from quickbooks" in event.message


@pytest.mark.django_db
def test_a_draft_or_invalid_record_can_still_be_deleted(push_staff):
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-2"))
    Invoice.objects.filter(pk=invoice.pk).update(status="draft", customer=None)
    invoice.refresh_from_db()
    assert push_plan_for(record=invoice, user=push_staff).refused  # it cannot be pushed...
    plan = push_plan_for(record=invoice, operation="delete", user=push_staff)
    assert plan.operation == "delete"  # ...but it can be taken out of the accounting system


@pytest.mark.django_db
def test_a_record_never_created_has_nothing_to_delete(push_staff):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-3")
    plan = push_plan_for(record=invoice, operation="delete", user=push_staff)
    assert plan.refused
    assert plan.reason.endswith(
        "has not been created in quickbooks yet; there is nothing to delete."
    )
    with pytest.raises(PushRefused, match="nothing to delete"):
        push_request_create(record=invoice, user=push_staff, operation="delete")
    assert not PushRequest.objects.exists()


@pytest.mark.django_db
def test_a_provider_railz_cannot_delete_from_is_refused(push_staff):
    invoice = _created(ready_invoice(connection_uuid=DEMO_NETSUITE, number="DEL-4"), "ns-88")
    plan = push_plan_for(record=invoice, operation="delete", user=push_staff)
    assert plan.refused
    assert plan.reason.endswith("Railz cannot delete invoices in oracleNetsuite.")
    assert "(id ns-88)" in plan.reason


@pytest.mark.django_db
def test_a_delete_needs_an_active_connection_and_no_push_in_flight(push_staff):
    removed = no_longer_listed(
        _created(ready_invoice(connection_uuid=DEMO_OLD_MILL, number="DEL-5"))
    )
    plan = push_plan_for(record=removed, operation="delete", user=push_staff)
    assert plan.refused and "can only be deleted through an active connection" in plan.reason

    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-6"))
    first = push_request_create(record=invoice, user=push_staff, operation="delete")
    plan = push_plan_for(record=invoice, operation="delete", user=push_staff)
    assert plan.refused and f"already has push #{first.pk} in progress" in plan.reason
    with pytest.raises(PushRefused, match="in progress"):
        push_request_create(record=invoice, user=push_staff, operation="delete")
    assert PushRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_delete_needs_the_push_permission(django_user_model):
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-7"))
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    plan = push_plan_for(record=invoice, operation="delete", user=viewer)
    assert plan.refused and plan.reason == "You do not have permission to push records."


@pytest.mark.django_db
def test_a_failed_delete_is_retried_as_a_delete(push_staff):
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-8"))
    first = push_request_create(record=invoice, user=push_staff, operation="delete")
    PushRequest.objects.filter(pk=first.pk).update(state="failed")
    first.refresh_from_db()
    assert "will be deleted from quickbooks" in push_retry_plan(push=first, user=push_staff).reason
    again = push_request_retry(push=first, user=push_staff)
    assert (again.operation, again.provider_record_id, again.retry_of_id) == (
        "delete",
        "4711",
        first.pk,
    )


# --- end to end against the emulator ----------------------------------------------------------


def _apply_stored_webhooks():
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


def _send(push, emulator, client):
    push_request_submit(push_request_id=push.pk, client=client)
    emulator.wait_for_webhooks()
    _apply_stored_webhooks()
    push.refresh_from_db()
    return push


@pytest.mark.django_db(transaction=True)
def test_a_deleted_invoice_leaves_the_accounting_system_and_can_be_pushed_again(
    push_emulator, push_client, push_staff
):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-DEL-E2E")
    created = _send(
        push_request_create(record=invoice, user=push_staff), push_emulator, push_client
    )
    assert created.state == "success"
    invoice.refresh_from_db()
    provider_id = invoice.provider_record_id
    assert provider_id and emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-DEL-E2E"]

    deleted = _send(
        push_request_create(record=invoice, user=push_staff, operation="delete"),
        push_emulator,
        push_client,
    )
    assert (deleted.state, deleted.operation, deleted.provider_record_id) == (
        "success",
        "delete",
        provider_id,
    )
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []
    exchange = deleted.events.get(kind=PushEvent.Kind.EXCHANGE, method="DELETE")
    assert exchange.path == f"/v2/accounting/invoices/{provider_id}"
    assert exchange.status_code == 200
    states = list(
        deleted.events.filter(kind=PushEvent.Kind.STATE).values_list("to_state", flat=True)
    )
    assert states == ["queued", "submitting", "pending", "success"]
    assert "deleted it" in deleted.events.get(to_state="success").message

    invoice.refresh_from_db()
    assert invoice.provider_record_id == "" and invoice.last_pushed_hash == ""
    # Nothing left to delete; pushing creates it again, under a new id.
    assert push_plan_for(record=invoice, operation="delete").refused
    again = _send(push_request_create(record=invoice, user=push_staff), push_emulator, push_client)
    assert (again.operation, again.state) == ("create", "success")
    invoice.refresh_from_db()
    assert invoice.provider_record_id and invoice.provider_record_id != provider_id
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == ["INV-DEL-E2E"]


@pytest.mark.django_db(transaction=True)
def test_a_delete_whose_answer_was_lost_is_adopted_from_railzs_delete_status(
    push_emulator, push_client, push_staff, monkeypatch
):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-DEL-LOST")
    _send(push_request_create(record=invoice, user=push_staff), push_emulator, push_client)
    invoice.refresh_from_db()

    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")
    push = push_request_create(record=invoice, user=push_staff, operation="delete")
    push_request_submit(push_request_id=push.pk, client=push_client)
    push.refresh_from_db()
    assert push.state == "unknown"
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    push_emulator.wait_for_webhooks()

    # Railz lists deletes apart (deleteStatus): that is where this one is found, not resent.
    pushes_reconcile_unknown(client=push_client)
    push.refresh_from_db()
    assert push.state == "success" and push.push_communication_id
    assert push.events.filter(kind="note", message__startswith="Reconciled").exists()
    assert push.events.filter(kind=PushEvent.Kind.EXCHANGE, method="DELETE").count() == 1
    assert emulator_invoice_numbers(DEMO_QUICKBOOKS) == []
    invoice.refresh_from_db()
    assert invoice.provider_record_id == ""


# --- the admin and the invoice page -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("push_plain_static")
def test_the_bulk_action_shows_each_outcome_first_then_queues_the_deletes(client, push_staff):
    staff = _with_invoice_access(push_staff)
    created = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-ADM-1"))
    never = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-ADM-2")
    client.force_login(staff)
    selection = {"action": "push_delete_action", "_selected_action": [created.pk, never.pk]}

    confirm = client.post(reverse(CHANGELIST), selection)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "1 of 2 selected records will be deleted from the accounting system" in page
    assert "will be deleted from quickbooks (id 4711)" in page
    assert "there is nothing to delete" in page
    assert "Delete 1 record" in page
    assert not PushRequest.objects.exists()  # nothing happens before confirming

    done = client.post(reverse(CHANGELIST), {**selection, "confirm": "yes"}, follow=True)
    assert list(PushRequest.objects.values_list("object_id", "operation")) == [
        (created.pk, "delete")
    ]
    texts = [str(m) for m in done.context["messages"]]
    assert "Queued 1 delete(s) from the accounting system: 1." in texts
    assert any("Skipped 1:" in t and "nothing to delete" in t for t in texts)


@pytest.mark.django_db
@pytest.mark.usefixtures("push_plain_static")
def test_staff_without_the_permission_get_no_delete_action(client, django_user_model):
    viewer = _with_invoice_access(
        django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    )
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-ADM-3"))
    client.force_login(viewer)
    assert "push_delete_action" not in client.get(reverse(CHANGELIST)).content.decode()
    client.post(
        reverse(CHANGELIST),
        {"action": "push_delete_action", "_selected_action": [invoice.pk], "confirm": "yes"},
    )
    html = client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk])).content.decode()
    assert 'data-push-button="delete"' not in html
    assert not PushRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("push_plain_static")
def test_the_invoice_page_offers_delete_only_when_it_can_be_done(client, push_staff):
    staff = _with_invoice_access(push_staff)
    client.force_login(staff)
    never = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-PG-1")
    html = client.get(reverse("admin:pushes_invoice_change", args=[never.pk])).content.decode()
    assert 'data-push-button="create"' in html and 'data-push-button="delete"' not in html

    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-PG-2"))
    html = client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk])).content.decode()
    assert 'data-push-button="update"' in html and 'data-push-button="delete"' in html
    assert "will be deleted from quickbooks (id 4711)" in html

    confirm_url = reverse("pushes-invoice-push", args=[invoice.pk]) + "?operation=delete"
    page = client.get(confirm_url).content.decode()
    assert "Delete from the accounting system" in page and "Confirm: delete now" in page
    assert not PushRequest.objects.exists()
    done = client.post(confirm_url, follow=True)
    push = PushRequest.objects.get()
    assert (push.operation, push.provider_record_id) == ("delete", "4711")
    assert [str(m) for m in done.context["messages"]] == [
        f"Push #{push.pk} queued (delete); its state updates on this page."
    ]
    # While it is in flight neither Push update nor Delete is offered again.
    html = client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk])).content.decode()
    assert 'data-push-button="delete"' not in html and "in progress" in html


# --- the REST API -----------------------------------------------------------------------------


@pytest.fixture
def api_pushing(api_as, push_staff):
    # The API, like the admin, shows invoices only to staff with the permission to view them.
    return api_as(_with_invoice_access(push_staff))


@pytest.mark.django_db
def test_the_api_queues_a_delete_and_answers_202_with_where_to_follow_it(api_pushing):
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-API-1"))
    Invoice.objects.filter(pk=invoice.pk).update(status="draft", customer=None)
    response = api_pushing.post(f"{INVOICES}{invoice.pk}/push-delete/")
    assert response.status_code == 202, response.json()
    push = PushRequest.objects.get()
    assert response["Location"] == f"/api/v1/pushes/{push.pk}/"
    body = response.json()
    assert (body["operation"], body["state"], body["provider_record_id"]) == (
        "delete",
        "queued",
        "4711",
    )
    assert body["source"] == "api"

    again = api_pushing.post(f"{INVOICES}{invoice.pk}/push-delete/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["rule"] == "pushInFlight"
    assert PushRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_api_refuses_a_delete_with_nothing_to_delete_or_no_permission(
    api_pushing, api_as, api_staff
):
    never = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-API-2")
    response = api_pushing.post(f"{INVOICES}{never.pk}/push-delete/")
    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["rule"] == "pushRefused" and "nothing to delete" in error["message"]

    netsuite = _created(ready_invoice(connection_uuid=DEMO_NETSUITE, number="DEL-API-3"))
    response = api_pushing.post(f"{INVOICES}{netsuite.pk}/push-delete/")
    assert response.status_code == 409
    assert "Railz cannot delete invoices in oracleNetsuite" in json.dumps(response.json())

    created = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-API-4"))
    assert api_as(api_staff).post(f"{INVOICES}{created.pk}/push-delete/").status_code == 403
    assert not PushRequest.objects.exists()


@pytest.mark.django_db
def test_an_api_delete_sent_again_with_its_key_queues_one_delete(api_pushing):
    invoice = _created(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="DEL-API-5"))
    headers = {"Idempotency-Key": "delete-del-api-5"}
    first = api_pushing.post(f"{INVOICES}{invoice.pk}/push-delete/", headers=headers)
    again = api_pushing.post(f"{INVOICES}{invoice.pk}/push-delete/", headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert PushRequest.objects.count() == 1
