"""Writes of the push pipeline: creating pushes, sending them, and learning their outcome.

Every change of a push's `state` goes through `_transition`, a conditional UPDATE from the
states the target may be reached from (ALLOWED_FROM). Terminal states appear in no "from" set,
so nothing moves a finished push again, whichever worker, poll, webhook or person tries.

The send is written as a work log: the row is claimed (queued -> submitting) and committed
before the request leaves, and Railz's answer is written back afterwards. A request that may
have reached Railz without an answer becomes `unknown` and is never sent again: it is
reconciled against GET /v2/data/pushStatus instead, because Railz has no idempotency key and a
resend could create a second record in the accounting system.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db import connection as database
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.conf import Conf

from pushes import registry
from pushes.models import ConnectionPause, PushEvent, PushRequest, WebhookEvent
from pushes.payloads import payload_hash, record_build_payload
from pushes.push_selectors import (
    push_cancel_plan,
    push_never_received_plan,
    push_plan_for,
    push_refresh_plan,
    push_retry_plan,
    pushes_in_flight_for,
)
from pushes.queue import enqueue_push_reconcile, enqueue_pushes_submit, wake_dispatcher
from pushes.read_memo import memo_scope
from pushes.record_checks import unique_read_ahead
from pushes.services.connection_pauses import (
    connection_pause_for_error,
    connection_pause_for_refusal,
    connection_pause_for_status,
)
from pushes.services.identity import identity_differences, identity_in_words, record_identity
from pushes.signals import push_settled, pushes_queued
from pushes.statements import (
    OnceCompiled,
    column_read,
    row_insert,
    row_update,
    row_update_then_insert,
    rows_insert,
    rows_read,
)
from railzpush.railz import (
    Exchange,
    RailzClient,
    RailzError,
    RailzOutcomeUnknown,
    RailzRateLimited,
    get_client,
)
from refs.models import Connection

logger = logging.getLogger("pushes")

State = PushRequest.State
Source = PushEvent.Source

# The only ways a push may change state. Terminal states are never a "from".
ALLOWED_FROM: dict[str, frozenset[str]] = {
    State.SUBMITTING: frozenset({State.QUEUED}),
    # Railz answered 429/5xx/unreachable before accepting: safe to send again later.
    State.QUEUED: frozenset({State.SUBMITTING}),
    # The worker's own answer, or an adoption of a lost one (reconciliation, late answer).
    State.PENDING: frozenset({State.SUBMITTING, State.UNKNOWN}),
    State.UNKNOWN: frozenset({State.SUBMITTING}),
    State.REJECTED: frozenset({State.SUBMITTING}),
    State.SUCCESS: frozenset({State.SUBMITTING, State.PENDING, State.UNKNOWN}),
    State.FAILED: frozenset({State.SUBMITTING, State.PENDING, State.UNKNOWN}),
    State.CANCELLED: frozenset({State.QUEUED}),
}

# How often a pending push is asked about, by its age: (younger than, every) in seconds.
POLL_INTERVALS: tuple[tuple[float | None, int], ...] = (
    (30, 5),
    (120, 15),
    (900, 60),
    (None, 300),
)

SOURCE_OF_REQUEST = {
    PushRequest.Source.STAFF: Source.STAFF,
    PushRequest.Source.API: Source.API,
    PushRequest.Source.SYSTEM: Source.SYSTEM,
}


class PushRefused(Exception):
    """A push (or retry, cancel) that cannot be done; the message says why, for a person, and
    `rule` as a code (the refused plan's)."""

    def __init__(self, message: str, rule: str = "pushRefused") -> None:
        super().__init__(message)
        self.rule = rule


# --- small helpers ----------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = parse_datetime(value.replace("Z", "+00:00"))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed


def _validation_errors(item: dict[str, Any]) -> list[dict[str, str]]:
    validation = item.get("validation")
    errors = validation.get("errors") if isinstance(validation, dict) else None
    if not isinstance(errors, list):
        return []
    return [
        {"field": str(e.get("field") or ""), "message": str(e.get("message") or "")}
        for e in errors
        if isinstance(e, dict)
    ]


# Each thread keeps its client (and so its HTTP connection to Railz) from one send to the next;
# a connection idle longer than this is closed first, before the server may close it under a
# write (a write whose answer is lost must be reconciled, never sent again).
CLIENT_IDLE_SECONDS = 1.0
_clients = threading.local()


def _client(client: RailzClient | None) -> RailzClient:
    if client is not None:
        return client
    # A worker never sits out a long rate-limit pause: it requeues the push instead.
    key = (
        get_client,
        settings.RAILZ_API_URL,
        settings.RAILZ_AUTH_URL,
        settings.RAILZ_CLIENT_ID,
        settings.RAILZ_SECRET_KEY,
        settings.RAILZ_CONNECT_TIMEOUT,
        settings.RAILZ_READ_TIMEOUT,
        settings.RAILZ_RATE_LIMIT_PER_MINUTE,
        json.dumps(settings.RAILZ_PROVIDER_LIMITS, sort_keys=True),
        settings.RAILZ_GET_RETRIES,
        settings.PUSH_RATE_LIMIT_WAIT_SECONDS,
        repr(settings.CACHES),
    )
    now = time.monotonic()
    kept = getattr(_clients, "kept", None)
    if kept is None or kept[0] != key:
        kept = (key, get_client(max_wait=settings.PUSH_RATE_LIMIT_WAIT_SECONDS), now)
    elif now - kept[2] > CLIENT_IDLE_SECONDS:
        session = getattr(kept[1], "session", None)
        if session is not None:
            session.close()
    _clients.kept = (key, kept[1], now)
    return kept[1]


def _exchange_event(push_id: int, exchange: Exchange, *, source: str, at: datetime) -> PushEvent:
    return PushEvent(
        push_request_id=push_id,
        at=at,
        kind=PushEvent.Kind.EXCHANGE,
        source=source,
        method=exchange.method,
        path=exchange.path[:500],
        query=exchange.query or None,
        status_code=exchange.status_code,
        duration_ms=exchange.duration_ms,
        request_body=exchange.request_body,
        response_body=exchange.response_body,
        message=exchange.error or "",
    )


def push_note(*, push: PushRequest, message: str, source: str) -> PushEvent:
    """Add a plain-words line to the push's timeline."""
    return PushEvent.objects.create(
        push_request=push,
        at=timezone.now(),
        kind=PushEvent.Kind.NOTE,
        source=source,
        message=message,
    )


# --- the one place a push changes state ------------------------------------------------------


def _transition(
    push: PushRequest,
    *,
    to: str,
    source: str,
    message: str = "",
    fields: dict[str, Any] | None = None,
    then: Callable[[PushRequest], None] | None = None,
    events: list[PushEvent] | None = None,
    claim: PushEvent | None = None,
) -> bool:
    """Move `push` to `to` if its current state allows it; False (and no change) otherwise.

    The UPDATE is conditional on the state it leaves, so of two racing callers exactly one
    wins. `then` runs in the same transaction, only for the winner (e.g. writing the record's
    provider id). `events` (the exchanges that led here) go on the timeline in the same
    transaction and the same INSERT as the change of state, or alone if it is refused. `claim`
    (a single send's queued -> submitting line, not written yet) goes first among them while
    the push is still in `submitting`; if it left it meanwhile, whoever moved it (the lease
    expiry) wrote that line. `push` is refreshed in memory on success.

    Where nothing else is written with it (no `then`, not a final state) and no transaction is
    open, the change and its lines are one statement where the database allows it
    (`row_update_then_insert`), with no transaction around it.
    """

    def with_claim(state: str | None) -> list[PushEvent]:
        return [claim, *(events or [])] if claim and state == State.SUBMITTING else events or []

    allowed = ALLOWED_FROM[to]
    now = timezone.now()
    values = {**(fields or {}), "state": to, "updated_at": now}
    expected = push.state
    # Inside a caller's transaction (a webhook's receipt), a savepoint is two more statements
    # and only matters where a unique constraint can refuse the change and a caller goes on:
    # adopting a Railz push id, or entering a state of the one-push-in-flight rule.
    savepoint = "push_communication_id" in values or to in PushRequest.IN_FLIGHT
    if (
        expected in allowed
        and then is None
        and to not in PushRequest.TERMINAL
        and not database.in_atomic_block
    ):
        # Nothing else to write in the same breath (a worker recording Railz's answer): the
        # change and its lines in one statement where the database can, with no transaction.
        changed = row_update_then_insert(
            PushRequest,
            push.pk,
            where={"state": expected},
            values=values,
            rows=[*with_claim(expected), _state_line(push, expected, to, now, source, message)],
        )
        if changed:
            for name, value in values.items():
                setattr(push, name, value)
            return True
        # None: not one statement here; 0: someone moved it meanwhile. Either way the general
        # path below decides, from the state the push is in now.
    with transaction.atomic(savepoint=savepoint):
        for _ in range(3):
            if expected in allowed and _update_push(push.pk, expected, values):
                break
            # Someone else moved it (or our copy is old): decide from the state it is in now.
            current = column_read(PushRequest, push.pk, "state")
            if current == expected and current not in allowed:
                rows_insert(PushEvent, with_claim(current))
                return False
            expected = current
        else:
            rows_insert(PushEvent, with_claim(expected))
            return False
        for name, value in values.items():
            if not hasattr(value, "resolve_expression"):
                setattr(push, name, value)
        state_line = _state_line(push, expected, to, now, source, message)
        rows_insert(PushEvent, [*with_claim(expected), state_line])
        if then is not None:
            then(push)
        if to in PushRequest.TERMINAL:
            push_settled.send(sender=PushRequest, push=push)
    if any(hasattr(v, "resolve_expression") for v in values.values()):
        push.refresh_from_db(
            fields=[k for k, v in values.items() if hasattr(v, "resolve_expression")]
        )
    return True


def _state_line(
    push: PushRequest, expected: str, to: str, now: datetime, source: str, message: str
) -> PushEvent:
    return PushEvent(
        push_request=push,
        at=now,
        kind=PushEvent.Kind.STATE,
        source=source,
        from_state=expected,
        to_state=to,
        message=message,
    )


def _update_push(pk: int, expected: str, values: dict[str, Any]) -> int:
    """UPDATE the push `pk` with `values` if it is still in `expected`; rows changed."""
    changed = row_update(PushRequest, pk, where={"state": expected}, values=values)
    if changed is None:  # an expression (attempts - 1): the ORM writes it
        changed = PushRequest.objects.filter(pk=pk, state=expected).update(**values)
    return changed


# --- creating pushes --------------------------------------------------------------------------


def _new_push(
    *,
    record: Any,
    plan: Any,
    user: Any,
    source: str,
    retry_of: PushRequest | None,
    now: datetime,
) -> tuple[PushRequest, PushEvent]:
    """The unsaved row of a planned push and the first line of its timeline."""
    pushable = registry.for_model(record)
    connection = record.connection
    if not connection.is_active:
        # Railz reports it disconnected or expired: the push queues behind the pause.
        connection_pause_for_status(connection)
    op = plan.operation
    body: dict[str, Any] = {"connectionUuid": connection.connection_uuid}
    if op == PushRequest.Operation.DELETE:
        # A DELETE sends no data, only the connection and the provider's id; with no data
        # there is no hash, and none is written to the record when it succeeds.
        hashed = ""
    else:
        body["data"] = record_build_payload(record, op)
        hashed = payload_hash(body["data"])
    # A record whose body names another record still on its way (a payment's invoice) is
    # written queued but not due: the type releases it once that record's id is known.
    waiting = pushable.spec.waiting_for(record) if op != PushRequest.Operation.DELETE else ""
    push = PushRequest(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        connection=connection,
        data_type=pushable.data_type,
        operation=op,
        provider_record_id=record.provider_record_id if op != "create" else "",
        body=body,
        payload_hash=hashed,
        state=State.QUEUED,
        next_attempt_at=None
        if waiting
        else now + timedelta(seconds=settings.PUSH_DISPATCH_GRACE_SECONDS),
        requested_by=user if getattr(user, "pk", None) else None,
        source=source,
        retry_of=retry_of,
    )
    event = PushEvent(
        at=now,
        kind=PushEvent.Kind.STATE,
        source=SOURCE_OF_REQUEST.get(source, Source.SYSTEM),
        to_state=State.QUEUED,
        message=plan.reason
        + (f" Retry of push #{retry_of.pk}." if retry_of is not None else "")
        + (f" {waiting}" if waiting else ""),
    )
    return push, event


def push_request_create(
    *,
    record: Any,
    user: Any = None,
    source: str = PushRequest.Source.STAFF,
    operation: str | None = None,
    retry_of: PushRequest | None = None,
) -> PushRequest:
    """Queue one push of `record` (create, or update if it is already in the accounting system;
    `operation="update"` or `"delete"` asks for that one).

    Raises PushRefused with the reason when it cannot be pushed (no permission, draft, invalid,
    provider cannot update or delete, nothing to delete, a push already in flight). The send
    is enqueued on commit.
    """
    plan = push_plan_for(record=record, operation=operation, user=user)
    if plan.refused:
        raise PushRefused(plan.reason, rule=plan.rule)
    return _push_request_queue(
        record=record, plan=plan, user=user, source=source, retry_of=retry_of
    )


def _push_request_queue(
    *, record: Any, plan: Any, user: Any, source: str, retry_of: PushRequest | None
) -> PushRequest:
    """Write the push `plan` allows and enqueue its send on commit."""
    push, event = _new_push(
        record=record, plan=plan, user=user, source=source, retry_of=retry_of, now=timezone.now()
    )
    try:
        with transaction.atomic():
            push.save()
            event.push_request = push
            event.save()
            pushes_queued.send(sender=PushRequest, queued=[(push, record)])
    except IntegrityError:
        # The partial unique constraint: someone queued a push of this record a moment ago.
        raise PushRefused(
            f"{plan.reason.split(' will ')[0]} already has a push in progress; wait for its "
            "outcome.",
            rule="pushInFlight",
        ) from None
    if push.next_attempt_at is not None:
        transaction.on_commit(lambda: _enqueue_submits([push.pk]))
    return push


def _enqueue_submits(push_request_ids: list[int]) -> None:
    # With the ORM broker, one commit for the whole batch instead of one per task. In sync mode
    # each task runs inline right here, and must not run inside our transaction: its call to
    # Railz would hold the database's write lock for the whole exchange.
    batch = nullcontext() if Conf.SYNC else transaction.atomic()
    try:
        with batch:
            enqueue_pushes_submit(push_request_ids)
    except Exception:
        # The rows stay queued; the dispatcher enqueues them again once next_attempt_at passes.
        logger.exception(
            "could not enqueue %d push(es); the dispatcher will retry", len(push_request_ids)
        )


@dataclass
class BulkPushResult:
    created: list[PushRequest] = field(default_factory=list)
    refused: list[tuple[Any, str]] = field(default_factory=list)


BULK_BATCH = 100


def pushes_request_bulk(
    *,
    records: Iterable[Any],
    user: Any = None,
    source: str = PushRequest.Source.STAFF,
    operation: str | None = None,
) -> BulkPushResult:
    """Queue a push of each record; the ones refused come back with their reason.

    Pushes are written BULK_BATCH at a time in one transaction (a thousand invoices are ten
    writes, not a thousand); a batch that meets a push queued meanwhile by someone else falls
    back to one record at a time, so only that record is refused.
    """
    result = BulkPushResult()
    records = list(records)
    for start in range(0, len(records), BULK_BATCH):
        chunk = records[start : start + BULK_BATCH]
        now = timezone.now()
        planned: list[tuple[Any, PushRequest, PushEvent]] = []
        in_flight = pushes_in_flight_for(records=chunk)
        # The checks and the body read each record's lines, references, kept push rules and
        # number once, for the whole chunk, and the body validated is the body written.
        with memo_scope():
            _read_ahead(chunk)
            for record in chunk:
                key = (ContentType.objects.get_for_model(type(record)).pk, record.pk)
                plan = push_plan_for(
                    record=record, operation=operation, user=user, in_flight=in_flight.get(key)
                )
                if plan.refused:
                    result.refused.append((record, plan.reason))
                    continue
                push, event = _new_push(
                    record=record, plan=plan, user=user, source=source, retry_of=None, now=now
                )
                planned.append((record, push, event))
        try:
            with transaction.atomic():
                pushes = [push for _, push, _ in planned]
                rows_insert(PushRequest, pushes, keys=True)
                for push, (_, _, event) in zip(pushes, planned, strict=True):
                    event.push_request = push
                rows_insert(PushEvent, [event for _, _, event in planned])
                pushes_queued.send(
                    sender=PushRequest,
                    queued=[
                        (push, record) for push, (record, _, _) in zip(pushes, planned, strict=True)
                    ],
                )
        except (IntegrityError, PushRefused):
            for record, _, _ in planned:
                try:
                    result.created.append(
                        push_request_create(
                            record=record, user=user, source=source, operation=operation
                        )
                    )
                except PushRefused as exc:
                    result.refused.append((record, str(exc)))
            continue
        ids = _taking_turns([push for push in pushes if push.next_attempt_at is not None])
        transaction.on_commit(lambda ids=ids: _enqueue_submits(ids))
        result.created.extend(pushes)
    return result


def _taking_turns(pushes: list[PushRequest]) -> list[int]:
    """The ids of `pushes`, their connections taking turns (one of each, then the next of
    each...): a task sends several in a row, and no connection waits behind another's run."""
    by_connection: dict[int, list[int]] = {}
    for push in pushes:
        by_connection.setdefault(push.connection_id, []).append(push.pk)
    rounds = zip_longest(*by_connection.values())
    return [pk for turn in rounds for pk in turn if pk is not None]


def _read_ahead(records: list[Any]) -> None:
    """Prefetch what planning and building the pushes of `records` reads, model by model."""
    by_model: dict[type, list[Any]] = {}
    for record in records:
        by_model.setdefault(type(record), []).append(record)
    for model, group in by_model.items():
        try:
            spec = registry.for_model(model).spec
        except (KeyError, LookupError):
            continue  # refused as not pushable, one by one
        spec.prefetch_many(group)
        unique_read_ahead(spec, group)


def push_request_retry(
    *, push: PushRequest, user: Any = None, source: str = PushRequest.Source.STAFF
) -> PushRequest:
    """A new attempt of a push that did not succeed, built from the record as it is now.

    Raises PushRefused with push_retry_plan's reason when it cannot be retried.
    """
    plan = push_retry_plan(push=push, user=user)
    if not plan.allowed:
        raise PushRefused(plan.reason)
    return _push_request_queue(
        record=plan.record_plan.record,
        plan=plan.record_plan,
        user=user,
        source=source,
        retry_of=push,
    )


def push_request_cancel(
    *, push: PushRequest, user: Any = None, source: str = PushRequest.Source.STAFF
) -> bool:
    """Cancel a push nobody has sent yet; False if it left (or finished) a moment ago.

    Raises PushRefused with push_cancel_plan's reason when it is not queued.
    """
    who = _settle_by_person(push, push_cancel_plan, user)
    return _transition(
        push,
        to=State.CANCELLED,
        source=SOURCE_OF_REQUEST.get(source, Source.SYSTEM),
        message=f"Cancelled by {who}." if who else "Cancelled.",
        fields={"next_attempt_at": None},
    )


def _settle_by_person(push: PushRequest, plan: Callable[..., Any], user: Any) -> str:
    """Check `plan` allows a person's verb on `push` (PushRefused with its reason if not);
    returns who they are, for the timeline."""
    verdict = plan(push=push, user=user)
    if not verdict.allowed:
        raise PushRefused(verdict.reason)
    return getattr(user, "get_username", lambda: "")()


# --- sending ----------------------------------------------------------------------------------


def _retry_delay(attempts: int) -> float:
    base = settings.PUSH_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    delay = min(settings.PUSH_RETRY_MAX_SECONDS, base)
    # Jitter so pushes that failed together do not come back together.
    return delay * (0.5 + random.random() / 2)


def pushes_claim(queued: Any, *, now: datetime) -> int:
    """Claim the pushes of the queryset `queued` for sending (queued -> submitting, one more
    attempt, `sent_at` = `now`, the claim's own mark); how many were claimed. A paused
    connection's pushes are left to wait for it to be resumed. The claim is committed before
    anything is sent; each claimed push's timeline gets its `claim_event`. (`_claim_one` is
    this statement for one push, written out.)"""
    return (
        queued.filter(state=State.QUEUED)
        .exclude(connection_id__in=_paused_connections())
        .update(state=State.SUBMITTING, sent_at=now, attempts=F("attempts") + 1, updated_at=now)
    )


def _claim_one(push_request_id: int, *, attempts: int | None, now: datetime) -> bool:
    """`pushes_claim` of one push (with the attempts read, if given), in a statement built
    once: every send runs it, and the ORM compiled it and its subquery anew each time."""
    sql = _claim_statement(with_attempts=attempts is not None)
    field = PushRequest._meta.get_field
    params = [
        State.SUBMITTING.value,
        field("sent_at").get_db_prep_save(now, database),
        field("updated_at").get_db_prep_save(now, database),
        push_request_id,
        State.QUEUED.value,
        *([attempts] if attempts is not None else []),
    ]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0


@functools.cache
def _claim_statement(*, with_attempts: bool) -> str:
    quote = database.ops.quote_name
    meta = PushRequest._meta
    table = quote(meta.db_table)
    pauses = ConnectionPause._meta
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("state", "sent_at", "attempts", "updated_at", "connection")
    }
    paused = pauses.get_field("connection").column
    # Built from the models' own table and column names only, never from input.
    return (
        f"UPDATE {table} SET {column['state']} = %s, {column['sent_at']} = %s, "  # noqa: S608
        f"{column['attempts']} = {column['attempts']} + 1, {column['updated_at']} = %s "
        f"WHERE {quote(meta.pk.column)} = %s AND {column['state']} = %s"
        + (f" AND {column['attempts']} = %s" if with_attempts else "")
        + f" AND NOT EXISTS (SELECT 1 FROM {quote(pauses.db_table)} WHERE "  # noqa: S608
        f"{quote(paused)} = {table}.{column['connection']} AND "
        f"{quote(pauses.get_field('resumed_at').column)} IS NULL)"
    )


def claim_event(push_request_id: int, *, now: datetime, message: str = "") -> PushEvent:
    """The unsaved queued -> submitting line of a claimed push."""
    return PushEvent(
        push_request_id=push_request_id,
        at=now,
        kind=PushEvent.Kind.STATE,
        source=Source.WORKER,
        from_state=State.QUEUED,
        to_state=State.SUBMITTING,
        message=message,
    )


def push_request_submit(
    *,
    push_request_id: int,
    client: RailzClient | None = None,
    push: PushRequest | None = None,
) -> PushRequest | None:
    """Send one queued push to Railz and record its answer (the worker's job).

    `push` is the row as the caller just read it (with its connection), so it is not read
    again: the claim then also requires the attempts it read, so a copy another worker's send
    has made old is never sent. Returns None if the push was not queued (another worker has
    it, or it was cancelled).

    The claim is one UPDATE, committed before anything leaves: a worker that dies from there
    on leaves `submitting`, which the lease expiry explains and reconciles. The claim's line
    on the timeline is written with whatever comes next (the answer, the error, a refusal),
    in that transaction and INSERT.
    """
    now = timezone.now()
    if not _claim_one(push_request_id, attempts=push.attempts if push else None, now=now):
        return None
    claim = claim_event(push_request_id, now=now)
    exchanges: list[PushEvent] = []
    if push is None:
        push = PushRequest.objects.select_related("connection").get(pk=push_request_id)
    else:
        push.state, push.sent_at, push.updated_at = State.SUBMITTING, now, now
        push.attempts += 1
    client = _client(client)
    if push.operation != PushRequest.Operation.CREATE:
        refusal = _target_mismatch(push, client)
        if refusal:
            _transition(
                push,
                to=State.FAILED,
                source=Source.WORKER,
                message=refusal,
                fields={"last_error": refusal, "completed_on": timezone.now()},
                claim=claim,
            )
            return push

    def record_exchange(exchange: Exchange) -> None:
        exchanges.append(
            _exchange_event(push.pk, exchange, source=Source.WORKER, at=timezone.now())
        )

    try:
        answer = _send(push, client, record_exchange)
    except RailzError as exc:
        with transaction.atomic():
            _record_error(push, exc, events=exchanges, claim=claim)
        return push
    # The claim, the exchange and the change of state it brings: one transaction, one INSERT.
    moved = _record_answer(push, answer, events=exchanges, claim=claim)
    if moved:
        # Its webhook may have arrived before we wrote the id down.
        webhook_events_apply_waiting(push_communication_id=push.push_communication_id, push=push)
    return push


def _target_mismatch(push: PushRequest, client: RailzClient) -> str:
    """Why an update or delete must not be sent: the record its provider id names in the
    accounting system is not the record being pushed; "" when it is, or cannot be told.

    A provider id adopted wrongly (a reconciliation that guessed) would otherwise make this
    push overwrite or delete another record: the record is read back by id and its number and
    party compared with what this record sends (for a delete, what it would send).
    """
    record = push.record
    try:
        pushable = registry.for_model(record) if record is not None else None
        if push.operation == PushRequest.Operation.UPDATE:
            expected_data = (push.body or {}).get("data")
        else:
            expected_data = record_build_payload(record) if pushable else None
        described = pushable.describe(record) if pushable else f"push #{push.pk}'s record"
    except (KeyError, LookupError, AttributeError, ValueError):
        return ""
    expected = record_identity(expected_data)
    if not (expected["number"] or expected["party"]):
        return ""
    try:
        found = client.record_read(
            push.data_type,
            connection_uuid=push.connection.connection_uuid,
            record_id=push.provider_record_id,
        )
    except RailzError as exc:
        push_note(
            push=push,
            source=Source.WORKER,
            message=f"Could not read id {push.provider_record_id} back from Railz before "
            f"sending ({exc}); sent without that check.",
        )
        return ""
    if found is None:
        return ""  # Railz answers for an id it does not have: the push fails there, harmlessly
    there = record_identity(found)
    differences = identity_differences(expected, there, fields=("number", "party"))
    if not differences:
        return ""
    verb = "update" if push.operation == PushRequest.Operation.UPDATE else "delete"
    return (
        f"Not sent: this {verb} of {described} ({identity_in_words(expected)}) targets id "
        f"{push.provider_record_id} in {push.connection.service_name}, but the record there is "
        f"another one ({identity_in_words(there)}): {'; '.join(differences)}. Its provider id "
        "was probably adopted wrongly; check the accounting system and correct it before "
        "pushing again."
    )


def _send(push: PushRequest, client: RailzClient, on_exchange: Callable) -> dict[str, Any]:
    connection = push.connection
    common = {
        "connection_uuid": connection.connection_uuid,
        "service_name": connection.service_name,
        "on_exchange": on_exchange,
    }
    if push.operation == PushRequest.Operation.CREATE:
        return client.create(push.data_type, data=push.body["data"], **common)
    if push.operation == PushRequest.Operation.UPDATE:
        return client.update(
            push.data_type,
            record_id=push.provider_record_id,
            data=push.body["data"],
            **common,
        )
    return client.delete(push.data_type, record_id=push.provider_record_id, **common)


def _record_answer(
    push: PushRequest,
    answer: dict[str, Any],
    *,
    events: list[PushEvent] | None = None,
    claim: PushEvent | None = None,
) -> bool:
    communication_id = answer.get("pushCommunicationId") or answer.get("deleteCommunicationId")
    now = timezone.now()
    if not isinstance(communication_id, str) or not communication_id:
        _transition(
            push,
            to=State.UNKNOWN,
            source=Source.WORKER,
            message="Railz accepted the request but did not say which push it became.",
            fields={"last_error": "Railz's answer had no pushCommunicationId."},
            events=events,
            claim=claim,
        )
        return False
    return _transition(
        push,
        to=State.PENDING,
        source=Source.WORKER,
        events=events,
        claim=claim,
        message=f"Railz accepted it as push {communication_id}.",
        fields={
            "push_communication_id": communication_id,
            "requested_on": _parse_time(answer.get("requestedOn")) or now,
            "next_poll_at": now + timedelta(seconds=POLL_INTERVALS[0][1]),
            "last_error": "",
            "reconcile_note": "",
        },
    )


def _wake_dispatcher_at(due: datetime) -> None:
    """Once this transaction commits, have the dispatcher send what falls due at `due` then,
    not when the scheduler next wakes it."""
    transaction.on_commit(lambda: wake_dispatcher(max(0.0, (due - timezone.now()).total_seconds())))


def _paused_connections() -> Any:
    return ConnectionPause.objects.open().values("connection_id")


def _record_error(
    push: PushRequest,
    exc: RailzError,
    *,
    events: list[PushEvent] | None = None,
    claim: PushEvent | None = None,
) -> None:
    """Record a send Railz did not accept (or whose answer was lost), with `events` (the
    exchanges) and `claim` (see `_transition`) on the timeline."""
    now = timezone.now()
    timeline = {"events": events, "claim": claim}
    pause = connection_pause_for_error(push=push, exc=exc)
    if pause is not None and not exc.outcome_unknown:
        # The connection is broken, not this record: it waits, without counting an attempt.
        _transition(
            push,
            **timeline,
            to=State.QUEUED,
            source=Source.WORKER,
            message=f"Paused: {pause.reason}. This push waits until the connection is resumed. "
            f"Railz said: {exc}",
            fields={
                "last_error": str(exc),
                "attempts": F("attempts") - 1,
                "next_attempt_at": now + timedelta(seconds=settings.PUSH_DISPATCH_GRACE_SECONDS),
            },
        )
        if pause.resume_at is not None:
            _wake_dispatcher_at(pause.resume_at)
        return
    if exc.outcome_unknown or isinstance(exc, RailzOutcomeUnknown):
        moved = _transition(
            push,
            **timeline,
            to=State.UNKNOWN,
            source=Source.WORKER,
            message=str(exc),
            fields={"last_error": str(exc), "response_code": exc.status_code},
        )
        if moved:
            transaction.on_commit(lambda: _enqueue_reconcile(push.pk))
        return
    if isinstance(exc, RailzRateLimited):
        # Not processed by Railz: it does not count as an attempt.
        wait = exc.retry_after if exc.retry_after is not None else _retry_delay(1)
        _transition(
            push,
            **timeline,
            to=State.QUEUED,
            source=Source.WORKER,
            message=str(exc),
            fields={
                "last_error": str(exc),
                "attempts": F("attempts") - 1,
                "next_attempt_at": now + timedelta(seconds=wait + random.random()),
            },
        )
        _wake_dispatcher_at(now + timedelta(seconds=wait))
        return
    if exc.retryable:
        if push.attempts >= settings.PUSH_MAX_ATTEMPTS:
            _transition(
                push,
                **timeline,
                to=State.FAILED,
                source=Source.WORKER,
                message=f"Gave up after {push.attempts} attempts: {exc}",
                fields={"last_error": str(exc), "response_code": exc.status_code},
            )
            return
        # Railz's Retry-After (a 503 in maintenance) says when; else back off exponentially.
        wait = exc.retry_after if exc.retry_after is not None else _retry_delay(push.attempts)
        _transition(
            push,
            **timeline,
            to=State.QUEUED,
            source=Source.WORKER,
            message=str(exc),
            fields={
                "last_error": str(exc),
                "next_attempt_at": now + timedelta(seconds=wait + random.random()),
            },
        )
        _wake_dispatcher_at(now + timedelta(seconds=wait))
        return
    # Refused before anything was created: Railz's own messages, in plain words.
    _transition(
        push,
        **timeline,
        to=State.REJECTED,
        source=Source.WORKER,
        message=str(exc),
        fields={
            "last_error": str(exc),
            "response_code": exc.status_code,
            "completed_on": now,
            "validation_errors": [{"field": "", "message": m} for m in exc.messages]
            or [{"field": "", "message": str(exc)}],
        },
    )


def _enqueue_reconcile(push_request_id: int) -> None:
    try:
        enqueue_push_reconcile(push_request_id)
    except Exception:
        logger.exception("could not enqueue reconciliation of push %s", push_request_id)


# --- learning the outcome ---------------------------------------------------------------------


def _record_written(push: PushRequest) -> None:
    """The record learns its provider id and what was pushed (same transaction)."""
    model = push.content_type.model_class()
    if model is None:
        return
    when = push.completed_on or timezone.now()
    if push.operation == PushRequest.Operation.DELETE:
        values = {"provider_record_id": "", "last_pushed_hash": "", "last_pushed_at": when}
    else:
        values = {"last_pushed_at": when, "last_pushed_hash": push.payload_hash}
        ids = [str(i) for i in push.source_object_ids or [] if i not in (None, "")]
        if push.operation == PushRequest.Operation.CREATE and ids:
            values["provider_record_id"] = ids[0]
    if row_update(model, push.object_id, where={}, values=values) is None:
        model._default_manager.filter(pk=push.object_id).update(**values)
    if push.operation != PushRequest.Operation.DELETE:
        try:
            spec = registry.for_model(model).spec
        except registry.UnknownPushable:
            return
        if spec.on_pushed:
            spec.pushed(model._default_manager.select_related(*spec.related).get(pk=push.object_id))


def push_apply_status(*, push: PushRequest, item: dict[str, Any], source: str) -> bool:
    """Apply one Railz status (pushStatus item or webhook payload) to its push.

    Idempotent and monotonic: a repeated, late or out-of-order status that would move the
    push backwards changes nothing. Returns whether the push changed state.
    """
    status = item.get("status")
    communication_id = item.get("pushCommunicationId") or item.get("deleteCommunicationId") or ""
    fields: dict[str, Any] = {}
    if communication_id and push.push_communication_id != communication_id:
        fields["push_communication_id"] = communication_id
    requested_on = _parse_time(item.get("requestedOn"))
    if requested_on and not push.requested_on:
        fields["requested_on"] = requested_on
    if isinstance(item.get("batchId"), str) and not push.batch_id:
        fields["batch_id"] = item["batchId"][:64]  # an item of a batch adopted by reconciling
    try:
        if status == "pending":
            if push.state == State.PENDING:
                return False
            return _transition(
                push,
                to=State.PENDING,
                source=source,
                message=f"Railz reports push {communication_id} pending.",
                fields={**fields, "reconcile_note": "", "reconcile_reason": ""},
            )
        if status not in ("success", "failed"):
            return False
        ids = item.get("sourceObjectIds")
        fields.update(
            completed_on=_parse_time(item.get("completedOn")) or timezone.now(),
            response_code=item.get("responseCode")
            if isinstance(item.get("responseCode"), int)
            else None,
            validation_errors=_validation_errors(item),
            source_object_ids=[str(i) for i in ids] if isinstance(ids, list) else [],
            next_poll_at=None,
            reconcile_note="",
            reconcile_reason="",
        )
        success = status == "success"
        if success:
            message = {
                "create": "The accounting system created it.",
                "delete": "The accounting system deleted it.",
            }.get(push.operation, "The accounting system applied it.")
            if fields["source_object_ids"]:
                message += f" Its id there: {', '.join(fields['source_object_ids'])}."
        else:
            errors = fields["validation_errors"]
            message = "The accounting system refused it" + (
                ": "
                + "; ".join(
                    f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
                )
                if errors
                else "."
            )
        moved = _transition(
            push,
            to=State.SUCCESS if success else State.FAILED,
            source=source,
            message=message,
            fields=fields,
            then=_record_written if success else None,
        )
        if moved and not success:
            # Refused for its connection's sake (authorisation): the pushes behind it wait,
            # and so does a new attempt of this one.
            pause = connection_pause_for_refusal(
                push=push, response_code=fields["response_code"], errors=fields["validation_errors"]
            )
            if pause is not None:
                _requeue_behind_pause(push, pause, source=source)
        return moved
    except IntegrityError:
        # The id already belongs to another push: never adopt it twice.
        logger.warning("push %s: %s is already another push's", push.pk, communication_id)
        return False


def push_is_automatic_attempt(push: PushRequest) -> bool:
    """Whether `push` is itself a new attempt railzpush queued on its own (of a push never
    received, or refused while its connection was breaking): such a push is never queued
    again automatically, so one send can never turn into a chain of them."""
    return push.retry_of_id is not None and push.source == PushRequest.Source.SYSTEM


def _requeue_behind_pause(push: PushRequest, pause: ConnectionPause, *, source: str) -> None:
    """Queue a new attempt of `push`, which the accounting system refused for its connection's
    sake (not its content), behind the connection's pause: Resume sends it once.

    The refused push stays failed (a finished push never moves again); its outcome is known,
    so nothing sent twice can come of it. Once only: a new attempt refused the same way is
    left for a person to retry.
    """
    if push_is_automatic_attempt(push):
        push_note(
            push=push,
            source=source,
            message=(
                "Not queued again automatically: it is already railzpush's own new attempt. "
                "Retry it once the connection works again."
            ),
        )
        return
    try:
        retry = push_request_retry(push=push, user=None, source=PushRequest.Source.SYSTEM)
    except PushRefused as exc:
        push_note(push=push, source=source, message=f"Not queued again: {exc}")
        return
    push_note(
        push=push,
        source=source,
        message=(
            f"Refused for the connection, not its content: queued again automatically as push "
            f"#{retry.pk}, which waits for the connection to be resumed (Paused: {pause.reason})."
        ),
    )


def _poll_interval(age_seconds: float) -> int:
    for younger_than, every in POLL_INTERVALS:
        if younger_than is None or age_seconds < younger_than:
            return every
    return POLL_INTERVALS[-1][1]


@dataclass
class PollResult:
    connections: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)


# Pending pushes that all went out in at most this many batches are asked about by batchId
# (a short answer each); otherwise one call lists the connection's pushes.
POLL_BY_BATCH_MAX = 3


def _status_batches(pushes: list[PushRequest]) -> list[str | None]:
    """The pushStatus calls that cover `pushes`: one per batchId, or [None] for one call."""
    batch_ids = {p.batch_id for p in pushes if p.operation != "delete"}
    if "" in batch_ids or len(batch_ids) > POLL_BY_BATCH_MAX:
        return [None]
    return sorted(batch_ids)


def pushes_poll_connection(
    *,
    connection: Connection,
    client: RailzClient | None = None,
    source: str = Source.POLL,
    push_ids: Iterable[int] | None = None,
) -> int:
    """One GET /v2/data/pushStatus for the connection; applies it to every pending push.

    Returns how many pushes changed state. `push_ids` limits which pushes are looked at.
    """
    waiting = PushRequest.objects.filter(connection=connection, state=State.PENDING).exclude(
        push_communication_id=""
    )
    if push_ids is not None:
        waiting = waiting.filter(pk__in=list(push_ids))
    pushes = list(waiting.select_related("content_type"))
    if not pushes:
        return 0
    client = _client(client)
    items: dict[str, dict] = {}
    if any(p.operation != "delete" for p in pushes):
        for batch_id in _status_batches(pushes):
            body = client.push_status(connection_uuid=connection.connection_uuid, batch_id=batch_id)
            for item in body.get("data") or []:
                if isinstance(item, dict) and item.get("pushCommunicationId"):
                    items[item["pushCommunicationId"]] = item
    if any(p.operation == "delete" for p in pushes):
        body = client.delete_status(connection_uuid=connection.connection_uuid)
        for item in body.get("data") or []:
            if isinstance(item, dict) and item.get("deleteCommunicationId"):
                items[item["deleteCommunicationId"]] = item
    now = timezone.now()
    changed = 0
    still_pending: dict[int, list[int]] = {}
    for push in pushes:
        item = items.get(push.push_communication_id)
        if item is not None and push_apply_status(push=push, item=item, source=source):
            changed += 1
            # The poll's answer, as far as it concerns this push, goes on its timeline.
            PushEvent.objects.create(
                push_request=push,
                at=now,
                kind=PushEvent.Kind.EXCHANGE,
                source=source,
                method="GET",
                path="/v2/data/deleteStatus"
                if push.operation == "delete"
                else "/v2/data/pushStatus",
                query={"connectionUuid": connection.connection_uuid},
                status_code=200,
                response_body=item,
            )
            continue
        age = (now - (push.sent_at or push.created_at)).total_seconds()
        still_pending.setdefault(_poll_interval(age), []).append(push.pk)
    for every, ids in still_pending.items():
        PushRequest.objects.filter(pk__in=ids, state=State.PENDING).update(
            last_polled_at=now, next_poll_at=now + timedelta(seconds=every)
        )
    return changed


def pushes_poll_due(
    *, client: RailzClient | None = None, now: datetime | None = None
) -> PollResult:
    """Poll each connection that has a pending push due for a look (one call per connection)."""
    now = now or timezone.now()
    connection_ids = (
        PushRequest.objects.filter(state=State.PENDING)
        .filter(Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True))
        .order_by()  # the default ordering's columns would make every push distinct
        .values_list("connection_id", flat=True)
        .distinct()
    )
    result = PollResult()
    client = _client(client)
    for connection in Connection.objects.filter(pk__in=list(connection_ids)):
        result.connections += 1
        try:
            result.changed += pushes_poll_connection(connection=connection, client=client)
        except RailzError as exc:
            # The next run asks again; one connection's trouble does not stop the others.
            result.errors.append(f"{connection}: {exc}")
            logger.warning("polling push status of %s failed: %s", connection, exc)
    return result


def pushes_next_poll_at() -> datetime | None:
    """When the next pending push is due for a look, if any."""
    return (
        PushRequest.objects.filter(state=State.PENDING, next_poll_at__isnull=False)
        .order_by("next_poll_at")
        .values_list("next_poll_at", flat=True)
        .first()
    )


# --- unknown outcomes -------------------------------------------------------------------------


def pushes_expire_leases(*, now: datetime | None = None, reconcile: bool = False) -> int:
    """Move pushes stuck in `submitting` past the lease to `unknown` (never back to queued).

    A worker killed mid-send leaves its row in `submitting`; the request may have gone out, so
    it is reconciled against Railz, never sent again. `reconcile` enqueues that reconciliation
    for each push moved (once committed), instead of leaving it to the next periodic pass.
    """
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.PUSH_LEASE_SECONDS)
    moved = 0
    for push in PushRequest.objects.filter(state=State.SUBMITTING, sent_at__lt=limit):
        # A single send writes its claim's line with the answer; a worker that died before
        # that left none, and the timeline gets it here, at the moment of the claim.
        written = push.events.filter(to_state=State.SUBMITTING, at__gte=push.sent_at).exists()
        claimed = [] if written else [claim_event(push.pk, now=push.sent_at)]
        if _transition(
            push,
            to=State.UNKNOWN,
            source=Source.SYSTEM,
            message=(
                "The worker sending this push stopped before recording Railz's answer; the "
                "request may have reached Railz, so it will be checked, not sent again."
            ),
            fields={"last_error": "The worker stopped while sending this push."},
            events=claimed,
        ):
            moved += 1
            if reconcile:
                transaction.on_commit(lambda pk=push.pk: _enqueue_reconcile(pk))
    return moved


def pushes_next_lease_expiry() -> datetime | None:
    """When the lease of the oldest push in `submitting` runs out, if any push is there."""
    oldest = (
        PushRequest.objects.filter(state=State.SUBMITTING, sent_at__isnull=False)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    return oldest + timedelta(seconds=settings.PUSH_LEASE_SECONDS) if oldest else None


def _window(push: PushRequest) -> tuple[datetime, datetime]:
    skew = timedelta(seconds=settings.PUSH_RECONCILE_SKEW_SECONDS)
    sent_at = push.sent_at or push.created_at
    # Railz recorded the request after we sent it and before our read timeout ran out.
    return sent_at - skew, sent_at + timedelta(seconds=settings.RAILZ_READ_TIMEOUT) + skew


def _communication_id(item: dict[str, Any]) -> str:
    return item.get("pushCommunicationId") or item.get("deleteCommunicationId") or ""


def _is_delete(push: PushRequest) -> bool:
    return push.operation == PushRequest.Operation.DELETE


def _status_lists(
    client: RailzClient, connection: Connection, pushes: Iterable[PushRequest]
) -> dict[bool, list[dict[str, Any]]]:
    """The connection's pushStatus and deleteStatus items, keyed by `_is_delete`: only the
    lists `pushes` need, one call each (Railz lists deletes apart from creates and updates)."""
    lists: dict[bool, list[dict[str, Any]]] = {}
    for deletes in sorted({_is_delete(p) for p in pushes}):
        fetch = client.delete_status if deletes else client.push_status
        body = fetch(connection_uuid=connection.connection_uuid)
        lists[deletes] = [i for i in body.get("data") or [] if isinstance(i, dict)]
    return lists


def push_resolve_not_received(
    *, push: PushRequest, user: Any = None, source: str = PushRequest.Source.STAFF
) -> bool:
    """A person checked the accounting system: the unknown push never arrived (so it can be
    retried). False if it was settled a moment ago; PushRefused if it is not unknown."""
    who = _settle_by_person(push, push_never_received_plan, user)
    return _transition(
        push,
        to=State.FAILED,
        source=SOURCE_OF_REQUEST.get(source, Source.SYSTEM),
        message=f"{who or 'Staff'} checked the accounting system: it never arrived.",
        fields={"completed_on": timezone.now(), "reconcile_reason": ""},
    )


@dataclass
class PushesActed:
    """What a staff action did to the pushes it was given: how many it settled, how many it
    asked Railz about in how many calls, and each push (or connection) skipped, with why."""

    done: int = 0
    skipped: list[str] = field(default_factory=list)
    asked: int = 0
    calls: int = 0


def _by_connection(
    pushes: Iterable[PushRequest], plan: Callable[..., Any], user: Any, result: PushesActed
) -> dict[int, list[PushRequest]]:
    """The pushes `plan` allows, grouped by connection; the others go to `result.skipped`."""
    groups: dict[int, list[PushRequest]] = {}
    for push in pushes:
        verdict = plan(push=push, user=user)
        if verdict.allowed:
            groups.setdefault(push.connection_id, []).append(push)
        else:
            result.skipped.append(verdict.reason)
    return groups


def pushes_refresh(
    *,
    pushes: Iterable[PushRequest],
    user: Any = None,
    client: RailzClient | None = None,
    source: str = Source.STAFF,
) -> PushesActed:
    """Ask Railz now about the pending pushes among `pushes`: one call per connection.

    `done` counts the pushes whose outcome is known now.
    """
    result = PushesActed()
    groups = _by_connection(pushes, push_refresh_plan, user, result)
    client = _client(client) if groups else client
    for group in groups.values():
        connection = group[0].connection
        result.asked += len(group)
        result.calls += 1
        try:
            result.done += pushes_poll_connection(
                connection=connection,
                client=client,
                source=source,
                push_ids=[p.pk for p in group],
            )
        except RailzError as exc:
            result.skipped.append(f"{connection}: {exc}")
    return result


# --- dispatching ------------------------------------------------------------------------------


def pushes_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Enqueue queued pushes whose next attempt is due (backoffs, rate limits, lost enqueues)."""
    now = now or timezone.now()
    ids = list(
        PushRequest.objects.filter(state=State.QUEUED, next_attempt_at__lte=now)
        .exclude(connection_id__in=_paused_connections())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    # Pushed forward so the next run does not enqueue them again while they wait in the queue.
    PushRequest.objects.filter(pk__in=ids, state=State.QUEUED).update(
        next_attempt_at=now + timedelta(seconds=settings.PUSH_DISPATCH_GRACE_SECONDS)
    )
    _enqueue_submits(ids)
    return ids


def pushes_next_attempt_at() -> datetime | None:
    """When the next queued push is due to be sent again, if any (the pushes_queued_due index)."""
    return (
        PushRequest.objects.filter(state=State.QUEUED, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


# --- webhooks ---------------------------------------------------------------------------------


def _dedupe_key(payload: dict[str, Any], raw_body: bytes) -> str:
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    event = str(data.get("event") or "")
    communication_id = (
        data.get("pushCommunicationId") or data.get("deleteCommunicationId") or data.get("batchId")
    )
    if event in ("push", "delete", "batchPush") and communication_id:
        # The same outcome of the same push is one event, however often it is delivered.
        status = data.get("status") or ""
        if event == "batchPush":
            status = ",".join(
                str(i.get("status")) for i in data.get("batch") or [] if isinstance(i, dict)
            )
        return f"{event}:{communication_id}:{status}"[:200]
    request_id = payload.get("requestId")
    if isinstance(request_id, str) and request_id:
        return f"request:{request_id}"[:200]
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def _webhook_event(raw_body: bytes) -> WebhookEvent:
    """The unsaved row of a verified webhook. Raises ValueError when the body is not a JSON
    object with a `data` object."""
    payload = json.loads(raw_body)
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ValueError("the body must be a JSON object with a data object")
    data = payload["data"]
    event = WebhookEvent(
        dedupe_key=_dedupe_key(payload, raw_body),
        event=str(data.get("event") or "")[:40],
        connection_uuid=str(data.get("connectionId") or data.get("connectionUuid") or "")[:64],
        push_communication_id=str(
            data.get("pushCommunicationId")
            or data.get("deleteCommunicationId")
            or data.get("batchId")
            or ""
        )[:64],
        status=str(data.get("status") or "")[:20],
        raw_body=raw_body.decode("utf-8", errors="replace"),
        received_at=timezone.now(),
    )
    event.parsed_data = data  # what applying it reads, not parsed again
    return event


def webhook_event_store(*, raw_body: bytes) -> tuple[WebhookEvent, bool]:
    """Keep a verified webhook as received; (event, created). A repeat is not stored again.

    Raises ValueError when the body is not a JSON object with a `data` object.
    """
    event = _webhook_event(raw_body)
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        return WebhookEvent.objects.get(dedupe_key=event.dedupe_key), False
    return event, True


def webhook_event_receive(*, raw_body: bytes) -> tuple[WebhookEvent, bool]:
    """Keep a verified webhook and apply it at once, in one transaction; (event, created).

    The event row is written with what applying it did, after the pushes it names changed: a
    repeat of an event already stored fails on its dedupe key and rolls its own changes back,
    so an outcome is never applied twice. Raises ValueError for a body that is not a JSON
    object with a `data` object; any other failure leaves nothing written (the caller may
    then store it for the queue to apply).

    An event that changes no push here (none it names is known yet, or it concerns no push)
    writes its own row and nothing else: that one statement needs no transaction around it.
    """
    event = _webhook_event(raw_body)
    # Read before any transaction: the changes that follow are conditional on the state read
    # (as they would be inside one, under READ COMMITTED), and most early webhooks find none.
    pushes = _webhook_pushes(event)
    try:
        with transaction.atomic() if pushes or database.in_atomic_block else nullcontext():
            event.outcome, done = _webhook_outcome(event, pushes=pushes)
            event.processed_at = timezone.now() if done else None
            row_insert(event)
    except IntegrityError:
        existing = WebhookEvent.objects.filter(dedupe_key=event.dedupe_key).first()
        if existing is None:
            raise
        return existing, False
    if not done and _named_push_known(event):
        # The worker wrote the push's id down after we looked and may have looked for waiting
        # events before ours was committed: one of us must apply it, so we look again.
        webhook_event_apply(webhook_event=event)
    return event, True


def _named_push_known(event: WebhookEvent) -> bool:
    """Whether a push here now carries the id (or batch id) the event names."""
    named = event.push_communication_id
    if not named:
        return False
    batch = event.event == "batchPush"
    params = [named] if batch else [named, ""]
    sql = _named_query.sql(batch, params, named, batch)
    if sql is None:
        return _named_query(named, batch).exists()
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


@OnceCompiled
def _named_query(named: str, batch: bool) -> Any:
    """The first push with the id (or, for a batch, the batch id) `named`: it runs for every
    webhook that comes before its push's answer is written down."""
    pushes = (
        PushRequest.objects.filter(batch_id=named)
        if batch
        else PushRequest.objects.railz_pushes(named)
    )
    return pushes.order_by().values_list("pk")[:1]


def _webhook_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    if data.get("event") == "batchPush":
        return [i for i in data.get("batch") or [] if isinstance(i, dict)]
    return [data]


def webhook_event_apply(*, webhook_event: WebhookEvent, push: PushRequest | None = None) -> str:
    """Apply a stored webhook to the pushes it names; returns (and stores) what it did.

    A push not known yet (its webhook came before the worker wrote the answer down) leaves the
    event waiting: the worker applies it when it records the push's id. `push`, if given, is
    one it names as the caller has it in hand (just moved, with its connection), not read again.
    """
    # One write transaction for the push, its record and the event's outcome.
    with transaction.atomic():
        return _webhook_event_apply(webhook_event, push=push)


def _webhook_event_apply(webhook_event: WebhookEvent, *, push: PushRequest | None = None) -> str:
    outcome, done = _webhook_outcome(webhook_event, known=push)
    # Applied once: of the receipt and the worker both applying it, the first one's outcome
    # stands (the pushes' own changes are conditional, so the second changed nothing).
    row_update(
        WebhookEvent,
        webhook_event.pk,
        where={"processed_at": None},
        values={"processed_at": timezone.now() if done else None, "outcome": outcome},
    )
    return outcome


def _webhook_data(webhook_event: WebhookEvent) -> dict[str, Any]:
    data = getattr(webhook_event, "parsed_data", None)
    if data is None:
        data = json.loads(webhook_event.raw_body).get("data") or {}
    return data


def _webhook_ids(data: dict[str, Any]) -> list[str] | None:
    """The Railz push ids the event's items name, or None for an event about no push."""
    if data.get("event") not in ("push", "batchPush", "delete"):
        return None
    return [
        i.get("pushCommunicationId") or i.get("deleteCommunicationId")
        for i in _webhook_items(data)
        if i.get("pushCommunicationId") or i.get("deleteCommunicationId")
    ]


def _webhook_pushes(
    webhook_event: WebhookEvent, *, known: PushRequest | None = None
) -> dict[str, PushRequest]:
    """The pushes here that the event names, by Railz push id; `known` (one the caller has in
    hand, with its connection) is not read again."""
    ids = _webhook_ids(_webhook_data(webhook_event)) or []
    pushes = {}
    if known is not None and known.push_communication_id in ids:
        pushes[known.push_communication_id] = known
    if unread := [i for i in ids if i not in pushes]:
        # This read is on every webhook's path, so it is the push's row alone, unordered (a
        # sort of one row still costs its compiling): the content type comes from the cache of
        # them, and the connection only when a refusal needs more than its uuid.
        for p in _pushes_named(unread):
            p.content_type = ContentType.objects.get_for_id(p.content_type_id)
            pushes[p.push_communication_id] = p
    return pushes


def _webhook_outcome(
    webhook_event: WebhookEvent,
    *,
    known: PushRequest | None = None,
    pushes: dict[str, PushRequest] | None = None,
) -> tuple[str, bool]:
    """Apply the event to the pushes it names (`pushes`, as `_webhook_pushes` reads them, if
    the caller has read them); (what it did, whether it is done with).

    Not done while it names a push not known yet: the worker applies it once it records the
    push's id.
    """
    data = _webhook_data(webhook_event)
    if _webhook_ids(data) is None:
        event = data.get("event")
        return f"ignored: {event or 'unnamed'} events do not concern pushes", True
    if pushes is None:
        pushes = _webhook_pushes(webhook_event, known=known)
    connection_uuid = data.get("connectionId") or data.get("connectionUuid")
    applied = missing = 0
    for item in _webhook_items(data):
        communication_id = item.get("pushCommunicationId") or item.get("deleteCommunicationId")
        push = pushes.get(communication_id)
        if push is None:
            missing += 1
            continue
        if connection_uuid and _connection_uuid(push) != connection_uuid:
            logger.warning("webhook names push %s on another connection", communication_id)
            continue
        if push_apply_status(push=push, item=item, source=Source.WEBHOOK):
            applied += 1
    outcome = f"{applied} push(es) changed"
    if missing:
        outcome += f"; {missing} not known yet"
    return outcome[:300], not missing


def _pushes_named(push_communication_ids: list[str]) -> Any:
    """The pushes with these Railz push ids, each with `named_connection` (its connection's
    uuid). Every webhook reads this, so its SQL is compiled once per number of ids and run
    as a raw query after (the ORM compiled a 32-column SELECT anew each time)."""
    params = [*push_communication_ids, ""]
    sql = _pushes_named_query.sql(len(push_communication_ids), params, push_communication_ids)
    if sql is None:
        return _pushes_named_query(push_communication_ids)
    return rows_read(PushRequest, sql, params, extra=("named_connection",))


@OnceCompiled
def _pushes_named_query(push_communication_ids: list[str]) -> Any:
    return (
        PushRequest.objects.railz_pushes(*push_communication_ids)
        .annotate(named_connection=F("connection__connection_uuid"))
        .order_by()
    )


def _connection_uuid(push: PushRequest) -> str:
    named = getattr(push, "named_connection", None)
    return named if named is not None else push.connection.connection_uuid


@functools.cache
def _waiting_statement() -> str:
    """Every column of the webhooks waiting for a push id, oldest first (`rows_read`)."""
    quote = database.ops.quote_name
    meta = WebhookEvent._meta
    table = quote(meta.db_table)
    columns = ", ".join(f"{table}.{quote(field.column)}" for field in meta.concrete_fields)
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("push_communication_id", "processed_at", "received_at")
    }
    # Built from the model's own table and column names only, never from input.
    return (
        f"SELECT {columns} FROM {table} "  # noqa: S608
        f"WHERE {column['push_communication_id']} = %s AND {column['processed_at']} IS NULL "
        f"ORDER BY {column['received_at']}, {quote(meta.pk.column)}"
    )


def webhook_events_apply_waiting(
    *, push_communication_id: str, push: PushRequest | None = None
) -> int:
    """Apply webhooks that arrived for this push before its id was known here; `push` is the
    push itself as the caller just moved it, if it has it."""
    # Nearly always none, and on every push's path: a statement built once.
    waiting = rows_read(WebhookEvent, _waiting_statement(), [push_communication_id])
    if waiting and push is not None:
        # Its content type from the cache of them, not a read through the foreign key.
        push.content_type = ContentType.objects.get_for_id(push.content_type_id)
    for event in waiting:
        webhook_event_apply(webhook_event=event, push=push)
    return len(waiting)
