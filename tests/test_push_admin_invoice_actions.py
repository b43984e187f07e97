"""Push and Push update on the invoice list: a confirmation page says what will happen to each
selected invoice (create, update, or refused and why) before anything is queued; staff without
pushes.push_records never see the actions."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import PushRequest
from tests.fixtures.emulator import DEMO_OLD_MILL, DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import no_longer_listed, ready_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]

CHANGELIST = "admin:pushes_invoice_changelist"


def _with_invoice_access(user):
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_invoice", "change_invoice"])
    )
    return type(user).objects.get(pk=user.pk)


def test_push_shows_what_will_happen_then_queues_only_what_can_go(client, push_staff):
    staff = _with_invoice_access(push_staff)
    good = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-ADM-1")
    stuck = no_longer_listed(ready_invoice(connection_uuid=DEMO_OLD_MILL, number="INV-ADM-2"))
    client.force_login(staff)
    selection = {"action": "push_records_action", "_selected_action": [good.pk, stuck.pk]}

    confirm = client.post(reverse(CHANGELIST), selection)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "1 of 2 selected records will be pushed" in page
    assert "will be created in quickbooks" in page
    assert "only be pushed through an active connection" in page
    assert not PushRequest.objects.exists()  # nothing happens before confirming

    done = client.post(reverse(CHANGELIST), {**selection, "confirm": "yes"}, follow=True)
    assert list(PushRequest.objects.values_list("object_id", "operation")) == [(good.pk, "create")]
    texts = [str(m) for m in done.context["messages"]]
    assert "Queued 1 push(es) (1 create, 0 update): 1." in texts
    assert any("Skipped 1:" in t and "active connection" in t for t in texts)


def test_push_update_refuses_invoices_never_created(client, push_staff):
    staff = _with_invoice_access(push_staff)
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-ADM-3")
    client.force_login(staff)
    confirm = client.post(
        reverse(CHANGELIST),
        {"action": "push_update_action", "_selected_action": [invoice.pk]},
    )
    assert "has not been created in quickbooks yet" in confirm.content.decode()
    assert "disabled" in confirm.content.decode()  # nothing to push: the button is off


def test_staff_without_the_permission_do_not_get_the_push_actions(client, django_user_model):
    viewer = _with_invoice_access(
        django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    )
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-ADM-4")
    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "push_records_action" not in page and "push_update_action" not in page
    client.post(
        reverse(CHANGELIST),
        {"action": "push_records_action", "_selected_action": [invoice.pk], "confirm": "yes"},
    )
    assert not PushRequest.objects.exists()
