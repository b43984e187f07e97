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
- When a payment succeeds its documents' amount due (and its credit notes' remaining credit)
  drops at once, marked local until the next sync brings the accounting system's own figure;
  an update moves it by the difference between what the payment applied before and what it
  applies now, and a deleted payment gives it back. What a payment applied is read from the
  bodies of its successful pushes: what was sent, not the lines as edited since.
"""

from __future__ import annotations

import functools
import logging
import operator
from decimal import Decimal
from functools import reduce
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.utils import timezone

from pushes import registry
from pushes.models import PushEvent, PushRequest
from pushes.payloads import payload_hash, record_build_payload
from pushes.push_selectors import push_release_plan
from pushes.queue import enqueue_push_submit
from pushes.selectors import invoice_totals
from pushes.services.push_requests import PushRefused
from pushes.signals import push_settled, pushes_queued
from pushes.spec import Kind
from pushes.types.payment_spec import (
    LINKS,
    ON_ITS_WAY_PREFIX,
    applied_before,
    applied_in,
    linked,
    links_to,
    over_what_is_open,
    taken_by_others,
)
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


def _documents_queued(queued: list[tuple[PushRequest, Any]]) -> None:
    """Each created document's placeholder row, on its way: one INSERT ... ON CONFLICT DO
    UPDATE per mirror for a whole bulk push (a new row, or the one an earlier push left)."""
    rows: dict[type[OpenDocument], list[OpenDocument]] = {}
    updated: dict[type[OpenDocument], list[str]] = {}
    for push, record in queued:
        mirror = _mirror_of(push.data_type)
        if mirror is None or push.operation != PushRequest.Operation.CREATE:
            continue
        fields = {**_document_fields(record), "document_status": PUSHING}
        rows.setdefault(mirror, []).append(
            mirror(connection=record.connection, remote_id=_placeholder_id(push), **fields)
        )
        updated[mirror] = list(fields)
    for mirror, documents in rows.items():
        mirror.objects.bulk_create(
            documents,
            update_conflicts=True,
            unique_fields=["connection", "remote_id"],
            update_fields=updated[mirror],
            batch_size=500,
        )


def _document_settled(push: PushRequest) -> None:
    mirror = _mirror_of(push.data_type)
    if mirror is None or push.operation != PushRequest.Operation.CREATE:
        return
    placeholder = _placeholder_id(push)
    provider_id = (
        next(iter(push.source_object_ids or []), "") if push.state == State.SUCCESS else ""
    )
    if provider_id and _placeholder_becomes(mirror, push, placeholder, provider_id):
        return
    # The placeholder and (on success) the row a sync may have brought first, in one read.
    rows = {
        row.remote_id: row
        for row in _with_payment_lines(
            mirror.objects.filter(
                connection_id=push.connection_id, remote_id__in=[placeholder, provider_id]
            )
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
        # The placeholder becomes the document: the payments composed against it keep it.
        fields = _became_fields(provider_id)
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
            for line_model, name in links_to(mirror):
                line_model.objects.filter(**{name: row}).update(**{name: synced})
            row.delete()
            synced.paid_here = synced.paid_here or row.paid_here
        document = synced
    _release_waiting(document)


def _placeholder_becomes(
    mirror: type[OpenDocument], push: PushRequest, placeholder: str, provider_id: str
) -> bool:
    """The usual success in one UPDATE: the placeholder takes the provider's id, where no sync
    brought that row first and no payment composed here waits for it. False (nothing changed)
    otherwise, and the full path decides.

    Every push that succeeds runs it, so its SQL is built once per mirror from the models (the
    ORM compiled this statement and its subqueries anew each time, about a tenth of a push's
    CPU); only the values are bound per call.
    """
    fields = _became_fields(provider_id)
    sql, names = _becomes_statement(mirror, tuple(fields))
    values = [
        mirror._meta.get_field(name).get_db_prep_save(fields[name], connection) for name in names
    ]
    keys = [push.connection_id, placeholder, push.connection_id, provider_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *keys])
        return cursor.rowcount > 0


@functools.cache
def _becomes_statement(
    mirror: type[OpenDocument], names: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """UPDATE the placeholder row, unless the provider's row is there already or a payment
    line names the placeholder (the statement `_placeholder_becomes` binds)."""
    quote = connection.ops.quote_name
    meta = mirror._meta
    table = quote(meta.db_table)
    column = {name: quote(meta.get_field(name).column) for name in ("connection", "remote_id")}
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    unpaid = "".join(
        f" AND NOT EXISTS (SELECT 1 FROM {quote(line._meta.db_table)} WHERE "  # noqa: S608
        f"{quote(line._meta.get_field(link).column)} = {table}.{quote(meta.pk.column)})"
        for line, link in links_to(mirror)
    )
    # Built from the models' own table and column names only, never from input.
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608
        f"WHERE {column['connection']} = %s AND {column['remote_id']} = %s "
        f"AND NOT EXISTS (SELECT 1 FROM {table} AS synced WHERE "
        f"synced.{column['connection']} = %s AND synced.{column['remote_id']} = %s){unpaid}"
    )
    return sql, names


def _became_fields(provider_id: str) -> dict[str, Any]:
    # Its figures were read from the record when the push was queued, i.e. from the body
    # that was pushed, so they stand.
    return {
        "remote_id": provider_id,
        "document_status": "open",
        "status": "active",
        "archived_at": None,
        "content_hash": "",
        "synced_at": timezone.now(),
    }


def _with_payment_lines(documents: Any) -> Any:
    """The mirror rows of `documents`, each with `paid_here`: whether a payment line composed
    here names it. Most documents have none, and then no payment can be waiting for them: the
    one read that settles a document's push answers that too."""
    annotations = {
        f"paid_here_{n}": named for n, named in enumerate(_payment_lines_naming(documents.model))
    }
    if not annotations:
        return documents.annotate(paid_here=Value(False))
    return documents.annotate(**annotations).annotate(
        paid_here=reduce(operator.or_, (Q(**{name: True}) for name in annotations))
    )


def _payment_lines_naming(mirror: type[OpenDocument]) -> list[Exists]:
    """For each kind of payment line that can name a `mirror` row: whether one names the row
    of the outer query."""
    return [
        Exists(line_model.objects.filter(**{name: OuterRef("pk")}))
        for line_model, name in links_to(mirror)
    ]


def _waiting_pushes(document: OpenDocument | None) -> list[PushRequest]:
    if document is None or getattr(document, "paid_here", True) is False:
        return []
    pushes = []
    for line_model, name in links_to(type(document)):
        payment_model = line_model._meta.get_field("payment").related_model
        payment_ids = line_model.objects.filter(**{name: document}).values("payment_id")
        pushes += list(
            PushRequest.objects.filter(
                content_type=ContentType.objects.get_for_model(payment_model),
                object_id__in=payment_ids,
                state=State.QUEUED,
                next_attempt_at__isnull=True,
                # A held payment waits for a person, not for the document.
                held_reason="",
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
    """Hold the payments waiting for `row`, whose push failed or was cancelled: each says so
    (`held_reason`, shown in lists, on its page and in the API) until a person releases or
    cancels it."""
    what = row.name if row is not None and row.name else "the document"
    reason = push.last_error or (push.validation_errors and str(push.validation_errors)) or ""
    verdict = "was cancelled" if push.state == State.CANCELLED else "failed"
    held = f"Held: the push of {what} {verdict}{f' ({reason[:300]})' if reason else ''}."
    for waiting in _waiting_pushes(row):
        if PushRequest.objects.filter(pk=waiting.pk, state=State.QUEUED, held_reason="").update(
            held_reason=held
        ):
            _note(
                waiting,
                f"{held} This payment is not sent: release it (it waits for the document to "
                "be pushed again, or goes if the document got there) or cancel this push.",
            )


def _send(waiting: PushRequest, record: Any, message: str) -> bool:
    """Make a waiting payment due, its body rebuilt with its documents' real ids."""
    data = record_build_payload(record, waiting.operation)
    released = PushRequest.objects.filter(
        pk=waiting.pk, state=State.QUEUED, next_attempt_at__isnull=True, held_reason=""
    ).update(
        body={**waiting.body, "data": data},
        payload_hash=payload_hash(data),
        next_attempt_at=timezone.now(),
    )
    if released:
        _note(waiting, message)
        transaction.on_commit(lambda pk=waiting.pk: _enqueue(pk))
    return bool(released)


def _release_waiting(document: OpenDocument) -> None:
    for waiting in _waiting_pushes(document):
        record = waiting.content_type.get_object_for_this_type(pk=waiting.object_id)
        spec = registry.for_model(record).spec
        if spec.waiting_for(record):
            continue  # another of its documents is still on its way
        _send(
            waiting,
            record,
            f"{document.name or 'The document'} is in the accounting system "
            f"(id {document.remote_id}): the payment is sent now.",
        )


def push_request_release(
    *, push: PushRequest, user: Any = None, source: str = PushRequest.Source.STAFF
) -> bool:
    """A person releases a held payment: it is sent now if every document it pays has its id
    in the accounting system, and otherwise waits for them again (a document pushed again
    then releases it). False if it left the held state a moment ago; PushRefused with
    push_release_plan's reason when it is not held. Never sent with a missing link."""
    verdict = push_release_plan(push=push, user=user)
    if not verdict.allowed:
        raise PushRefused(verdict.reason)
    who = getattr(user, "get_username", lambda: "")() or source
    with transaction.atomic():
        if not (
            PushRequest.objects.filter(pk=push.pk, state=State.QUEUED)
            .exclude(held_reason="")
            .update(held_reason="")
        ):
            return False
        push.held_reason = ""
        record = push.content_type.get_object_for_this_type(pk=push.object_id)
        waits = registry.for_model(record).spec.waiting_for(record)
        if waits:
            _note(push, f"Released by {who}. {waits}")
        else:
            _send(
                push,
                record,
                f"Released by {who}: its documents are in the accounting "
                "system, so it is sent now.",
            )
    return True


def _enqueue(push_request_id: int) -> None:
    try:
        enqueue_push_submit(push_request_id)
    except Exception:
        # The row is due: the dispatcher enqueues it again.
        logger.exception("could not enqueue push %s; the dispatcher will", push_request_id)


# --- payments ------------------------------------------------------------------------------


def _linked_rows(lines: list[Any]) -> dict[type, set[int]]:
    """The mirrored rows the lines name, by mirror model: ids of documents and credit notes."""
    rows: dict[type, set[int]] = {}
    for line in lines:
        for name in LINKS:
            row_id = getattr(line, f"{name}_id", None)
            if row_id is not None:
                model = type(line)._meta.get_field(name).related_model
                rows.setdefault(model, set()).add(row_id)
    return rows


def _payment_queued(push: PushRequest, record: Any) -> None:
    """Refuse the push if another payment on its way took the amount due (or the remaining
    credit) meanwhile."""
    if push.operation != PushRequest.Operation.CREATE:
        return
    lines = list(record.lines.all())
    # Locked in a fixed order (mirror, then id): two payments of the same rows wait for each
    # other, never deadlock, and the second sees the first's push once it commits.
    locked: dict[tuple[type, int], OpenDocument] = {}
    for model, ids in sorted(_linked_rows(lines).items(), key=lambda kv: kv[0]._meta.label):
        for row in model.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            locked[(model, row.pk)] = row
    for index, line in enumerate(lines):
        for _name, row in linked(line):
            document = locked.get((type(row), row.pk))
            if document is None or document.amount_due is None or line.amount is None:
                continue
            available = document.amount_due - taken_by_others(document, record=record)
            if line.amount > available:
                raise PushRefused(
                    f"Line {index + 1}: {over_what_is_open(document, line.amount, available)} "
                    "(another payment on its way takes the rest); nothing was sent.",
                    rule="amountDue",
                )


def _status_after_payment(document: OpenDocument) -> str:
    if document.amount_due is not None and document.amount_due <= 0:
        return "paid"
    if document.total_amount is not None and document.amount_due < document.total_amount:
        return "partiallyPaid"
    return "open"


def _mirrors_by_link_type(payment_model: Any) -> dict[str, type[OpenDocument]]:
    """The mirrors a payment's lines name, by the link type its body names them with."""
    line_model = payment_model._meta.get_field("lines").related_model
    mirrors = (line_model._meta.get_field(name).related_model for name in LINKS)
    return {mirror.link_type: mirror for mirror in mirrors}


def _move_open_amounts(push: PushRequest, changes: dict[tuple[str, str], Decimal]) -> None:
    """Take `changes` (more applied: positive; given back: negative) off the amount due of the
    documents and the remaining credit of the credit notes they name. Marked local until the
    next sync brings the accounting system's own figure."""
    mirrors = _mirrors_by_link_type(push.content_type.model_class())
    for (link_type, remote_id), change in sorted(changes.items()):
        mirror = mirrors.get(link_type)
        if mirror is None or not change:
            continue
        rows = mirror.objects.filter(connection_id=push.connection_id, remote_id=remote_id)
        rows.update(
            amount_due=F("amount_due") - change,
            amount_due_is_local=True,
            # The next sync rewrites the row even if Railz's record hashes as before.
            content_hash="",
        )
        for document in rows:
            rows.filter(pk=document.pk).update(document_status=_status_after_payment(document))


def _payment_settled(push: PushRequest) -> None:
    """What a payment applies moves the mirrored amounts at once: a create takes what it
    applies, an update the difference between what it applied before and what it applies now,
    a delete gives back what it applied."""
    if push.state != State.SUCCESS:
        return
    Operation = PushRequest.Operation
    record = push.content_type.get_object_for_this_type(pk=push.object_id)
    before = {} if push.operation == Operation.CREATE else applied_before(record, before=push.pk)
    now = {} if push.operation == Operation.DELETE else applied_in(push.body)
    changes = {key: now.get(key, 0) - before.get(key, 0) for key in {*before, *now}}
    _move_open_amounts(push, changes)


# --- receivers -----------------------------------------------------------------------------


def on_pushes_queued(sender: Any, queued: list[tuple[PushRequest, Any]], **kwargs: Any) -> None:
    documents = []
    for push, record in queued:
        if _is_payment(push.data_type):
            _payment_queued(push, record)
        else:
            documents.append((push, record))
    _documents_queued(documents)


def on_push_settled(sender: Any, push: PushRequest, **kwargs: Any) -> None:
    if _is_payment(push.data_type):
        _payment_settled(push)
    else:
        _document_settled(push)


pushes_queued.connect(on_pushes_queued, dispatch_uid="open_documents.queued")
push_settled.connect(on_push_settled, dispatch_uid="open_documents.settled")
