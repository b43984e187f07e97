"""Under a connection's approval policy a push is submitted, approved by someone else (never
its preparer, in the admin or the API) and only then queued; a change voids an approval, a
threshold asks only above its amount, and every step is on the record's timeline."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.approval_selectors import approval_timeline
from pushes.models import ApprovalPolicy, ApprovalRequest, PushRequest
from pushes.push_selectors import push_plan_for
from pushes.registry import for_model
from pushes.services.approvals import (
    ApprovalRefused,
    approval_approve,
    approval_reject,
    approval_submit,
)
from pushes.services.push_requests import PushRefused, push_request_create
from pushes.services.records import record_update
from pushes.spec import RecordData
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import ready_invoice, refs_connection_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args))
    return calls


def _person(django_user_model, name, *, approve=False):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    codenames = ["push_records", "view_invoice", "change_invoice", "view_approvalrequest"]
    if approve:
        codenames.append("approve_pushes")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def preparer(django_user_model):
    # A preparer may hold the approval permission too: it never covers their own records.
    return _person(django_user_model, "preparer", approve=True)


@pytest.fixture
def approver(django_user_model):
    return _person(django_user_model, "approver", approve=True)


def _policy(rule, threshold=None, **by_type):
    connection = refs_connection_for(DEMO_QUICKBOOKS)
    return ApprovalPolicy.objects.create(
        connection=connection, rule=rule, threshold=threshold, thresholds_by_type=by_type
    )


def test_under_a_policy_push_becomes_submit_and_approval_queues_it(preparer, approver):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-1")
    plan = push_plan_for(record=invoice, user=preparer)
    assert plan.refused and plan.rule == "approvalRequired"
    with pytest.raises(PushRefused):
        push_request_create(record=invoice, user=preparer)

    approval = approval_submit(record=invoice, user=preparer)
    assert push_plan_for(record=invoice, user=preparer).rule == "approvalWaiting"
    push = approval_approve(approval=approval, user=approver, comment="fine")
    assert push.state == "queued" and push.requested_by == preparer
    approval.refresh_from_db()
    assert approval.state == "approved" and approval.push == push
    # Used up: the push it queued is the only one it allows.
    assert PushRequest.objects.count() == 1
    whats = [line.what for line in approval_timeline(record=invoice)]
    assert whats == ["Submitted for approval (create)", "Approved"]


def test_self_approval_is_refused(preparer):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-SELF")
    approval = approval_submit(record=invoice, user=preparer)
    with pytest.raises(ApprovalRefused) as refused:
        approval_approve(approval=approval, user=preparer)
    assert refused.value.rule == "selfApproval"
    assert not PushRequest.objects.exists()


def test_self_approval_is_refused_in_the_admin(client, preparer, plain_static):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-ADM")
    approval = approval_submit(record=invoice, user=preparer)
    client.force_login(preparer)
    page = client.get(reverse("admin:pushes_approvalrequest_change", args=[approval.pk]))
    assert 'data-decision-refused="selfApproval"' in page.content.decode()
    client.post(
        reverse("admin:pushes_approvalrequest_decide", args=[approval.pk]),
        {"decision": "approve"},
    )
    approval.refresh_from_db()
    assert approval.state == "waiting" and not PushRequest.objects.exists()
    # The bulk action's preview skips it, and confirming approves nothing.
    changelist = reverse("admin:pushes_approvalrequest_changelist")
    preview = client.post(
        changelist, {"action": "approve_selected", "_selected_action": [approval.pk]}
    )
    assert "someone else must approve" in preview.content.decode()
    client.post(
        changelist,
        {"action": "approve_selected", "_selected_action": [approval.pk], "confirm": "yes"},
    )
    assert not PushRequest.objects.exists()


def test_self_approval_is_refused_in_the_api(api_as, preparer, approver):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-API")
    base = f"/api/v1/invoices/{invoice.pk}"
    pushed = api_as(preparer).post(f"{base}/push/")
    assert pushed.status_code == 409
    submitted = api_as(preparer).post(f"{base}/submit-for-approval/")
    assert submitted.status_code == 201, submitted.content
    refused = api_as(preparer).post(f"{base}/approve/", {"comment": "mine"}, format="json")
    assert refused.status_code == 403
    [error] = refused.json()["errors"]
    assert error["rule"] == "selfApproval" and "someone else" in error["message"]
    approved = api_as(approver).post(f"{base}/approve/", {"comment": "ok"}, format="json")
    assert approved.status_code == 202, approved.content
    assert PushRequest.objects.get().requested_by == preparer


def test_a_rejection_needs_a_comment_and_returns_it_to_the_preparer(preparer, approver):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-REJ")
    approval = approval_submit(record=invoice, user=preparer)
    with pytest.raises(ApprovalRefused):
        approval_reject(approval=approval, user=approver, comment=" ")
    approval_reject(approval=approval, user=approver, comment="Wrong customer")
    last = approval_timeline(record=invoice)[-1]
    assert (last.what, last.who, last.comment) == ("Rejected", approver, "Wrong customer")
    # Returned: it may be submitted again.
    assert push_plan_for(record=invoice, user=preparer).rule == "approvalRequired"


def test_a_change_after_approval_voids_it(preparer, approver):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-VOID")
    approval = approval_submit(record=invoice, user=preparer)
    data = RecordData.from_record(invoice, spec=for_model(invoice).spec)
    data.memo = "changed after submission"
    record_update(record=invoice, data=data, user=preparer)
    approval.refresh_from_db()
    assert approval.state == "voided" and "preparer" in approval.void_reason
    with pytest.raises(ApprovalRefused):
        approval_approve(approval=approval, user=approver)
    assert not PushRequest.objects.exists()
    assert [line.what for line in approval_timeline(record=invoice)][-1] == "Voided"


def test_an_approval_is_never_edited_afterwards(preparer, approver):
    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-IMM")
    approval = approval_submit(record=invoice, user=preparer)
    approval_approve(approval=approval, user=approver, comment="ok")
    approval.refresh_from_db()
    approval.comment = "rewritten"
    with pytest.raises(ValueError):
        approval.save()
    assert ApprovalRequest.objects.get().comment == "ok"


def test_approval_is_asked_only_above_the_threshold(preparer):
    _policy("above", threshold=Decimal("1000"), bills="10")
    small = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-SMALL", amount="999")
    large = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-LARGE", amount="1001")
    assert not push_plan_for(record=small, user=preparer).refused
    assert push_plan_for(record=large, user=preparer).rule == "approvalRequired"
    with pytest.raises(ApprovalRefused) as not_needed:
        approval_submit(record=small, user=preparer)
    assert not_needed.value.rule == "approvalNotNeeded"


def test_a_retry_of_an_approved_push_that_failed_needs_no_second_approval(preparer, approver):
    from pushes.services.push_requests import push_request_retry

    _policy("every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-RETRY")
    push = approval_approve(approval=approval_submit(record=invoice, user=preparer), user=approver)
    PushRequest.objects.filter(pk=push.pk).update(state="failed")
    push.refresh_from_db()
    retry = push_request_retry(push=push, user=preparer)
    assert retry.state == "queued"
    # Once the content is in the accounting system, the approval is used up.
    from pushes.approval_selectors import approval_usable

    assert approval_usable(record=invoice, operation="create") is not None
    PushRequest.objects.filter(pk=retry.pk).update(state="success")
    assert approval_usable(record=invoice, operation="create") is None


def test_bulk_submit_and_bulk_approve_preview_before_they_run(
    client, preparer, approver, plain_static
):
    _policy("above", threshold=Decimal("500"))
    small = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-B1", amount="100")
    large = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-A-B2", amount="900")
    client.force_login(preparer)
    invoices = reverse("admin:pushes_invoice_changelist")
    chosen = {"action": "submit_for_approval_action", "_selected_action": [small.pk, large.pk]}
    preview = client.post(invoices, chosen).content.decode()
    assert "1 of 2 selected records will be submitted" in preview
    assert not ApprovalRequest.objects.exists()
    client.post(invoices, {**chosen, "confirm": "yes"})
    assert list(ApprovalRequest.objects.values_list("object_id", flat=True)) == [large.pk]

    client.force_login(approver)
    queue = reverse("admin:pushes_approvalrequest_changelist")
    assert "INV-A-B2" in client.get(queue).content.decode()
    chosen = {"action": "approve_selected", "_selected_action": [ApprovalRequest.objects.get().pk]}
    assert "1 of 1 selected submission" in client.post(queue, chosen).content.decode()
    assert not PushRequest.objects.exists()
    client.post(queue, {**chosen, "confirm": "yes"})
    assert PushRequest.objects.get().object_id == large.pk
