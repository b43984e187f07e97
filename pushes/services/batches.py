"""Sending queued pushes of one type and connection together, as one Railz batch call.

Railz takes customers, vendors and journal entries in batches (`POST`/`PUT` on `.../batch`),
answered with a `batchId` and one `pushCommunicationId` per item, in request order. A batch
costs one call instead of one per record; everything else stays per push:

- Each item is its own PushRequest, claimed with the same conditional update as a single
  send (queued -> submitting, committed before anything leaves), and its own timeline shows
  its part of the exchange and the batch it went out in (`batch_id`).
- Outcomes arrive per item (the `batchPush` webhook, or pushStatus asked by `batchId`) through
  the one monotonic `push_apply_status`, so one refused item never fails its siblings.
- A batch whose answer was lost makes every item `unknown`: each is reconciled against
  Railz's push log and adopts its own Railz push by its record's content, never resent. A
  worker killed mid-batch leaves its items in `submitting`, and the lease expiry does the same.
- A batch Railz refuses as a whole (a 400: nothing was created) is sent again one record at a
  time, so a bad record cannot hold up the good ones.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from pushes.models import PushEvent, PushRequest
from pushes.queue import enqueue_pushes_reconcile, enqueue_pushes_submit
from pushes.services.push_requests import (
    POLL_INTERVALS,
    Source,
    State,
    _client,
    _exchange_event,
    _parse_time,
    _record_error,
    _target_mismatch,
    _transition,
    claim_event,
    push_request_submit,
    pushes_claim,
    webhook_events_apply_waiting,
)
from pushes.statements import OnceCompiled, rows_read
from railzpush.railz import Exchange, RailzClient, RailzError, RailzRejected
from railzpush.railz.datatypes import DATA_TYPES, Op

logger = logging.getLogger("pushes")

# How many turns of a task's pushes are read in one query.
READ_AHEAD = 10

BATCH_OPS = {
    PushRequest.Operation.CREATE: Op.BATCH_CREATE,
    PushRequest.Operation.UPDATE: Op.BATCH_UPDATE,
}


def push_batch_op(push: PushRequest) -> Op | None:
    """The batch operation `push` may go out with, or None when it is sent on its own:
    batching off (the setting or the connection), a delete, or a type or provider Railz takes
    no batch of."""
    if not (settings.PUSH_BATCH_ENABLED and push.connection.batch_pushes):
        return None
    op = BATCH_OPS.get(push.operation)
    entry = DATA_TYPES.get(push.data_type)
    if op is None or entry is None or not entry.supports(op, push.connection.service_name):
        return None
    return op


def _queued(push_request_ids: list[int]) -> dict[int, PushRequest]:
    """The pushes of `push_request_ids` that are queued, with their connections, by id.

    A worker reads them a few turns ahead, every few pushes: the ORM compiled this SELECT of
    both rows' columns anew each time, a fifth of the worker's CPU outside the Railz call in a
    profile, so its SQL is compiled once per number of ids and read by `rows_read`."""
    ids = list(push_request_ids)
    params = [*ids, State.QUEUED]
    sql = _queued_query.sql(len(ids), params, ids)
    if sql is None:
        return {push.pk: push for push in _queued_query(ids)}
    rows = rows_read(PushRequest, sql, params, joined="connection")
    return {push.pk: push for push in rows}


@OnceCompiled
def _queued_query(push_request_ids: list[int]) -> Any:
    return PushRequest.objects.select_related("connection").filter(
        pk__in=push_request_ids, state=State.QUEUED
    )


def push_submit(
    *,
    push_request_id: int,
    client: RailzClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
    push: PushRequest | None = None,
) -> PushRequest | None:
    """The worker's job for one queued push: sent in a batch with its queued siblings where
    Railz takes batches of its type, else on its own (`push_request_submit`).

    `push` is the queued row as the caller read it a moment ago (with its connection), so it
    is not read again: its claim requires the attempts read, so an old copy never goes out.
    The first push of a group waits up to PUSH_BATCH_WAIT_SECONDS from its creation for
    siblings to be queued, unless a full batch is already waiting. Returns None if the push
    was not queued (sent in another worker's batch, or cancelled).
    """
    if push is None:
        push = _queued([push_request_id]).get(push_request_id)
    if push is None:
        return None
    op = push_batch_op(push)
    if op is None:
        return push_request_submit(push_request_id=push_request_id, client=client, push=push)
    wait = (
        push.created_at + timedelta(seconds=settings.PUSH_BATCH_WAIT_SECONDS) - timezone.now()
    ).total_seconds()
    if wait > 0 and _siblings(push).count() < settings.PUSH_BATCH_MAX_ITEMS:
        sleep(wait)
    if not _siblings(push).exclude(pk=push.pk).exists():
        # Alone after the wait: one call either way, and a single push's answer is simpler.
        return push_request_submit(push_request_id=push_request_id, client=client)
    return pushes_batch_submit(push=push, op=op, client=client)


@dataclass
class DrainResult:
    """What one task sending several pushes did: each push's state after its turn, the
    pushes not queued any more (sent in a batch, cancelled), the ones whose turn failed
    unexpectedly, and the ones handed to a new task when the time slice ran out."""

    states: Counter = field(default_factory=Counter)
    skipped: int = 0
    errors: int = 0
    requeued: int = 0

    def summary(self) -> str:
        done = ", ".join(f"{n} {state}" for state, n in sorted(self.states.items())) or "none"
        return (
            f"pushes sent: {done}; {self.skipped} not queued any more, skipped; "
            f"{self.errors} failed unexpectedly; {self.requeued} handed to a new task"
        )


def pushes_submit(
    *,
    push_request_ids: list[int],
    slice_seconds: float,
    client: RailzClient | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DrainResult:
    """Send several queued pushes in turn, each exactly as `push_submit` sends one (its own
    claim, answer, retries and failures), sharing one client and its open connection.

    A push is only started within `slice_seconds` of the first: the rest go back to the queue
    as a new task, so a task never outlives the cluster's timeout. A push whose turn fails
    unexpectedly is logged and left as it stands (queued: the dispatcher sends it; claimed:
    its lease runs out and it is reconciled), and the others still go.
    """
    result = DrainResult()
    deadline = clock() + slice_seconds
    client = _client(client)
    # Read a few turns ahead in one query rather than one push a turn; a push sent, cancelled
    # or requeued meanwhile is caught by its claim, which requires the state and attempts read.
    ahead: dict[int, PushRequest] = {}
    read_up_to = 0
    for index, push_request_id in enumerate(push_request_ids):
        if index and clock() >= deadline:
            rest = list(push_request_ids[index:])
            try:
                enqueue_pushes_submit(rest)
            except Exception:
                logger.exception("could not hand %d push(es) to a new task", len(rest))
            result.requeued = len(rest)
            break
        if index >= read_up_to:
            read_up_to = index + READ_AHEAD
            ahead = _queued(list(push_request_ids[index:read_up_to]))
        queued = ahead.pop(push_request_id, None)
        if queued is None:
            result.skipped += 1
            continue
        try:
            push = push_submit(push_request_id=push_request_id, client=client, push=queued)
        except Exception:
            logger.exception("sending push %s failed unexpectedly", push_request_id)
            result.errors += 1
            continue
        if push is None:
            result.skipped += 1
        else:
            result.states[push.state] += 1
    return result


def _siblings(push: PushRequest, *, now=None):
    """Queued pushes that may go out in one batch with `push`: same connection, type and
    operation, and not waiting out a backoff (a fresh push waits for nobody)."""
    now = now or timezone.now()
    return PushRequest.objects.filter(
        state=State.QUEUED,
        connection_id=push.connection_id,
        data_type=push.data_type,
        operation=push.operation,
    ).filter(Q(next_attempt_at__lte=now) | Q(attempts=0, last_error=""))


def _claim(push: PushRequest) -> list[PushRequest]:
    """Claim `push` and up to PUSH_BATCH_MAX_ITEMS - 1 siblings (queued -> submitting), oldest
    first, and commit before anything is sent. Empty when `push` itself was claimed elsewhere."""
    now = timezone.now()
    with transaction.atomic():
        # Lock `push` itself first, waiting for it if need be, then only siblings nobody holds:
        # every row the claim updates is then already this worker's, so two workers claiming
        # overlapping groups never wait on each other's rows (PostgreSQL found that deadlock
        # when each skipped the other's own push and then both updated it).
        if not list(
            PushRequest.objects.filter(pk=push.pk, state=State.QUEUED)
            .select_for_update()
            .values_list("pk", flat=True)
        ):
            return []
        others = list(
            _siblings(push, now=now)
            .exclude(pk=push.pk)
            .order_by("created_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: settings.PUSH_BATCH_MAX_ITEMS - 1]
        )
        ids = [push.pk, *others]
        pushes_claim(PushRequest.objects.filter(pk__in=ids), now=now)
        # `sent_at` is this claim's own mark: a row another worker claimed has another one.
        claimed = {
            p.pk: p
            for p in PushRequest.objects.filter(
                pk__in=ids, state=State.SUBMITTING, sent_at=now
            ).select_related("connection", "content_type")
        }
        if push.pk not in claimed:
            # Another worker's batch took it a moment ago: leave the others for their tasks.
            PushRequest.objects.filter(pk__in=list(claimed), sent_at=now).update(
                state=State.QUEUED, attempts=F("attempts") - 1, sent_at=None
            )
            return []
        pushes = [claimed[pk] for pk in ids if pk in claimed]
        PushEvent.objects.bulk_create(
            claim_event(
                p.pk,
                now=now,
                message=f"Sent in one batch call with {len(pushes) - 1} other {p.data_type} "
                "push(es) to this connection."
                if len(pushes) > 1
                else "",
            )
            for p in pushes
        )
    return pushes


def _item(push: PushRequest, op: Op) -> dict[str, Any]:
    data = dict((push.body or {}).get("data") or {})
    if op is Op.BATCH_UPDATE:
        # Batch updates name their target with a plain string, not a {"id"} object.
        data[DATA_TYPES[push.data_type].batch_target] = push.provider_record_id
    return data


def pushes_batch_submit(
    *, push: PushRequest, op: Op, client: RailzClient | None = None
) -> PushRequest | None:
    """Claim `push` with its queued siblings, send them as one batch call and record the
    answer on each. Returns `push` as it is now, or None if another worker had claimed it."""
    pushes = _claim(push)
    if not pushes:
        return None
    client = _client(client)
    if op is Op.BATCH_UPDATE:
        pushes = _drop_mismatched_targets(pushes, client)
        if not pushes:
            return _fresh(push)
    connection = pushes[0].connection
    items = [_item(p, op) for p in pushes]
    exchanges: list[Exchange] = []
    send = client.batch_create if op is Op.BATCH_CREATE else client.batch_update
    try:
        answer = send(
            pushes[0].data_type,
            connection_uuid=connection.connection_uuid,
            items=items,
            service_name=connection.service_name,
            on_exchange=exchanges.append,
        )
    except RailzError as exc:
        with transaction.atomic():
            _record_exchanges(pushes, items, exchanges)
        _record_batch_error(pushes, exc, client)
        return _fresh(push)
    with transaction.atomic():
        _record_exchanges(pushes, items, exchanges)
        batch_id = _record_batch_answer(pushes, answer)
    if batch_id:
        # Its webhook may have arrived before we wrote the ids down (stored under the batchId).
        webhook_events_apply_waiting(push_communication_id=batch_id)
    return _fresh(push)


def _fresh(push: PushRequest) -> PushRequest:
    push.refresh_from_db()
    return push


def _drop_mismatched_targets(pushes: list[PushRequest], client: RailzClient) -> list[PushRequest]:
    """As for a single update: an item whose provider id names another record fails unsent."""
    kept = []
    for push in pushes:
        refusal = _target_mismatch(push, client)
        if not refusal:
            kept.append(push)
            continue
        _transition(
            push,
            to=State.FAILED,
            source=Source.WORKER,
            message=refusal,
            fields={"last_error": refusal, "completed_on": timezone.now()},
        )
    return kept


def _send_alone(pushes: list[PushRequest], client: RailzClient, *, why: str) -> None:
    """Send each claimed push as a single call: back to queued (not an attempt), then the
    single send claims it again at once."""
    for push in pushes:
        if _transition(
            push,
            to=State.QUEUED,
            source=Source.WORKER,
            message=why,
            fields={"attempts": F("attempts") - 1, "sent_at": None},
        ):
            push_request_submit(push_request_id=push.pk, client=client)


def _record_exchanges(
    pushes: list[PushRequest], items: list[dict[str, Any]], exchanges: list[Exchange]
) -> None:
    """Each push's timeline gets its own part of the batch call: its item and its entry of
    the answer, with the batch's id and size; other calls (a token) go on the first push's."""
    now = timezone.now()
    events = []
    for exchange in exchanges:
        body = exchange.request_body
        if not (isinstance(body, dict) and isinstance(body.get("batch"), list)):
            events.append(_exchange_event(pushes[0].pk, exchange, source=Source.WORKER, at=now))
            continue
        answer = exchange.response_body if isinstance(exchange.response_body, dict) else None
        entries = answer.get("batch") if answer and isinstance(answer.get("batch"), list) else []
        for index, (push, item) in enumerate(zip(pushes, items, strict=True)):
            event = _exchange_event(push.pk, exchange, source=Source.WORKER, at=now)
            event.request_body = {
                "connectionUuid": body.get("connectionUuid"),
                "batch": [item],
                "item": f"{index + 1} of {len(items)}",
            }
            if answer is not None:
                event.response_body = {
                    **{k: v for k, v in answer.items() if k != "batch"},
                    "batch": entries[index : index + 1],
                }
            events.append(event)
    PushEvent.objects.bulk_create(events)


def _record_batch_answer(pushes: list[PushRequest], answer: dict[str, Any]) -> str:
    """Every item Railz answered for becomes `pending` with its own pushCommunicationId and
    the batch's id, in one conditional update; an item without an id becomes `unknown`."""
    batch_id = answer.get("batchId") if isinstance(answer.get("batchId"), str) else ""
    entries = answer.get("batch") if isinstance(answer.get("batch"), list) else []
    now = timezone.now()
    ids: dict[int, str] = {}
    requested: dict[int, Any] = {}
    moved: dict[int, str] = {}
    lost = []
    for index, push in enumerate(pushes):
        entry = entries[index] if index < len(entries) and isinstance(entries[index], dict) else {}
        communication_id = entry.get("pushCommunicationId")
        if isinstance(communication_id, str) and communication_id:
            ids[push.pk] = communication_id
            requested[push.pk] = _parse_time(entry.get("requestedOn")) or now
        else:
            lost.append(push)
    if ids:
        # submitting -> pending stays in the running totals' "in progress" column.
        PushRequest.objects.filter(pk__in=list(ids), state=State.SUBMITTING).update(
            state=State.PENDING,
            push_communication_id=Case(
                *(When(pk=pk, then=Value(cid)) for pk, cid in ids.items()),
                default=F("push_communication_id"),
            ),
            requested_on=Case(
                *(When(pk=pk, then=Value(at)) for pk, at in requested.items()),
                default=F("requested_on"),
            ),
            batch_id=batch_id,
            next_poll_at=now + timedelta(seconds=POLL_INTERVALS[0][1]),
            last_error="",
            reconcile_note="",
            updated_at=now,
        )
        moved = {
            pk: cid
            for pk, cid in PushRequest.objects.filter(
                pk__in=list(ids), state=State.PENDING, batch_id=batch_id
            ).values_list("pk", "push_communication_id")
        }
        PushEvent.objects.bulk_create(
            PushEvent(
                push_request_id=push.pk,
                at=now,
                kind=PushEvent.Kind.STATE,
                source=Source.WORKER,
                from_state=push.state,
                to_state=State.PENDING,
                message=f"Railz accepted it as push {moved[push.pk]}, item "
                f"{index + 1} of {len(pushes)} of batch {batch_id or '(no batchId)'}.",
            )
            for index, push in enumerate(pushes)
            if push.pk in moved
        )
    for index, push in enumerate(pushes):
        if push.pk in ids and push.pk not in moved:
            # Its lease ran out while the call was out (now unknown): the answer still counts.
            _transition(
                push,
                to=State.PENDING,
                source=Source.WORKER,
                message=f"Railz accepted it as push {ids[push.pk]}, item {index + 1} of "
                f"{len(pushes)} of batch {batch_id or '(no batchId)'}.",
                fields={
                    "push_communication_id": ids[push.pk],
                    "requested_on": requested[push.pk],
                    "batch_id": batch_id,
                    "next_poll_at": now + timedelta(seconds=POLL_INTERVALS[0][1]),
                    "last_error": "",
                    "reconcile_note": "",
                },
            )
    for push in lost:
        _transition(
            push,
            to=State.UNKNOWN,
            source=Source.WORKER,
            message="Railz accepted the batch but did not say which push this item became.",
            fields={"last_error": "Railz's answer had no pushCommunicationId for this item."},
        )
    if lost:
        _enqueue_reconcile(lost)
    return batch_id


def _record_batch_error(pushes: list[PushRequest], exc: RailzError, client: RailzClient) -> None:
    if isinstance(exc, RailzRejected) and exc.status_code == 400 and len(pushes) > 1:
        # Refused as a whole before anything was created: one bad record must not hold up the
        # others, so each goes again on its own and only the bad one is refused.
        _send_alone(
            pushes,
            client,
            why=f"Railz refused the batch this push was in ({exc}); nothing was created. "
            "Sent again on its own.",
        )
        return
    if exc.outcome_unknown:
        unknown = []
        with transaction.atomic():
            for push in pushes:
                if _transition(
                    push,
                    to=State.UNKNOWN,
                    source=Source.WORKER,
                    message=f"{exc} It went out in one batch call with {len(pushes) - 1} other "
                    "push(es); each is checked against Railz's push log, never sent again.",
                    fields={"last_error": str(exc), "response_code": exc.status_code},
                ):
                    unknown.append(push)
            _enqueue_reconcile(unknown)
        return
    # Not accepted (rate limit, 5xx before accepting, refused): each push as a single send's.
    with transaction.atomic():
        for push in pushes:
            _record_error(push, exc)


def _enqueue_reconcile(pushes: list[PushRequest]) -> None:
    """One reconciliation for the whole batch (once committed): its items share one push
    log and one read of each record, instead of one pass per item."""
    ids = [p.pk for p in pushes]
    if not ids:
        return

    def enqueue() -> None:
        try:
            enqueue_pushes_reconcile(ids)
        except Exception:
            logger.exception("could not enqueue reconciliation of pushes %s", ids)

    transaction.on_commit(enqueue)
