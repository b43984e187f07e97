"""An invoice's page shows its push state, provider id, history and a Push button (for pushers
only); a push's page shows the bodies it exchanged with Railz and buttons for only the verbs its
state allows, for pushers only."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from pushes.models import PushEvent, PushRequest
from pushes.services.push_requests import push_request_create
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]


def _user(django_user_model, name, perms):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return django_user_model.objects.get(pk=user.pk)


VIEW = ("view_invoice", "change_invoice", "view_pushrequest")


@pytest.fixture
def viewer(django_user_model):
    return _user(django_user_model, "viewer", VIEW)


@pytest.fixture
def pusher(django_user_model):
    return _user(django_user_model, "pusher2", (*VIEW, "push_records"))


def _failed(push, message="Customer is inactive"):
    PushRequest.objects.filter(pk=push.pk).update(
        state="failed", validation_errors=[{"field": "customerRef", "message": message}]
    )
    return PushRequest.objects.get(pk=push.pk)


def test_the_invoice_page_offers_push_to_pushers_only(client, viewer, pusher):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-1")
    url = reverse("admin:pushes_invoice_change", args=[invoice.pk])

    client.force_login(pusher)
    html = client.get(url).content.decode()
    assert 'id="rp-push-panel"' in html and 'data-push-button="create"' in html
    assert "will be created in quickbooks" in html
    assert reverse("pushes-invoice-push-status", args=[invoice.pk]) in html

    client.force_login(viewer)
    html = client.get(url).content.decode()
    assert 'id="rp-push-panel"' in html and "Ready to push" in html
    assert "data-push-button" not in html


def test_the_push_page_shows_bodies_state_changes_and_only_allowed_verbs(client, viewer, pusher):
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-P-2")
    push = push_request_create(record=invoice, user=pusher)
    PushEvent.objects.create(
        push_request=push,
        at=timezone.now(),
        kind="exchange",
        source="worker",
        method="POST",
        path="/v2/accounting/invoices",
        status_code=400,
        request_body={"connectionUuid": DEMO_QUICKBOOKS, "data": {"invoiceNumber": "INV-P-2"}},
        response_body={"error": {"message": ["customerRef.id should not be empty"]}},
    )
    url = reverse("admin:pushes_pushrequest_change", args=[push.pk])

    client.force_login(pusher)
    html = client.get(url).content.decode()
    assert (
        "POST /v2/accounting/invoices" in html
        and "&quot;invoiceNumber&quot;: &quot;INV-P-2&quot;" in html
    )
    assert "customerRef.id should not be empty" in html
    assert 'data-verb="cancel_queued"' in html and 'data-verb="retry_pushes"' not in html

    push = _failed(push)
    html = client.get(url).content.decode()
    assert 'data-verb="retry_pushes"' in html and 'data-verb="cancel_queued"' not in html

    client.force_login(viewer)
    assert "data-verb" not in client.get(url).content.decode()
