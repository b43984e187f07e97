"""Background entry points (django-q2): each takes ids, loads rows and calls a service.

They are enqueued by dotted path (`pushes.queue`), so nothing imports this module but django-q2.
Every task is safe to run twice (the services claim rows with conditional updates), which is
what lets Q_CLUSTER's `max_attempts` hand a task lost with its worker to another one.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_q.brokers import get_broker

from pushes.models import PushRequest, WebhookEvent
from pushes.queue import DISPATCHER_WOKEN_KEY
from pushes.services import alerts, batches, connection_pauses, reconcile
from pushes.services import push_options as push_options_services
from pushes.services import push_requests as services
from refs.models import Connection

logger = logging.getLogger("pushes")

# The longest the lease-expiry job waits for a stuck send's lease to run out (see below).
EXPIRE_WAIT_SECONDS = 30


def push_submit_task(push_request_id: int) -> str:
    """Send one queued push (in a batch with its queued siblings where Railz takes batches of
    its type) and record Railz's answer."""
    push = batches.push_submit(push_request_id=push_request_id)
    if push is None:
        return f"push {push_request_id}: not queued (sent in a batch or cancelled), skipped"
    batch = f" in batch {push.batch_id}" if push.batch_id else ""
    return f"push {push_request_id}: {push.state}{batch}"


def push_probe_task(push_request_id: int, held_until) -> str:
    """Send the first push of a connection whose pause for server errors ended by itself, then
    let the pushes held behind it go if the accounting system answered (see
    `connection_pauses.connection_resume`)."""
    push = batches.push_submit(push_request_id=push_request_id)
    released = connection_pauses.connection_probe_answered(
        push_request_id=push_request_id, held_until=held_until
    )
    state = push.state if push is not None else "not queued"
    return f"push {push_request_id} (first after a pause): {state}; {released} push(es) released"


def pushes_submit_task(push_request_ids: list[int]) -> str:
    """Send several queued pushes in turn, each as `push_submit_task` would, sharing one
    Railz client (one connection kept open); see `batches.pushes_submit`."""
    result = batches.pushes_submit(
        push_request_ids=push_request_ids, slice_seconds=settings.PUSH_SUBMIT_SLICE_SECONDS
    )
    return result.summary()


def push_reconcile_task(push_request_id: int) -> str:
    """Settle one unknown push against Railz's list of pushes."""
    push = PushRequest.objects.select_related("connection").filter(pk=push_request_id).first()
    if push is None:
        return f"push {push_request_id} no longer exists"
    return reconcile.push_reconcile(push=push)


def pushes_reconcile_these_task(push_request_ids: list[int]) -> str:
    """Settle the unknown pushes of one batch together: one push log, one read per record."""
    pushes = PushRequest.objects.filter(pk__in=push_request_ids, state=PushRequest.State.UNKNOWN)
    result = reconcile.pushes_reconcile(
        pushes=pushes.select_related("connection"), source=services.Source.SYSTEM
    )
    return f"{result.asked} unknown push(es) looked at, {result.done} settled"


def webhook_event_apply_task(webhook_event_id: int) -> str:
    """Apply one stored webhook."""
    event = WebhookEvent.objects.filter(pk=webhook_event_id).first()
    if event is None:
        return f"webhook event {webhook_event_id} no longer exists"
    return services.webhook_event_apply(webhook_event=event)


def push_options_refresh_task(connection_id: int) -> str:
    """Fetch one connection's push rules (pushOptions) for every data type and operation."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return f"connection {connection_id} no longer exists"
    kept = push_options_services.push_options_refresh(connection=connection)
    return f"{connection}: push rules kept for {len(kept)} data type and operation pair(s)"


def connection_pauses_follow_status_task(connection_ids: list[int]) -> str:
    """After a connections sync: pause the ones Railz reports disconnected or expired, resume
    the ones it reports active again."""
    paused, resumed = connection_pauses.connection_pauses_follow_status(
        connection_ids=connection_ids
    )
    return f"{paused} connection(s) paused, {resumed} resumed"


def push_options_refresh_all_task() -> str:
    """The daily refresh: queue a fetch of the push rules of every active connection."""
    queued = push_options_services.push_options_refresh_enqueue(
        connections=Connection.objects.active().values_list("pk", flat=True)
    )
    return f"{queued} connection(s) queued"


def pushes_poll_task() -> str:
    """The periodic poll: one pushStatus call per connection with pushes due for a look.

    The schedule wakes it every minute, but young pushes are due every 5 or 15 seconds. While
    webhooks are arriving they carry the outcomes and one pass is enough; when none came in
    the last minute, it keeps polling while the next look falls inside PUSH_POLL_LOOP_SECONDS
    (kept below the cluster's timeout), so a missing webhook costs seconds, not minutes.
    """
    deadline = time.monotonic() + settings.PUSH_POLL_LOOP_SECONDS
    runs = changed = 0
    while True:
        result = services.pushes_poll_due()
        runs += 1
        changed += result.changed
        due = services.pushes_next_poll_at()
        recent = timezone.now() - timedelta(minutes=1)
        if due is None or WebhookEvent.objects.filter(received_at__gte=recent).exists():
            break
        wait = max(0.0, (due - timezone.now()).total_seconds())
        if time.monotonic() + wait >= deadline:
            break
        time.sleep(wait)
    return f"{runs} poll round(s), {changed} push(es) changed"


def pushes_dispatch_task(woken: bool = False) -> str:
    """Enqueue queued pushes whose backoff or rate-limit wait is over.

    Skipped while the broker still holds a backlog: a big bulk push may outlast the dispatch
    grace, and its pushes are already in the queue; anything truly lost is enqueued once the
    backlog has drained.

    The schedule wakes it every minute, but a 429 or 503 storm ends at the second its
    Retry-After names: when nothing is due yet and the next push falls due within
    PUSH_POLL_LOOP_SECONDS, it sleeps until then and enqueues it, so pushes resume as soon as
    Railz allows, not up to a minute (and the scheduler's lateness) later. A connection's pause
    that ends by itself within that time is waited for the same way.

    `woken`: run by a worker that has just put pushes off (`queue.wake_dispatcher`), not by
    the schedule. It does not look at the backlog (the pushes it waits for are not in the
    queue), and lets the next put-off push wake another once it is done.
    """
    try:
        return _dispatch(woken=woken)
    finally:
        if woken:
            cache.delete(DISPATCHER_WOKEN_KEY)


# After sending what fell due, a woken dispatcher also waits for what falls due this soon after:
# pushes put off together are spread over a second so they do not come back at once.
FOLLOW_SECONDS = 2.0


def _dispatch(*, woken: bool) -> str:
    # Pauses whose cause clears by itself (a daily cap, a run of server errors) end first.
    resumed = connection_pauses.connection_pauses_resume_due()
    backlog = 0 if woken else get_broker().queue_size() or 0
    if backlog > settings.PUSH_DISPATCH_MAX_BACKLOG:
        return f"{backlog} task(s) still queued; dispatch skipped"
    deadline = time.monotonic() + settings.PUSH_POLL_LOOP_SECONDS
    # While a woken dispatcher waits, the scheduled one sends what is due and leaves: two
    # sleeping dispatchers would hold two workers.
    may_wait = woken or cache.get(DISPATCHER_WOKEN_KEY) is None
    sent = services.pushes_dispatch_due()
    while may_wait and (not sent or woken):
        # The next push due again, or the next pause to end (its pushes go out when it does).
        due = min(
            (
                when
                for when in (
                    services.pushes_next_attempt_at(),
                    connection_pauses.connection_pauses_next_resume_at(),
                )
                if when is not None
            ),
            default=None,
        )
        if due is None:
            break
        wait = max(0.2, (due - timezone.now()).total_seconds())
        if time.monotonic() + wait >= deadline or (sent and wait > FOLLOW_SECONDS):
            break
        time.sleep(wait)
        resumed += connection_pauses.connection_pauses_resume_due()
        sent += services.pushes_dispatch_due()
    resumed_note = f"; {resumed} paused connection(s) resumed" if resumed else ""
    return f"{len(sent)} push(es) enqueued{resumed_note}"


def pushes_expire_leases_task() -> str:
    """The every-minute look for sends whose worker died: past the lease they become unknown
    and their reconciliation is enqueued at once.

    django-q2's scheduler fires a job up to half a minute late, so a lease running out just
    after one run could wait for the second next one; a push whose lease runs out within
    EXPIRE_WAIT_SECONDS (bounded by PUSH_POLL_LOOP_SECONDS, below the cluster's timeout) is
    waited for instead. A healthy send leaves `submitting` within seconds, so the wait only
    happens for a send that is already stuck.
    """
    deadline = time.monotonic() + min(EXPIRE_WAIT_SECONDS, settings.PUSH_POLL_LOOP_SECONDS)
    moved = services.pushes_expire_leases(reconcile=True)
    while (due := services.pushes_next_lease_expiry()) is not None:
        wait = max(0.0, (due - timezone.now()).total_seconds()) + 1
        if time.monotonic() + wait > deadline:
            break
        time.sleep(wait)
        moved += services.pushes_expire_leases(reconcile=True)
    return f"{moved} push(es) whose worker stopped moved to unknown"


def pushes_reconcile_task() -> str:
    """Expire lost leases, then reconcile unknown pushes."""
    result = reconcile.pushes_reconcile_unknown()
    return f"{result.asked} unknown push(es) looked at, {result.done} settled"


def alerts_task() -> str:
    """Every minute: tell people about pushes that newly need them, and send due webhooks."""
    told = alerts.alerts_collect()
    delivered = alerts.alert_deliveries_send_due()
    return f"{len(told)} push(es) told about, {delivered} webhook delivery(ies) sent"


def alerts_digest_task() -> str:
    """Daily: one email per person who chose the digest."""
    return f"{alerts.alerts_send_digests()} digest(s) sent"
