"""Pausing and resuming a connection's pushes while the connection itself is broken.

The push pipeline asks `connection_pause_for_error` about every error Railz answers a send
with: a connection-level cause (revoked or expired authorisation, a disconnected business, a
provider's daily cap, a run of server errors from one accounting system) pauses the connection
and the push goes back to the queue, instead of failing; a record refused for its own content
is none of this module's business. While a connection is paused the worker does not claim its
pushes and the dispatcher does not enqueue them; `connection_resume` (a person, or the
scheduled job once `resume_at` has passed) lets them go, each queued push sent once.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.conf import Conf

from pushes.models import ConnectionPause, PushEvent, PushRequest
from pushes.queue import enqueue_push_probe, enqueue_push_submit, enqueue_pushes_submit
from railzpush.railz.errors import (
    DISCONNECT_REASONS,
    ConnectionProblem,
    RailzError,
    RailzOutcomeUnknown,
    RailzRejected,
    RailzServerError,
    connection_problem,
)
from refs.models import Connection

logger = logging.getLogger("pushes")

Cause = ConnectionPause.Cause


def connection_pause(
    *,
    connection_id: int,
    cause: str,
    reason: str,
    resume_after: float | None = None,
    push: PushRequest | None = None,
) -> ConnectionPause:
    """Pause the connection (or return its open pause: one at a time)."""
    now = timezone.now()
    existing = ConnectionPause.objects.open().filter(connection_id=connection_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            pause = ConnectionPause.objects.create(
                connection_id=connection_id,
                cause=cause,
                reason=reason,
                paused_at=now,
                paused_by_push=push,
                resume_at=now + timedelta(seconds=resume_after) if resume_after else None,
            )
    except IntegrityError:
        # Another worker paused it a moment ago: theirs stands.
        return ConnectionPause.objects.open().get(connection_id=connection_id)
    logger.warning("connection %s paused: %s", connection_id, reason)
    return pause


def _server_errors_in_a_row(connection_id: int) -> int:
    key = f"pushes:server-errors:{connection_id}"
    window = settings.PUSH_PAUSE_ERROR_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def _problem_of(exc: RailzError, connection_id: int) -> ConnectionProblem | None:
    problem = connection_problem(exc)
    if problem is not None:
        return problem
    server_error = isinstance(exc, RailzServerError) or (
        isinstance(exc, RailzOutcomeUnknown) and (exc.status_code or 0) >= 500
    )
    if server_error and _server_errors_in_a_row(connection_id) >= (
        settings.PUSH_PAUSE_AFTER_SERVER_ERRORS
    ):
        cache.delete(f"pushes:server-errors:{connection_id}")
        return ConnectionProblem(
            Cause.PROVIDER_ERRORS,
            f"the accounting system answered {settings.PUSH_PAUSE_AFTER_SERVER_ERRORS} server "
            "errors in a row; pushing is tried again later",
            resume_after=_server_error_pause_seconds(connection_id, exc.retry_after),
        )
    return None


# Each pause of an outage that goes on is this much longer than the one before: the time a
# connection stays idle after its outage ends is then about a quarter of the outage (seconds
# after a short storm), while a long outage still costs only one probe per pause.
PAUSE_GROWTH = 1.25


def _server_error_pause_seconds(connection_id: int, retry_after: float | None) -> float:
    """How long a run of server errors pauses the connection.

    The answer's own Retry-After when it named one (Railz knows when it is back). Otherwise a
    short first pause, PAUSE_GROWTH times longer for each pause of the same cause that ended
    within the error window before this one (the outage goes on), up to
    PUSH_PAUSE_RETRY_SECONDS: a blip ends within seconds of its end, a long outage costs one
    probe every PUSH_PAUSE_RETRY_SECONDS.
    """
    longest = settings.PUSH_PAUSE_RETRY_SECONDS
    if retry_after is not None:
        return min(max(retry_after, 1.0), longest)
    since = timezone.now() - timedelta(seconds=settings.PUSH_PAUSE_ERROR_WINDOW_SECONDS)
    previous = (
        ConnectionPause.objects.filter(
            connection_id=connection_id, cause=Cause.PROVIDER_ERRORS, resumed_at__gte=since
        )
        .order_by("-resumed_at")
        .values_list("paused_at", "resume_at")
        .first()
    )
    if previous is None or previous[1] is None:
        return float(settings.PUSH_PAUSE_FIRST_RETRY_SECONDS)
    last = (previous[1] - previous[0]).total_seconds()
    grown = max(last * PAUSE_GROWTH, settings.PUSH_PAUSE_FIRST_RETRY_SECONDS)
    return float(min(round(grown, 3), longest))


# After a pause for server errors ends by itself, the connection is on probation this long:
# its first server error pauses it again, so a probe of an outage that goes on costs one or
# two calls, not a run of PUSH_PAUSE_AFTER_SERVER_ERRORS.
PROBATION_SECONDS = 60


def _on_probation(connection_id: int) -> None:
    cache.set(
        f"pushes:server-errors:{connection_id}",
        settings.PUSH_PAUSE_AFTER_SERVER_ERRORS - 1,
        timeout=PROBATION_SECONDS,
    )


def connection_pause_for_error(*, push: PushRequest, exc: RailzError) -> ConnectionPause | None:
    """Pause the push's connection if `exc` says the connection is broken; None otherwise.

    The caller then puts the push back in the queue when a pause is returned and it was not
    sent (a push whose outcome is unknown stays unknown: it is reconciled, never resent).
    """
    problem = _problem_of(exc, push.connection_id)
    if problem is None:
        return None
    return connection_pause(
        connection_id=push.connection_id,
        cause=problem.cause,
        reason=problem.reason,
        resume_after=problem.resume_after,
        push=push,
    )


def connection_pause_for_refusal(
    *, push: PushRequest, response_code: int | None, errors: list[dict[str, str]]
) -> ConnectionPause | None:
    """Pause the push's connection when the accounting system refused it for the connection's
    sake (its authorisation: HTTP 401 or 403, or a disconnect reason in its messages), so the
    pushes behind it wait instead of failing the same way. The refused push stays failed, with
    the provider's words; a person retries it once the connection is resumed."""
    messages = [str(e.get("message") or "") for e in errors]
    problem = connection_problem(RailzRejected(messages=messages, status_code=response_code))
    if problem is None and response_code in (401, 403):
        problem = ConnectionProblem(
            Cause.AUTHORISATION,
            f"the accounting system refused the connection's authorisation (HTTP {response_code})",
        )
    if problem is None:
        return None
    return connection_pause(
        connection_id=push.connection_id,
        cause=problem.cause,
        reason=problem.reason,
        resume_after=problem.resume_after,
        push=push,
    )


# How staff name the accounting systems in the pause's sentence; another shows as Railz names it.
SERVICE_WORDS = {
    "xero": "Xero",
    "quickbooks": "QuickBooks",
    "quickbooksDesktop": "QuickBooks Desktop",
    "oracleNetsuite": "Oracle NetSuite",
    "sageBusinessCloud": "Sage Business Cloud",
    "sageIntacct": "Sage Intacct",
    "dynamicsBusinessCentral": "Dynamics 365 Business Central",
    "freshbooks": "FreshBooks",
    "wave": "Wave",
    "zohoBooks": "Zoho Books",
}

# The pauses a connection Railz reports active again lifts: the business reconnected it.
RECONNECT_LIFTS = (Cause.AUTHORISATION, Cause.DISCONNECTED)


def connection_status_problem(connection: Connection) -> ConnectionProblem | None:
    """Why a connection Railz reports disconnected or expired cannot take pushes now, in words;
    None when it is active (or refuses pushes outright: pending, removed)."""
    if connection.is_active or not connection.can_queue:
        return None
    service = SERVICE_WORDS.get(connection.service_name, connection.service_name or "its books")
    code = connection.disconnect_reason
    if connection.status == Connection.Status.EXPIRED:
        cause, words = Cause.AUTHORISATION, f"the authorisation of {service} expired"
    elif code in DISCONNECT_REASONS and code != "disconnectedByCustomer":
        cause, words = DISCONNECT_REASONS[code]
    else:
        cause, words = Cause.DISCONNECTED, f"the business disconnected {service} from Railz"
    return ConnectionProblem(cause, f"{words} ({code})" if code else words)


def connection_pause_for_status(connection: Connection) -> ConnectionPause | None:
    """Pause a connection Railz reports disconnected or expired (or return its open pause), so
    its queued and new pushes wait for the business to reconnect it; None when it is active."""
    problem = connection_status_problem(connection)
    if problem is None:
        return None
    return connection_pause(connection_id=connection.pk, cause=problem.cause, reason=problem.reason)


def connection_pauses_follow_status(*, connection_ids: list[int]) -> tuple[int, int]:
    """After a sync changed these connections' status: pause the ones Railz now reports
    disconnected or expired, resume the ones it reports active again (pauses for a broken
    authorisation or a disconnect only; a daily cap or server errors keep their own time).
    Returns (paused, resumed)."""
    paused = resumed = 0
    for connection in Connection.objects.filter(pk__in=connection_ids):
        if connection.is_active:
            lifted = (
                ConnectionPause.objects.open()
                .filter(connection_id=connection.pk, cause__in=RECONNECT_LIFTS)
                .exists()
            )
            if lifted:
                connection_resume(connection_id=connection.pk)
                resumed += 1
        elif connection_pause_for_status(connection) is not None:
            paused += 1
    return paused, resumed


def connection_resume(*, connection_id: int, user: Any = None, probe: bool = False) -> int:
    """Close the connection's pause and send its queued pushes now; how many were queued.

    Nothing happens (0) when it is not paused. A push that meets the same broken connection
    pauses it again, and the others keep waiting.

    `probe` (a pause for server errors ending by itself): the oldest push goes first, alone,
    and the others are held until `connection_probe_answered` sees the accounting system
    answer it, or PROBE_HOLD_SECONDS pass. While an outage goes on, each of its pauses then
    ends with one call, not with every waiting push sent, refused and put back.
    """
    now = timezone.now()
    who = getattr(user, "pk", None)
    with transaction.atomic():
        closed = (
            ConnectionPause.objects.open()
            .filter(connection_id=connection_id)
            .update(resumed_at=now, resumed_by_id=who)
        )
        if not closed:
            return 0
        waiting = list(
            PushRequest.objects.filter(connection_id=connection_id, state=PushRequest.State.QUEUED)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
        )
        if probe and len(waiting) > 1:
            _probe(waiting[0], held=waiting[1:], now=now)
            return len(waiting)
        PushRequest.objects.filter(pk__in=waiting, state=PushRequest.State.QUEUED).update(
            next_attempt_at=now + timedelta(seconds=settings.PUSH_DISPATCH_GRACE_SECONDS)
        )
        name = user.get_username() if who else "automatically"
        _notes(
            waiting,
            now=now,
            staff=bool(who),
            message=f"The connection was resumed ({name}); this push is sent now.",
        )
        transaction.on_commit(lambda: _enqueue(waiting))
    return len(waiting)


# How long the pushes held behind a connection's first push after a pause wait for its answer
# at most: if it never comes (the answer was lost, the worker died), the dispatcher sends them.
PROBE_HOLD_SECONDS = 60


def _probe(first: int, *, held: list[int], now: datetime) -> None:
    """Send `first` now and hold `held` (in the caller's transaction)."""
    held_until = now + timedelta(seconds=PROBE_HOLD_SECONDS)
    PushRequest.objects.filter(pk=first, state=PushRequest.State.QUEUED).update(
        next_attempt_at=now + timedelta(seconds=settings.PUSH_DISPATCH_GRACE_SECONDS)
    )
    PushRequest.objects.filter(pk__in=held, state=PushRequest.State.QUEUED).update(
        next_attempt_at=held_until
    )
    others = (
        "the other push waiting follows"
        if len(held) == 1
        else f"the {len(held)} other pushes waiting follow"
    )
    _notes(
        [first],
        now=now,
        staff=False,
        message=(
            "The connection was resumed automatically; this push is sent first, alone, and "
            f"{others} once the accounting system answers it."
        ),
    )
    transaction.on_commit(lambda: _enqueue_probe(first, held_until))


def connection_probe_answered(*, push_request_id: int, held_until: datetime) -> int:
    """After the first push following a pause was sent: if the accounting system answered it
    (accepted or refused it, or asked to wait: anything but a server error, which paused the
    connection again, or a lost answer), send the pushes held behind it now; how many."""
    row = (
        PushRequest.objects.filter(pk=push_request_id).values_list("state", "connection_id").first()
    )
    if row is None:
        return 0
    state, connection_id = row
    if state in (PushRequest.State.UNKNOWN, PushRequest.State.SUBMITTING):
        return 0  # no answer: the held pushes go when their hold ends
    now = timezone.now()
    with transaction.atomic():
        if ConnectionPause.objects.open().filter(connection_id=connection_id).exists():
            return 0  # paused again: they wait for the next resume
        held = list(
            PushRequest.objects.filter(
                connection_id=connection_id,
                state=PushRequest.State.QUEUED,
                next_attempt_at=held_until,
            ).values_list("pk", flat=True)
        )
        if not held:
            return 0
        PushRequest.objects.filter(pk__in=held, state=PushRequest.State.QUEUED).update(
            next_attempt_at=now + timedelta(seconds=settings.PUSH_DISPATCH_GRACE_SECONDS)
        )
        _notes(
            held,
            now=now,
            staff=False,
            message=(
                f"The accounting system answered push #{push_request_id}, sent first after the "
                "connection's pause; this push is sent now."
            ),
        )
        transaction.on_commit(lambda: _enqueue(held, together=True))
    return len(held)


def _notes(ids: list[int], *, now: datetime, staff: bool, message: str) -> None:
    PushEvent.objects.bulk_create(
        PushEvent(
            push_request_id=pk,
            at=now,
            kind=PushEvent.Kind.NOTE,
            source=PushEvent.Source.STAFF if staff else PushEvent.Source.SYSTEM,
            message=message,
        )
        for pk in ids
    )


def _enqueue(ids: list[int], *, together: bool = False) -> None:
    """One task a push, or (`together`) a few tasks sending several each."""
    batch = nullcontext() if Conf.SYNC else transaction.atomic()
    try:
        with batch:
            if together:
                enqueue_pushes_submit(ids)
            else:
                for pk in ids:
                    enqueue_push_submit(pk)
    except Exception:
        logger.exception("could not enqueue %d resumed push(es); the dispatcher will", len(ids))


def _enqueue_probe(push_request_id: int, held_until: datetime) -> None:
    try:
        enqueue_push_probe(push_request_id, held_until)
    except Exception:
        logger.exception(
            "could not enqueue push %s after a pause; the dispatcher will", push_request_id
        )


def connection_pauses_next_resume_at() -> datetime | None:
    """When the next pause that clears by itself is due to end, if any."""
    return (
        ConnectionPause.objects.open()
        .filter(resume_at__isnull=False)
        .order_by("resume_at")
        .values_list("resume_at", flat=True)
        .first()
    )


def connection_pauses_resume_due(*, now: datetime | None = None) -> int:
    """Resume the pauses whose cause clears by itself and whose time has come."""
    now = now or timezone.now()
    due = ConnectionPause.objects.open().filter(resume_at__lte=now)
    resumed = 0
    for connection_id, cause in list(due.values_list("connection_id", "cause")):
        probe = cause == Cause.PROVIDER_ERRORS
        if probe:
            _on_probation(connection_id)
        connection_resume(connection_id=connection_id, probe=probe)
        resumed += 1
    return resumed
