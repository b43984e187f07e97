"""Submitting a record for approval, approving or rejecting it, and voiding what a change
makes stale.

A submission snapshots the body the push would send and its hash; approving checks the record
still sends exactly that (a change voided it otherwise), writes the decision once and queues
the push in the preparer's name, in one transaction; rejecting writes the decision and the
comment, for the preparer. A decided approval is never edited: the state moves only by
conditional updates from open states.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from pushes import registry
from pushes.approval_selectors import (
    approval_decision_plan,
    approval_needed,
    approvals_open_for,
    record_amount,
    record_push_fingerprint,
)
from pushes.models import ApprovalRequest, PushRequest
from pushes.payloads import record_build_payload
from pushes.push_selectors import push_plan_for
from pushes.services.alerts import approvers_notify, preparer_notify_rejected
from pushes.services.push_requests import PushRefused, push_note, push_request_create

State = ApprovalRequest.State


class ApprovalRefused(Exception):
    """A submission or decision that cannot be done; `rule` as a code."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def approval_submit(*, record: Any, user: Any, operation: str | None = None) -> ApprovalRequest:
    """Submit the push of `record` for approval (instead of pushing it)."""
    plan = push_plan_for(record=record, operation=operation, user=user, approval=False)
    if plan.refused:
        raise ApprovalRefused(str(plan.reason), plan.rule or "pushRefused")
    if not approval_needed(record=record, operation=plan.operation):
        raise ApprovalRefused(
            "The connection's approval policy does not ask for an approval of this push: push it.",
            "approvalNotNeeded",
        )
    pushable = registry.for_model(record)
    body: dict[str, Any] = {}
    if plan.operation != PushRequest.Operation.DELETE:
        body = {"data": record_build_payload(record)}
    amount, currency = record_amount(record)
    try:
        with transaction.atomic():
            approval = ApprovalRequest.objects.create(
                content_type=ContentType.objects.get_for_model(type(record)),
                object_id=record.pk,
                connection_id=record.connection_id,
                data_type=pushable.data_type,
                operation=plan.operation,
                body=body,
                payload_hash=record_push_fingerprint(record, plan.operation),
                amount=amount,
                currency=currency,
                label=pushable.describe(record)[:300],
                submitted_by=user,
                submitted_at=timezone.now(),
            )
            transaction.on_commit(lambda: approvers_notify(approval=approval))
            return approval
    except IntegrityError:
        raise ApprovalRefused(
            f"{pushable.describe(record)} is already waiting for approval or approved.",
            "approvalWaiting",
        ) from None


def _decided(approval: ApprovalRequest, *, to: str, user: Any, comment: str) -> bool:
    now = timezone.now()
    moved = ApprovalRequest.objects.filter(
        pk=approval.pk, state=State.WAITING, decided_at__isnull=True
    ).update(state=to, decided_by=user, decided_at=now, comment=comment)
    if moved:
        approval.state, approval.decided_by, approval.decided_at = to, user, now
        approval.comment = comment
    return bool(moved)


def approval_approve(
    *, approval: ApprovalRequest, user: Any, comment: str = "", source: str = "staff"
) -> PushRequest:
    """Approve a waiting submission and queue its push (in the preparer's name)."""
    plan = approval_decision_plan(approval=approval, user=user)
    if not plan.allowed:
        raise ApprovalRefused(plan.reason, plan.rule)
    record = approval.record
    if record is None:
        raise ApprovalRefused(f"{approval.label} no longer exists.", "notFound")
    with transaction.atomic():
        if record_push_fingerprint(record, approval.operation) != approval.payload_hash:
            approvals_void_for(record=record, reason="The record changed after it was submitted.")
            raise ApprovalRefused(
                f"{approval.label} changed after it was submitted; the submission is void, "
                "and it must be submitted again.",
                "approvalVoid",
            )
        if not _decided(approval, to=State.APPROVED, user=user, comment=comment):
            raise ApprovalRefused(f"{approval.label} was decided a moment ago.", "notWaiting")
        try:
            push = push_request_create(
                record=record,
                user=approval.submitted_by,
                source=source,
                operation=approval.operation,
            )
        except PushRefused as exc:
            # Not pushable now (a push in flight, the connection...): nothing is approved.
            raise ApprovalRefused(f"Not approved: {exc}", exc.rule) from None
        ApprovalRequest.objects.filter(pk=approval.pk).update(push=push)
        approval.push = push
        push_note(
            push=push,
            source="api" if source == "api" else "staff",
            message=f"Approved by {user.get_username()}"
            + (f": {comment}" if comment else "")
            + f" (submitted by {approval.submitted_by.get_username()}).",
        )
    return push


def approval_reject(*, approval: ApprovalRequest, user: Any, comment: str) -> ApprovalRequest:
    """Reject a waiting submission; the comment goes back to its preparer."""
    plan = approval_decision_plan(approval=approval, user=user)
    if not plan.allowed:
        raise ApprovalRefused(plan.reason, plan.rule)
    if not comment.strip():
        raise ApprovalRefused("Say why it is rejected: the preparer reads it.", "required")
    if not _decided(approval, to=State.REJECTED, user=user, comment=comment.strip()):
        raise ApprovalRefused(f"{approval.label} was decided a moment ago.", "notWaiting")
    transaction.on_commit(lambda: preparer_notify_rejected(approval=approval))
    return approval


def approvals_void_for(*, record: Any, reason: str) -> int:
    """Void the record's waiting submission or unused approval (the record changed)."""
    return approvals_open_for(record).update(
        state=State.VOIDED, voided_at=timezone.now(), void_reason=reason
    )


def approvals_void_if_changed(*, record: Any, user: Any = None) -> int:
    """After a save: void the open submission or approval whose content the record no longer
    sends (a save that changes nothing sent leaves it)."""
    voided = 0
    for approval in approvals_open_for(record):
        if record_push_fingerprint(record, approval.operation) != approval.payload_hash:
            who = getattr(user, "get_username", lambda: "")() or "someone"
            voided += ApprovalRequest.objects.filter(
                pk=approval.pk, state__in=ApprovalRequest.OPEN, push__isnull=True
            ).update(
                state=State.VOIDED,
                voided_at=timezone.now(),
                void_reason=f"Changed by {who} after it was "
                f"{'approved' if approval.state == State.APPROVED else 'submitted'}.",
            )
    return voided
