"""Reads of approvals: whether a push of a record needs one under its connection's policy,
whether an approval lets it go now, and what an approver is shown (the body in words and what
changed since the version last pushed).

`push_plan_for` asks `approval_refusal` last, once everything else allows the push, so a
confirmation page, a button, the API and the pipeline agree on "submit for approval".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType

from pushes import registry
from pushes.models import ApprovalPolicy, ApprovalRequest, PushRequest
from pushes.payloads import payload_hash, record_build_payload
from pushes.read_memo import memoized

APPROVE_PERMISSION = "pushes.approve_pushes"
Rule = ApprovalPolicy.Rule
# The end states of a push that did not apply its content in the accounting system.
NOT_APPLIED = (
    PushRequest.State.FAILED,
    PushRequest.State.REJECTED,
    PushRequest.State.CANCELLED,
)


def approval_policy_for(connection_id: int) -> ApprovalPolicy | None:
    """The connection's policy; read once per connection in a bulk action (`memo_scope`)."""
    return memoized(
        ("approval_policy", connection_id),
        lambda: ApprovalPolicy.objects.filter(connection_id=connection_id).first(),
    )


def record_amount(record: Any) -> tuple[Decimal | None, str]:
    """The record's total in the business's currency, and that currency; (None, "") when the
    record type has no total or the amount cannot be told in the business's currency."""
    from pushes.selectors import invoice_totals

    try:
        spec = registry.for_model(record).spec
    except (KeyError, LookupError):
        return None, ""
    if not spec.totals or not hasattr(record, "lines"):
        return None, ""
    currency = getattr(record, "currency", "") or ""
    total = invoice_totals(lines=record.lines.all(), currency=currency).total
    base = record.connection.base_currency or currency
    if currency and base and currency != base:
        rate = getattr(record, "currency_rate", None)
        if not rate:
            return None, base
        total = total * rate
    return total, base


def approval_needed(*, record: Any, operation: str) -> str:
    """Why the connection's policy asks for an approval of this push ("" when it does not)."""
    policy = approval_policy_for(record.connection_id)
    if policy is None or policy.rule == Rule.NONE:
        return ""
    if policy.rule == Rule.EVERY:
        return "every push to this connection needs an approval"
    data_type = registry.for_model(record).data_type
    threshold = policy.threshold_for(data_type)
    if threshold is None:
        return ""
    amount, currency = record_amount(record)
    if amount is None:
        return (
            "its amount in the business's currency cannot be told, and pushes above "
            f"{threshold:,.2f} {currency} need an approval".strip()
        )
    if amount > threshold:
        return f"its total {amount:,.2f} {currency} is above {threshold:,.2f} {currency}"
    return ""


def record_push_fingerprint(record: Any, operation: str) -> str:
    """What an approval is tied to: the hash of the body a push would send (deletes: none)."""
    if operation == PushRequest.Operation.DELETE:
        return "delete"
    return payload_hash(record_build_payload(record))


def approval_usable(*, record: Any, operation: str) -> ApprovalRequest | None:
    """The approval that lets this push go now: approved, for this operation and exactly the
    content the record would send now, and not used up: no push queued on it yet, or the one
    queued never applied it (failed, refused, cancelled, never received), so a retry of the
    same content needs no second approval; a push that succeeded since uses it up."""
    approval = (
        ApprovalRequest.objects.filter(
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            state=ApprovalRequest.State.APPROVED,
        )
        .select_related("decided_by", "push")
        .order_by("-decided_at", "-pk")
        .first()
    )
    if approval is None or approval.operation != operation:
        return None
    if approval.payload_hash != record_push_fingerprint(record, operation):
        return None
    if approval.push is None:
        return approval
    if approval.push.state not in NOT_APPLIED:
        return None
    succeeded_since = (
        PushRequest.objects.for_record(record)
        .filter(created_at__gte=approval.decided_at, state=PushRequest.State.SUCCESS)
        .exists()
    )
    return None if succeeded_since else approval


def approvals_open_for(record: Any):
    return ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        state__in=ApprovalRequest.OPEN,
        push__isnull=True,
    )


@dataclass(frozen=True)
class ApprovalVerdict:
    """Whether the policy lets a push go: `rule` (approvalRequired, approvalWaiting) and
    `reason` when it does not; `note` names who approved it when an approval lets it go."""

    rule: str = ""
    reason: str = ""
    note: str = ""


def approval_verdict(*, record: Any, operation: str) -> ApprovalVerdict:
    needed = approval_needed(record=record, operation=operation)
    if not needed:
        return ApprovalVerdict()
    usable = approval_usable(record=record, operation=operation)
    if usable is not None:
        return ApprovalVerdict(
            note=f" Approved by {usable.decided_by} on {usable.decided_at:%b %d, %H:%M} UTC."
        )
    waiting = approvals_open_for(record).filter(state=ApprovalRequest.State.WAITING).first()
    if waiting is not None:
        return ApprovalVerdict(
            "approvalWaiting",
            f"It waits for approval (submitted by {waiting.submitted_by} on "
            f"{waiting.submitted_at:%b %d, %H:%M} UTC).",
        )
    return ApprovalVerdict(
        "approvalRequired",
        f"It needs an approval before it is pushed: {needed}. Submit it for approval.",
    )


# --- what an approver sees --------------------------------------------------------------------


def _flatten(value: Any, path: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{path}[{index}]"))
        return flat
    return {path: "" if value is None else str(value)}


def _words(path: str) -> str:
    """`lines[0].accountRef.id` -> `line 1, account ref id`."""
    out = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
        if index:
            words = f"{words.rstrip('s')} {int(index.rstrip(']')) + 1}"
        out.append(words)
    return ", ".join(out)


def body_in_words(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Every value the push sends, named in words, in the body's order."""
    return [(_words(path), value) for path, value in _flatten(body.get("data") or {}).items()]


def last_pushed_body(*, content_type_id: int, object_id: int) -> dict[str, Any] | None:
    push = (
        PushRequest.objects.filter(
            content_type_id=content_type_id,
            object_id=object_id,
            state=PushRequest.State.SUCCESS,
        )
        .exclude(operation=PushRequest.Operation.DELETE)
        .order_by("-completed_on", "-pk")
        .first()
    )
    return push.body if push is not None else None


def body_differences(*, body: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    """What differs from the version last pushed, one sentence a value; [] if never pushed."""
    if before is None:
        return []
    old, new = _flatten(before.get("data") or {}), _flatten(body.get("data") or {})
    changes = []
    for path in list(dict.fromkeys([*old, *new])):
        if path not in new:
            changes.append(f"{_words(path)}: {old[path]} removed")
        elif path not in old:
            changes.append(f"{_words(path)}: {new[path]} added")
        elif old[path] != new[path]:
            changes.append(f"{_words(path)}: {old[path]} → {new[path]}")
    return changes


@dataclass(frozen=True)
class ApprovalLine:
    """One line of a record's approval timeline: what happened, who and when."""

    at: datetime
    what: str
    who: Any
    comment: str = ""


def approval_timeline(*, record: Any) -> list[ApprovalLine]:
    """Every submission, approval, rejection and void of the record, oldest first."""
    rows = ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
    ).select_related("submitted_by", "decided_by")
    lines: list[ApprovalLine] = []
    for row in rows:
        submitted = f"Submitted for approval ({row.operation})"
        lines.append(ApprovalLine(row.submitted_at, submitted, row.submitted_by))
        if row.decided_at is not None:
            verb = "Rejected" if row.state == ApprovalRequest.State.REJECTED else "Approved"
            lines.append(ApprovalLine(row.decided_at, verb, row.decided_by, row.comment))
        if row.voided_at is not None:
            lines.append(ApprovalLine(row.voided_at, "Voided", None, row.void_reason))
    return sorted(lines, key=lambda line: line.at)


@dataclass(frozen=True)
class DecisionPlan:
    """Whether `user` may approve or reject `approval` now, and why not."""

    approval: ApprovalRequest
    allowed: bool
    reason: str
    rule: str = ""


def approval_decision_plan(*, approval: ApprovalRequest, user: Any) -> DecisionPlan:
    """The same check for a button, a bulk preview, the API and the service."""
    if user is None or not user.has_perm(APPROVE_PERMISSION):
        return DecisionPlan(
            approval, False, "You do not have permission to approve pushes.", "permissionDenied"
        )
    if approval.submitted_by_id == getattr(user, "pk", None):
        return DecisionPlan(
            approval,
            False,
            f"{approval.label}: you prepared it, so someone else must approve or reject it.",
            "selfApproval",
        )
    if approval.state != ApprovalRequest.State.WAITING or approval.push_id:
        return DecisionPlan(
            approval,
            False,
            f"{approval.label} is {approval.get_state_display()}, not waiting for approval.",
            "notWaiting",
        )
    return DecisionPlan(
        approval, True, f"{approval.label} will be approved and its {approval.operation} queued."
    )


def approvals_waiting():
    return ApprovalRequest.objects.filter(
        state=ApprovalRequest.State.WAITING, push__isnull=True
    ).select_related("connection", "submitted_by", "content_type")
