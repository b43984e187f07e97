"""What Push does with a record: create it, update it (PUT with the stored provider id) where
the provider supports updates, or refuse with a reason a person can act on."""

import pytest

from pushes.push_selectors import push_plan_for
from pushes.services.push_requests import PushRefused, push_request_create
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice

pytestmark = pytest.mark.django_db


def _pushed(invoice, *, changed: bool):
    type(invoice).objects.filter(pk=invoice.pk).update(
        provider_record_id="4711",
        last_pushed_hash="old" if changed else invoice.payload_hash,
    )
    invoice.refresh_from_db()
    return invoice


def test_a_new_record_is_created():
    plan = push_plan_for(record=ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-1"))
    assert plan.operation == "create" and "will be created in quickbooks" in plan.reason


def test_a_changed_record_already_in_the_accounting_system_is_updated(push_staff):
    invoice = _pushed(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-2"), changed=True)
    push = push_request_create(record=invoice, user=push_staff)
    assert push.operation == "update" and push.provider_record_id == "4711"


def test_an_unchanged_record_needs_push_update_to_be_sent_again(push_staff):
    invoice = _pushed(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-3"), changed=False)
    with pytest.raises(PushRefused, match="has not changed since it was last pushed"):
        push_request_create(record=invoice, user=push_staff)
    push = push_request_create(record=invoice, user=push_staff, operation="update")
    assert push.operation == "update"


def test_update_is_refused_where_the_provider_cannot_update_through_railz():
    invoice = _pushed(ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-4"), changed=True)
    invoice.connection.service_name = "zohoBooks"
    invoice.connection.save()
    plan = push_plan_for(record=invoice)
    assert plan.refused
    assert plan.reason.endswith("Railz cannot update invoices in zohoBooks.")
    assert "already in zohoBooks (id 4711)" in plan.reason


def test_push_update_of_a_record_never_created_is_refused():
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-5")
    plan = push_plan_for(record=invoice, operation="update")
    assert plan.refused and "has not been created in quickbooks yet" in plan.reason


def test_a_draft_or_a_connection_railz_no_longer_lists_is_refused():
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-6")
    type(invoice).objects.filter(pk=invoice.pk).update(status="draft")
    invoice.refresh_from_db()
    assert "still a draft" in push_plan_for(record=invoice).reason
    type(invoice).objects.filter(pk=invoice.pk).update(status="ready")
    invoice.refresh_from_db()
    invoice.connection.status = "removed"
    invoice.connection.save()
    assert "only be pushed through an active connection" in push_plan_for(record=invoice).reason


def test_an_invalid_record_is_refused_with_its_problems():
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="PL-7")
    invoice.lines.all().delete()
    plan = push_plan_for(record=invoice)
    assert plan.refused and "is not ready to push" in plan.reason
