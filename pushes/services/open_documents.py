"""Documents payments apply to, kept in the refs mirror as the pushes that make and pay them
go by; and payments kept in order behind the documents they pay.

- A document composed here enters the mirror when its create push is queued, under a
  placeholder id (`railzpush:<type>:<pk>`, status "pushing"): a payment can be composed
  against it at once. When the push succeeds the row takes the provider's id (or, if a sync
  brought that row first, the payment lines move to it); when it fails or is cancelled the row
  says "notPushed" and the payments waiting for it are held with the reason.
- A payment's create push is queued only if its amounts still fit the documents' amount due
  less what other payments on their way take; the documents' rows are locked while that is
  decided, so of two payments racing for the same remaining amount one is refused.
- A payment whose document is still on its way is queued but not due (`waiting_for` in its
  declaration); it is released, its body rebuilt with the document's real id, once the
  document's push succeeds. It is never sent with a placeholder id.
- When a payment succeeds its documents' amount due drops at once, marked local until the
  next sync brings the accounting system's own figure; a deleted payment gives it back.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pushes import registry
from pushes.models import PushEvent, PushRequest
from pushes.payloads import payload_hash, record_build_payload
from pushes.queue import enqueue_push_submit
from pushes.selectors import invoice_totals
from pushes.services.push_requests import PushRefused
from pushes.signals import push_queued, push_settled
from pushes.spec import Kind
from pushes.types.payment_spec import ON_ITS_WAY_PREFIX, taken_by_others
from refs.models import OpenDocument

logger = logging.getLogger(__name__)

State = PushRequest.State
PUSHING = "pushing"
NOT_PUSHED = "notPushed"


def _placeholder_id(push: PushRequest) -> str:
    return f"{ON_ITS_WAY_PREFIX}{push.data_type}:{push.object_id}"


def _mirror_of(data_type: str) -> type[OpenDocument] | None:
    try:
        spec = registry.for_data_type(data_type).spec
    except LookupError:
        return None
    return apps.get_model(spec.mirror) if spec.mirror else None


def _is_payment(data_type: str) -> bool:
    try:
        spec = registry.for_data_type(data_type).spec
    except LookupError:
        return False
    return any(f.kind is Kind.LINK for f in spec.line_fields)


def _document_fields(record: Any) -> dict[str, Any]:
    spec = registry.for_model(record).spec
    party = getattr(record, spec.party)
    totals = invoice_totals(lines=record.lines.all(), currency=record.currency)
    total = totals.total.quantize(Decimal("0.0001"))
    return {
        "name": (getattr(record, spec.number, "") or "")[:500],
        "status": "active",
        "party_remote_id": party.remote_id if party is not None else "",
        spec.party: party,
        "posted_date": record.posted_date,
        "due_date": getattr(record, "due_date", None),
        "currency": record.currency,
        "total_amount": total,
        "amount_due": total,
        "archived_at": None,
        "content_hash": "",
        "synced_at": timezone.now(),
    }


# --- documents composed here ---------------------------------------------------------------


def _document_queued(push: PushRequest, record: Any) -> None:
    mirror = _mirror_of(push.data_type)
    if mirror is None or push.operation != PushRequest.Operation.CREATE:
        return
    # One INSERT ... ON CONFLICT DO UPDATE: a new row, or the one an earlier push left.
    fields = {**_document_fields(record), "document_status": PUSHING}
    mirror.objects.bulk_create(
        [mirror(connection=record.connection, remote_id=_placeholder_id(push), **fields)],
        update_conflicts=True,
        unique_fields=["connection", "remote_id"],
        update_fields=list(fields),
    )


def _document_settled(push: PushRequest) -> None:
    mirror = _mirror_of(push.data_type)
    if mirror is None or push.operation != PushRequest.Operation.CREATE:
        return
    placeholder = _placeholder_id(push)
    provider_id = (
        next(iter(push.source_object_ids or []), "") if push.state == State.SUCCESS else ""
    )
    # The placeholder and (on success) the row a sync may have brought first, in one read.
    rows = {
        row.remote_id: row
        for row in mirror.objects.filter(
            connection_id=push.connection_id, remote_id__in=[placeholder, provider_id]
        )
    }
    row = rows.get(placeholder)
    if push.state != State.SUCCESS:
        if row is not None:
            row.document_status = NOT_PUSHED
            row.save(update_fields=["document_status"])
        _hold_waiting(row, push)
        return
    if not provider_id:
        return
    synced = rows.get(provider_id)
    if synced is None and row is not None:
        # The placeholder becomes the document: the payments composed against it keep it. Its
        # figures were read from the record when the push was queued, i.e. from the body that
        # was pushed, so they stand.
        fields = {
            "remote_id": provider_id,
            "document_status": "open",
            "status": "active",
            "archived_at": None,
            "content_hash": "",
            "synced_at": timezone.now(),
        }
        mirror.objects.filter(pk=row.pk).update(**fields)
        for name, value in fields.items():
            setattr(row, name, value)
        document = row
    elif synced is None:
        # No placeholder (written before the mirror existed): the document from the record.
        # No payment can point at a row that did not exist, so none waits for it.
        record = push.content_type.get_object_for_this_type(pk=push.object_id)
        mirror.objects.create(
            connection_id=push.connection_id,
            remote_id=provider_id,
            **_document_fields(record),
            document_status="open",
        )
        return
    else:
        if row is not None:
            # A sync brought the document first: the lines move to its row.
            for line_model in _line_models(mirror):
                line_model.objects.filter(document=row).update(document=synced)
            row.delete()
        document = synced
    _release_waiting(document)


@cache
def _line_models(mirror: type[OpenDocument]) -> list[Any]:
    return [
        model
        for model in apps.get_app_config("pushes").get_models()
        if any(
            f.name == "document" and f.related_model is mirror for f in model._meta.concrete_fields
        )
    ]


def _waiting_pushes(document: OpenDocument | None) -> list[PushRequest]:
    if document is None:
        return []
    pushes = []
    for line_model in _line_models(type(document)):
        payment_model = line_model._meta.get_field("payment").related_model
        payment_ids = line_model.objects.filter(document=document).values("payment_id")
        pushes += list(
            PushRequest.objects.filter(
                content_type=ContentType.objects.get_for_model(payment_model),
                object_id__in=payment_ids,
                state=State.QUEUED,
                next_attempt_at__isnull=True,
            )
        )
    return pushes


def _note(push: PushRequest, message: str) -> None:
    PushEvent.objects.create(
        push_request=push,
        at=timezone.now(),
        kind=PushEvent.Kind.NOTE,
        source=PushEvent.Source.SYSTEM,
        message=message,
    )


def _hold_waiting(row: OpenDocument | None, push: PushRequest) -> None:
    what = row.name if row is not None and row.name else "the document"
    reason = push.last_error or (push.validation_errors and str(push.validation_errors)) or ""
    verdict = "was cancelled" if push.state == State.CANCELLED else "failed"
    for waiting in _waiting_pushes(row):
        _note(
            waiting,
            f"Held: the push of {what} {verdict}{f' ({reason})' if reason else ''}. This "
            "payment is not sent: push the document again (it is then sent after it), or "
            "cancel this push.",
        )


def _release_waiting(document: OpenDocument) -> None:
    for waiting in _waiting_pushes(document):
        record = waiting.content_type.get_object_for_this_type(pk=waiting.object_id)
        spec = registry.for_model(record).spec
        if spec.waiting_for(record):
            continue  # another of its documents is still on its way
        data = record_build_payload(record, waiting.operation)
        released = PushRequest.objects.filter(
            pk=waiting.pk, state=State.QUEUED, next_attempt_at__isnull=True
        ).update(
            body={**waiting.body, "data": data},
            payload_hash=payload_hash(data),
            next_attempt_at=timezone.now(),
        )
        if released:
            _note(
                waiting,
                f"{document.name or 'The document'} is in the accounting system "
                f"(id {document.remote_id}): the payment is sent now.",
            )
            transaction.on_commit(lambda pk=waiting.pk: _enqueue(pk))


def _enqueue(push_request_id: int) -> None:
    try:
        enqueue_push_submit(push_request_id)
    except Exception:
        # The row is due: the dispatcher enqueues it again.
        logger.exception("could not enqueue push %s; the dispatcher will", push_request_id)


# --- payments ------------------------------------------------------------------------------


def _payment_queued(push: PushRequest, record: Any) -> None:
    """Refuse the push if another payment on its way took the amount due meanwhile."""
    if push.operation != PushRequest.Operation.CREATE:
        return
    lines = list(record.lines.all())
    ids = sorted({line.document_id for line in lines if line.document_id})
    if not ids:
        return
    mirror = type(lines[0]).document.field.related_model
    # Locked in id order: two payments of the same documents wait for each other, never
    # deadlock, and the second sees the first's push once it commits.
    locked = {d.pk: d for d in mirror.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    for index, line in enumerate(lines):
        document = locked.get(line.document_id)
        if document is None or document.amount_due is None or line.amount is None:
            continue
        available = document.amount_due - taken_by_others(document, record=record)
        if line.amount > available:
            raise PushRefused(
                f"Line {index + 1}: {line.amount:,.2f} is more than the {max(available, 0):,.2f} "
                f"still due on {document.name or document.remote_id} (another payment on its way "
                "takes the rest); nothing was sent.",
                rule="amountDue",
            )


def _payment_settled(push: PushRequest) -> None:
    if push.state != State.SUCCESS:
        return
    if push.operation == PushRequest.Operation.UPDATE:
        return  # the next sync brings the accounting system's figures
    model = push.content_type.model_class()
    sign = -1 if push.operation == PushRequest.Operation.CREATE else 1
    line_model = model._meta.get_field("lines").related_model
    for line in line_model.objects.filter(payment_id=push.object_id).exclude(amount=None):
        if line.document_id is None:
            continue
        mirror = line_model._meta.get_field("document").related_model
        mirror.objects.filter(pk=line.document_id).update(
            amount_due=F("amount_due") + sign * line.amount,
            amount_due_is_local=True,
            # The next sync rewrites the row even if Railz's record hashes as before.
            content_hash="",
        )
        document = mirror.objects.get(pk=line.document_id)
        status = (
            "paid"
            if document.amount_due is not None and document.amount_due <= 0
            else "partiallyPaid"
            if document.total_amount is not None and document.amount_due < document.total_amount
            else "open"
        )
        mirror.objects.filter(pk=document.pk).update(document_status=status)


# --- receivers -----------------------------------------------------------------------------


def on_push_queued(sender: Any, push: PushRequest, record: Any, **kwargs: Any) -> None:
    if _is_payment(push.data_type):
        _payment_queued(push, record)
    else:
        _document_queued(push, record)


def on_push_settled(sender: Any, push: PushRequest, **kwargs: Any) -> None:
    if _is_payment(push.data_type):
        _payment_settled(push)
    else:
        _document_settled(push)


push_queued.connect(on_push_queued, dispatch_uid="open_documents.queued")
push_settled.connect(on_push_settled, dispatch_uid="open_documents.settled")
