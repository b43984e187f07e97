"""The live pages' endpoints answer staff only: the dashboard's parts and an invoice's push
status need the view permission (a 403 in JSON otherwise, never a login page), and pushing an
invoice or running a verb on a push needs pushes.push_records, whatever the URL says."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import PushRequest
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]


def _user(django_user_model, name, *, staff=True, perms=()):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=staff)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def invoice():
    return ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-S-1")


@pytest.fixture
def viewer(django_user_model):
    return _user(django_user_model, "viewer", perms=("view_pushrequest", "view_invoice"))


@pytest.fixture
def pusher(django_user_model):
    return _user(
        django_user_model,
        "pusher2",
        perms=("view_pushrequest", "view_invoice", "change_invoice", "push_records"),
    )


def _json_urls(invoice):
    return [
        reverse("pushes-dashboard-parts"),
        reverse("pushes-invoice-push-status", args=[invoice.pk]),
    ]


def test_anonymous_and_non_staff_get_a_json_403_from_the_status_endpoints(
    client, django_user_model, invoice
):
    outsider = _user(
        django_user_model, "outsider", staff=False, perms=("view_pushrequest", "view_invoice")
    )
    for login in (None, outsider):
        if login:
            client.force_login(login)
        for url in _json_urls(invoice):
            response = client.get(url)
            assert response.status_code == 403, url
            assert response["Content-Type"] == "application/json"
            assert response.json()["error"]


def test_staff_without_the_view_permission_are_refused(client, django_user_model, invoice):
    client.force_login(_user(django_user_model, "bare"))
    for url in _json_urls(invoice):
        assert client.get(url).status_code == 403, url


def test_the_dashboard_parts_are_the_page_s_sections_as_html(client, viewer, invoice):
    client.force_login(viewer)

    response = client.get(reverse("pushes-dashboard-parts"))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert set(body["parts"]) == {"attention", "connections", "budget", "charts"}
    assert "Nothing is waiting" in body["parts"]["attention"]
    assert DEMO_QUICKBOOKS in body["parts"]["connections"]
    assert body["failuresTotal"] == 0


def test_the_invoice_status_follows_its_latest_push(client, viewer, invoice, push_staff):
    from pushes.services.push_requests import push_request_create

    client.force_login(viewer)
    url = reverse("pushes-invoice-push-status", args=[invoice.pk])
    assert client.get(url).json()["state"] == "ready"

    push = push_request_create(record=invoice, user=push_staff)
    body = client.get(url).json()
    assert (body["state"], body["pushing"]) == ("pushing", True)
    assert [(h["id"], h["state"]) for h in body["history"]] == [(push.pk, "queued")]
    assert 'data-state="queued"' in body["parts"]["history"]

    PushRequest.objects.filter(pk=push.pk).update(
        state="failed", validation_errors=[{"field": "", "message": "Customer is inactive"}]
    )
    body = client.get(url).json()
    assert (body["state"], body["label"], body["pushing"]) == ("failed", "Push failed", False)
    assert body["history"][0]["message"].startswith("Customer is inactive. Check what the record")


def test_pushing_by_url_without_the_permission_is_refused(client, viewer, invoice):
    client.force_login(viewer)
    url = reverse("pushes-invoice-push", args=[invoice.pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert not PushRequest.objects.exists()


def test_a_holder_of_the_permission_confirms_then_queues_one_push(client, pusher, invoice):
    client.force_login(pusher)
    url = reverse("pushes-invoice-push", args=[invoice.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "will be created in quickbooks" in confirm.content.decode()
    assert not PushRequest.objects.exists()

    response = client.post(url, follow=True)
    push = PushRequest.objects.get()
    assert (push.state, push.operation, push.requested_by) == ("queued", "create", pusher)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:pushes_invoice_change", args=[invoice.pk]
    )
    assert f"Push #{push.pk} queued" in response.content.decode()

    again = client.post(url, follow=True)
    assert PushRequest.objects.count() == 1
    assert "already has push" in again.content.decode()

    # The page asks for the buttons again when the state changes; they follow it.
    status = reverse("pushes-invoice-push-status", args=[invoice.pk])
    assert "actions" not in client.get(status).json()["parts"]
    actions = client.get(status, {"buttons": "1"}).json()["parts"]["actions"]
    assert "already has push" in actions and "data-push-button" not in actions
    PushRequest.objects.filter(pk=push.pk).update(state="failed")
    actions = client.get(status, {"buttons": "1"}).json()["parts"]["actions"]
    assert 'data-push-button="create"' in actions


def test_a_verb_on_a_push_runs_only_when_its_state_allows_and_for_pushers(
    client, viewer, pusher, invoice
):
    from pushes.services.push_requests import push_request_create

    push = push_request_create(record=invoice, user=pusher)
    cancel = reverse("pushes-push-verb", args=[push.pk, "cancel_queued"])
    retry = reverse("pushes-push-verb", args=[push.pk, "retry_pushes"])

    client.force_login(viewer)
    assert client.post(cancel).status_code == 403
    assert PushRequest.objects.get(pk=push.pk).state == "queued"

    client.force_login(pusher)
    assert client.get(cancel).status_code == 405
    response = client.post(retry, follow=True)
    assert "no longer applies" in response.content.decode()
    assert PushRequest.objects.count() == 1

    response = client.post(cancel, follow=True)
    assert PushRequest.objects.get(pk=push.pk).state == "cancelled"
    assert "Cancelled: 1." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse(
        "admin:pushes_pushrequest_change", args=[push.pk]
    )


def test_the_json_never_carries_more_than_the_page_shows(client, viewer, invoice):
    client.force_login(viewer)
    body = client.get(reverse("pushes-invoice-push-status", args=[invoice.pk])).json()
    assert set(body) == {
        "state",
        "label",
        "tone",
        "providerRecordId",
        "pushing",
        "history",
        "parts",
    }
    json.dumps(body)


def test_polling_an_invoice_costs_a_few_queries_whatever_its_lines(
    client, viewer, invoice, django_assert_max_num_queries
):
    client.force_login(viewer)
    url = reverse("pushes-invoice-push-status", args=[invoice.pk])
    client.get(url)  # sessions, content types and permissions are cached after this

    # session, user, permissions, the invoice with its latest push, its history, and whether
    # its connection is paused
    with django_assert_max_num_queries(7):
        assert client.get(url).status_code == 200
