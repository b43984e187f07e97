"""Reads of the push pipeline: what a push of a record would do, and which pushes need a look.

Keyword-only functions named `<entity>_<what>`; the services and the admin share them, so a
confirmation page and the push itself can never disagree about create, update or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from pushes.models import PushRequest
from railzpush.railz.datatypes import Op, data_type

PUSH_PERMISSION = "pushes.push_records"


@dataclass(frozen=True)
class PushPlan:
    """What pushing one record now would do: `operation` create/update, or refused and why."""

    record: Any
    operation: str | None
    reason: str

    @property
    def refused(self) -> bool:
        return self.operation is None


def _refuse(record: Any, reason: str) -> PushPlan:
    return PushPlan(record=record, operation=None, reason=reason)


_NOT_GIVEN = object()


def push_plan_for(
    *,
    record: Any,
    operation: str | None = None,
    user: Any = None,
    in_flight: Any = _NOT_GIVEN,
) -> PushPlan:
    """Decide create, update or refused for `record` (`operation="update"` asks for an update).

    A record already created in the accounting system (it has a `provider_record_id`) is
    updated where the provider supports updates through Railz, and refused where it does not;
    a record never created cannot be updated. `in_flight` is the record's push in flight (or
    None), when the caller already knows it.
    """
    from pushes import registry

    if user is not None and not user.has_perm(PUSH_PERMISSION):
        return _refuse(record, "You do not have permission to push records.")
    try:
        pushable = registry.for_model(record)
    except (KeyError, LookupError):
        return _refuse(record, f"{type(record).__name__} records cannot be pushed.")
    described = pushable.describe(record)
    entry = data_type(pushable.data_type)
    connection = record.connection
    service_name = connection.service_name
    if not connection.can_push:
        return _refuse(
            record,
            f"The connection {connection} is {connection.status}; records can only be pushed "
            "through an active connection.",
        )
    if getattr(record, "status", "ready") != "ready":
        return _refuse(record, f"{described} is still a draft; mark it ready before pushing.")
    if in_flight is _NOT_GIVEN:
        # Bulk callers look up the pushes in flight of a whole batch at once and pass it.
        in_flight = PushRequest.objects.for_record(record).in_flight().first()
    if in_flight is not None:
        return _refuse(
            record,
            f"{described} already has push #{in_flight.pk} in progress ({in_flight.state}); "
            "wait for its outcome.",
        )
    problems = pushable.validate(record)
    if problems:
        listed = "; ".join(
            f"{p.field}: {p.message}" if p.field else p.message for p in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        return _refuse(record, f"{described} is not ready to push: {listed}{more}.")
    provider_record_id = getattr(record, "provider_record_id", "")
    if provider_record_id:
        if not entry.supports(Op.UPDATE, service_name):
            return _refuse(
                record,
                f"{described} is already in {service_name} (id {provider_record_id}), and "
                f"Railz cannot update {entry.label_plural} in {service_name}.",
            )
        if operation != PushRequest.Operation.UPDATE and not record.changed_since_push:
            return _refuse(
                record,
                f"{described} is already in {service_name} and has not changed since it was "
                "last pushed; use Push update to send it again.",
            )
        return PushPlan(
            record=record,
            operation=PushRequest.Operation.UPDATE,
            reason=f"{described} will be updated in {service_name} (id {provider_record_id}).",
        )
    if operation == PushRequest.Operation.UPDATE:
        return _refuse(
            record, f"{described} has not been created in {service_name} yet; push it first."
        )
    if not entry.supports(Op.CREATE, service_name):
        return _refuse(record, f"Railz cannot create {entry.label_plural} in {service_name}.")
    return PushPlan(
        record=record,
        operation=PushRequest.Operation.CREATE,
        reason=f"{described} will be created in {service_name}.",
    )


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
    from django.db.models import Q

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
