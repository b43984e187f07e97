"""Reads of the push pipeline: what a push of a record would do, and which pushes need a look.

Keyword-only functions named `<entity>_<what>`; the services and the admin share them, so a
confirmation page and the push itself can never disagree about create, update or refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from pushes import registry
from pushes.approval_selectors import approval_verdict
from pushes.models import ConnectionPause, PushRequest
from pushes.record_checks import record_validate
from railzpush.railz.datatypes import Op, data_type

PUSH_PERMISSION = "pushes.push_records"


@dataclass(frozen=True)
class PushPlan:
    """What pushing one record now would do: `operation` create, update or delete, or refused
    and why."""

    record: Any
    operation: str | None
    reason: str
    # Why it is refused, as a code a program branches on (never read from `reason`):
    # permissionDenied, notPushable, activeConnection, draft, pushInFlight, notCreated,
    # operationNotSupported, notReady, schemaMismatch, unchanged, approvalRequired,
    # approvalWaiting. "" when allowed.
    rule: str = ""

    @property
    def refused(self) -> bool:
        return self.operation is None


def _refuse(record: Any, reason: str, rule: str) -> PushPlan:
    return PushPlan(record=record, operation=None, reason=reason, rule=rule)


_NOT_GIVEN = object()


def push_plan_for(
    *,
    record: Any,
    operation: str | None = None,
    user: Any = None,
    in_flight: Any = _NOT_GIVEN,
    approval: bool = True,
) -> PushPlan:
    """What pushing `record` now would do (`_push_plan_for`), and, when everything else allows
    it, whether the connection's approval policy lets it go: a push needing an approval that
    was not given (for exactly this content) is refused with `approvalRequired` (or
    `approvalWaiting` while submitted). `approval=False` leaves the policy out (what a
    submission for approval checks)."""
    plan = _push_plan_for(record=record, operation=operation, user=user, in_flight=in_flight)
    if plan.refused or not approval:
        return plan
    verdict = approval_verdict(record=record, operation=plan.operation)
    if verdict.rule:
        return _refuse(record, f"{plan.reason} {verdict.reason}", verdict.rule)
    return PushPlan(record=record, operation=plan.operation, reason=plan.reason + verdict.note)


def _push_plan_for(
    *,
    record: Any,
    operation: str | None = None,
    user: Any = None,
    in_flight: Any = _NOT_GIVEN,
) -> PushPlan:
    """Decide create, update, delete or refused for `record`.

    `operation="update"` asks for an update, `operation="delete"` for a delete; anything else
    lets the record's state decide. A record already created in the accounting system (it has
    a `provider_record_id`) is updated where the provider supports updates through Railz, and
    refused where it does not; a record never created can be neither updated nor deleted. A
    delete does not look at the record's content: a draft or an invalid record can still be
    removed from the accounting system. `in_flight` is the record's push in flight (or None),
    when the caller already knows it.
    """
    deleting = operation == PushRequest.Operation.DELETE
    if user is not None and not user.has_perm(PUSH_PERMISSION):
        return _refuse(record, "You do not have permission to push records.", "permissionDenied")
    try:
        pushable = registry.for_model(record)
    except (KeyError, LookupError):
        return _refuse(record, f"{type(record).__name__} records cannot be pushed.", "notPushable")
    described = pushable.describe(record)
    entry = data_type(pushable.data_type)
    connection = record.connection
    service_name = connection.service_name
    # A connection Railz reports disconnected or expired is paused, not refused: the push
    # queues and waits for the business to reconnect it (see services.connection_pauses).
    if not connection.can_queue:
        return _refuse(
            record,
            f"The connection {connection} is {connection.status}; records can only be "
            f"{'deleted' if deleting else 'pushed'} through an active connection.",
            "activeConnection",
        )
    if not deleting and getattr(record, "status", "ready") != "ready":
        return _refuse(
            record, f"{described} is still a draft; mark it ready before pushing.", "draft"
        )
    if in_flight is _NOT_GIVEN:
        # Bulk callers look up the pushes in flight of a whole batch at once and pass it.
        in_flight = PushRequest.objects.for_record(record).in_flight().first()
    if in_flight is not None:
        return _refuse(
            record,
            f"{described} already has push #{in_flight.pk} in progress ({in_flight.state}); "
            "wait for its outcome.",
            "pushInFlight",
        )
    provider_record_id = getattr(record, "provider_record_id", "")
    if deleting:
        if not provider_record_id:
            return _refuse(
                record,
                f"{described} has not been created in {service_name} yet; there is nothing "
                "to delete.",
                "notCreated",
            )
        if not entry.supports(Op.DELETE, service_name):
            return _refuse(
                record,
                f"{described} is in {service_name} (id {provider_record_id}), but "
                + (
                    f"Railz cannot delete {entry.label_plural} in {service_name}."
                    if Op.DELETE in entry.operations
                    else f"Railz has no delete of {entry.label_plural}: they are created only."
                ),
                "operationNotSupported",
            )
        return PushPlan(
            record=record,
            operation=PushRequest.Operation.DELETE,
            reason=f"{described} will be deleted from {service_name} (id {provider_record_id}).",
        )
    problems = record_validate(record=record)
    if problems:
        listed = "; ".join(
            f"{p.field}: {p.message}" if p.field else p.message for p in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        return _refuse(record, f"{described} is not ready to push: {listed}{more}.", "notReady")
    if provider_record_id:
        if not entry.supports(Op.UPDATE, service_name):
            return _refuse(
                record,
                f"{described} is already in {service_name} (id {provider_record_id}), and "
                + (
                    f"Railz cannot update {entry.label_plural} in {service_name}."
                    if Op.UPDATE in entry.operations
                    else f"Railz has no update of {entry.label_plural}: they are created only."
                ),
                "operationNotSupported",
            )
        if operation != PushRequest.Operation.UPDATE and not record.changed_since_push:
            return _refuse(
                record,
                f"{described} is already in {service_name} and has not changed since it was "
                "last pushed; use Push update to send it again.",
                "unchanged",
            )
        return PushPlan(
            record=record,
            operation=PushRequest.Operation.UPDATE,
            reason=f"{described} will be updated in {service_name} (id {provider_record_id}).",
        )
    if operation == PushRequest.Operation.UPDATE:
        return _refuse(
            record,
            f"{described} has not been created in {service_name} yet; push it first.",
            "notCreated",
        )
    if not entry.supports(Op.CREATE, service_name):
        return _refuse(
            record,
            f"Railz cannot create {entry.label_plural} in {service_name}.",
            "operationNotSupported",
        )
    return PushPlan(
        record=record,
        operation=PushRequest.Operation.CREATE,
        reason=f"{described} will be created in {service_name}.",
    )


# --- what a staff action would do to one push -------------------------------------------------


@dataclass(frozen=True)
class PushActionPlan:
    """What an action (retry, cancel...) would do to `push` now, or why it would be skipped.

    The services check the same plan before they act, so a confirmation page, a button and the
    action itself can never disagree; the state machine still has the last word on a race.
    """

    push: PushRequest
    allowed: bool
    reason: str
    # Retry only: the new attempt's plan (create or update of the record as it is now).
    record_plan: PushPlan | None = None


def _no_permission(push: PushRequest, user: Any) -> PushActionPlan | None:
    if user is not None and not user.has_perm(PUSH_PERMISSION):
        return PushActionPlan(push, False, "You do not have permission to push records.")
    return None


def push_retry_plan(*, push: PushRequest, user: Any = None) -> PushActionPlan:
    """A new attempt of a push that failed, was rejected or was cancelled, built from the
    record as it is now; refused while the outcome is not known, or if it succeeded."""
    State = PushRequest.State
    if refused := _no_permission(push, user):
        return refused
    if push.state in (State.PENDING, State.UNKNOWN, State.SUBMITTING, State.QUEUED):
        return PushActionPlan(
            push,
            False,
            f"Push #{push.pk} is still {push.state}; it cannot be retried until its outcome "
            "is known.",
        )
    if push.state == State.SUCCESS:
        return PushActionPlan(push, False, f"Push #{push.pk} succeeded; there is nothing to retry.")
    record = push.record
    if record is None:
        return PushActionPlan(push, False, f"The record of push #{push.pk} no longer exists.")
    # A new attempt asks for what the push asked for: an update stays an update, a delete a
    # delete; a create may become an update if the first attempt's record got created after all.
    operation = push.operation if push.operation != PushRequest.Operation.CREATE else None
    plan = push_plan_for(record=record, operation=operation, user=user)
    if plan.refused:
        return PushActionPlan(push, False, plan.reason, plan)
    return PushActionPlan(push, True, f"A new attempt of push #{push.pk}: {plan.reason}", plan)


def push_refresh_plan(*, push: PushRequest, user: Any = None) -> PushActionPlan:
    """Ask Railz now for the outcome of a pending push (one call per connection)."""
    if refused := _no_permission(push, user):
        return refused
    if push.state != PushRequest.State.PENDING or not push.push_communication_id:
        return PushActionPlan(push, False, f"Push #{push.pk} is {push.state}, not pending.")
    return PushActionPlan(
        push,
        True,
        f"Railz is asked now for the outcome of push {push.push_communication_id}.",
    )


def push_reconcile_plan(*, push: PushRequest, user: Any = None) -> PushActionPlan:
    """Settle an unknown push from Railz's list of pushes; nothing is sent again."""
    if refused := _no_permission(push, user):
        return refused
    if push.state != PushRequest.State.UNKNOWN:
        return PushActionPlan(
            push, False, f"Push #{push.pk} is {push.state}; only unknown pushes are reconciled."
        )
    return PushActionPlan(
        push,
        True,
        "Looked for in Railz's list of pushes; a Railz push is adopted only when it can be this "
        "push's alone, or its record read back proves it; otherwise it stays unknown with a "
        "note saying why, and the candidates are shown on its page.",
    )


def push_cancel_plan(*, push: PushRequest, user: Any = None) -> PushActionPlan:
    """Cancel a push nobody has sent yet."""
    if refused := _no_permission(push, user):
        return refused
    if push.state != PushRequest.State.QUEUED:
        return PushActionPlan(
            push, False, f"Push #{push.pk} is {push.state}; only queued pushes can be cancelled."
        )
    return PushActionPlan(push, True, "Cancelled before it is sent.")


def push_release_plan(*, push: PushRequest, user: Any = None) -> PushActionPlan:
    """Release a payment held because a document it pays failed or was cancelled."""
    if refused := _no_permission(push, user):
        return refused
    if push.state != PushRequest.State.QUEUED or not push.held_reason:
        return PushActionPlan(push, False, f"Push #{push.pk} is not held; nothing to release.")
    return PushActionPlan(
        push,
        True,
        "Released: it is sent once every document it pays has its id in the accounting "
        "system (now, if they have), and waits for them until then. It is never sent with a "
        "missing link.",
    )


def push_never_received_plan(*, push: PushRequest, user: Any = None) -> PushActionPlan:
    """Record that an unknown push never reached the accounting system (a person checked)."""
    if refused := _no_permission(push, user):
        return refused
    if push.state != PushRequest.State.UNKNOWN:
        return PushActionPlan(
            push,
            False,
            f"Push #{push.pk} is {push.state}; only pushes whose outcome is unknown can be "
            "marked as never received.",
        )
    return PushActionPlan(push, True, "Marked failed (never received), so that it can be retried.")


# Staff verbs on a push. The names are the push request admin's own actions, so the buttons on
# a push's page, the list's actions and their confirmation page run and preview the same thing.
@dataclass(frozen=True)
class PushVerb:
    name: str
    label: str
    explanation: str  # what it will do, said before it is done
    done: str  # "N pushes will be <done>"
    plan: Callable[..., PushActionPlan]


PUSH_VERBS: tuple[PushVerb, ...] = (
    PushVerb(
        "refresh_status",
        "Ask Railz for the outcome now",
        "Asks Railz for this push's outcome now instead of waiting for the next poll.",
        "asked about",
        push_refresh_plan,
    ),
    PushVerb(
        "retry_pushes",
        "Retry",
        "Queues a new attempt built from the record as it is now, linked to this one.",
        "retried",
        push_retry_plan,
    ),
    PushVerb(
        "reconcile_pushes",
        "Reconcile with Railz",
        "Looks for this push in Railz's list of pushes and adopts its outcome only when the "
        "evidence ties one Railz push to it alone; nothing is sent again.",
        "reconciled",
        push_reconcile_plan,
    ),
    PushVerb(
        "mark_never_received",
        "Mark as never received",
        "Only after checking the accounting system: records that Railz never got this push, "
        "so that it can be retried.",
        "marked as never received",
        push_never_received_plan,
    ),
    PushVerb(
        "release_held",
        "Release",
        "Lets a held payment go again: it waits for its document to be pushed again, or is "
        "sent now if the document is in the accounting system.",
        "released",
        push_release_plan,
    ),
    PushVerb(
        "cancel_queued",
        "Cancel",
        "Cancels the push before it is sent.",
        "cancelled",
        push_cancel_plan,
    ),
)
PUSH_VERBS_BY_NAME = {verb.name: verb for verb in PUSH_VERBS}


def push_verbs_allowed(*, push: PushRequest, user: Any) -> list[PushVerb]:
    """The verbs a person may run on `push` now: none without the push permission."""
    if user is None or not user.has_perm(PUSH_PERMISSION):
        return []
    return [verb for verb in PUSH_VERBS if verb.plan(push=push, user=user).allowed]


# --- pushes that need a look -----------------------------------------------------------------


def pushes_stuck(*, now=None) -> QuerySet[PushRequest]:
    """Pushes Railz has kept pending longer than PUSH_STUCK_AFTER_MINUTES."""
    now = now or timezone.now()
    limit = now - timedelta(minutes=settings.PUSH_STUCK_AFTER_MINUTES)
    return PushRequest.objects.filter(state=PushRequest.State.PENDING, sent_at__lt=limit)


def pushes_waiting_for_person() -> QuerySet[PushRequest]:
    """Unknown pushes reconciliation could not settle: the note says why."""
    return PushRequest.objects.filter(state=PushRequest.State.UNKNOWN).exclude(reconcile_note="")


def push_latest_for(*, record: Any) -> PushRequest | None:
    return PushRequest.objects.for_record(record).order_by("-created_at", "-pk").first()


def pushes_in_flight_for(*, records: list[Any]) -> dict[tuple[int, int], PushRequest]:
    """The push in flight of each record, keyed by (content type id, record id): one query."""
    from django.contrib.contenttypes.models import ContentType

    if not records:
        return {}
    by_type: dict[int, list[int]] = {}
    for record in records:
        content_type = ContentType.objects.get_for_model(type(record))
        by_type.setdefault(content_type.pk, []).append(record.pk)
    condition = Q()
    for content_type_id, ids in by_type.items():
        condition |= Q(content_type_id=content_type_id, object_id__in=ids)
    return {
        (push.content_type_id, push.object_id): push
        for push in PushRequest.objects.in_flight().filter(condition)
    }


# --- paused connections -----------------------------------------------------------------------


@dataclass(frozen=True)
class PausedConnection:
    """An open pause, how many pushes wait behind it and where a person resumes it."""

    pause: Any
    waiting: int

    @property
    def sentence(self) -> str:
        return f"Paused: {self.pause.reason}"

    @property
    def resume_url(self) -> str:
        return reverse("pushes-connection-resume", args=[self.pause.connection_id])

    @property
    def resumes_by_itself(self) -> bool:
        return self.pause.resume_at is not None


def connections_paused(*, connection_ids: Any = None) -> list[PausedConnection]:
    """The open pauses (of `connection_ids` if given), with the pushes queued behind each."""
    pauses = ConnectionPause.objects.open().select_related("connection")
    if connection_ids is not None:
        pauses = pauses.filter(connection_id__in=list(connection_ids))
    pauses = list(pauses)
    if not pauses:
        return []
    waiting = dict(
        PushRequest.objects.filter(
            connection_id__in=[p.connection_id for p in pauses], state=PushRequest.State.QUEUED
        )
        .values("connection_id")
        .annotate(n=Count("pk"))
        .values_list("connection_id", "n")
    )
    return [PausedConnection(pause=p, waiting=waiting.get(p.connection_id, 0)) for p in pauses]
