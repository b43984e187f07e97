"""Where the push app hands work to django-q2: every task named by its dotted path.

django-q2 addresses a task by name, so the services and views that enqueue work never import
`pushes.tasks`, which imports them: the tasks call the services, never the other way round.
Callers enqueue inside `transaction.on_commit`, so a worker never looks for rows that are not
visible yet.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from django.conf import settings
from django_q.tasks import async_task

__all__ = [
    "DISPATCHER_WOKEN_KEY",
    "DISPATCH_TASK",
    "GROUP",
    "PROBE_TASK",
    "PUSH_OPTIONS_TASK",
    "RECONCILE_MANY_TASK",
    "RECONCILE_TASK",
    "SUBMIT_MANY_TASK",
    "SUBMIT_TASK",
    "WEBHOOK_TASK",
    "enqueue_push_options_refresh",
    "enqueue_push_probe",
    "enqueue_push_reconcile",
    "enqueue_push_submit",
    "enqueue_pushes_reconcile",
    "enqueue_pushes_submit",
    "enqueue_webhook_apply",
    "wake_dispatcher",
]

GROUP = "pushes"
logger = logging.getLogger("pushes")

SUBMIT_TASK = "pushes.tasks.push_submit_task"
SUBMIT_MANY_TASK = "pushes.tasks.pushes_submit_task"
PROBE_TASK = "pushes.tasks.push_probe_task"
RECONCILE_TASK = "pushes.tasks.push_reconcile_task"
RECONCILE_MANY_TASK = "pushes.tasks.pushes_reconcile_these_task"
WEBHOOK_TASK = "pushes.tasks.webhook_event_apply_task"
PUSH_OPTIONS_TASK = "pushes.tasks.push_options_refresh_task"
DISPATCH_TASK = "pushes.tasks.pushes_dispatch_task"
# Set while a dispatcher woken by a put-off push waits (see `wake_dispatcher`).
DISPATCHER_WOKEN_KEY = "pushes:dispatcher-woken"


def enqueue_push_submit(push_request_id: int) -> str:
    return async_task(
        SUBMIT_TASK, push_request_id, task_name=f"push {push_request_id}", group=GROUP
    )


def enqueue_push_probe(push_request_id: int, held_until: datetime) -> str:
    """Send one push first after a connection's outage; the pushes held until `held_until`
    follow once the accounting system answers it (`connection_pauses.connection_probe_answered`)."""
    return async_task(
        PROBE_TASK,
        push_request_id,
        held_until,
        task_name=f"push {push_request_id} (first after a pause)",
        group=GROUP,
    )


def enqueue_pushes_submit(push_request_ids: list[int]) -> list[str]:
    """Enqueue the sends of several pushes as a few tasks, each sending its share in turn.

    A task costs the queue more than the send it carries, so a bulk push goes out as at most
    PUSH_SUBMIT_PER_TASK pushes a task, spread so every worker gets a share; each push is
    still claimed, sent and retried on its own. One push is one task, as before.
    """
    ids = list(push_request_ids)
    if len(ids) == 1:
        return [enqueue_push_submit(ids[0])]
    share = math.ceil(len(ids) / settings.Q_WORKERS)
    size = max(1, min(settings.PUSH_SUBMIT_PER_TASK, share))
    return [
        async_task(
            SUBMIT_MANY_TASK,
            ids[start : start + size],
            task_name=f"push {ids[start]} and {len(ids[start : start + size]) - 1} more",
            group=GROUP,
        )
        for start in range(0, len(ids), size)
    ]


def enqueue_push_reconcile(push_request_id: int) -> str:
    return async_task(
        RECONCILE_TASK, push_request_id, task_name=f"reconcile {push_request_id}", group=GROUP
    )


def enqueue_pushes_reconcile(push_request_ids: list[int]) -> str:
    """One reconciliation of several unknown pushes (a batch whose answer was lost)."""
    return async_task(
        RECONCILE_MANY_TASK,
        list(push_request_ids),
        task_name=f"reconcile {len(push_request_ids)} pushes from {push_request_ids[0]}",
        group=GROUP,
    )


def enqueue_webhook_apply(webhook_event_id: int) -> str:
    return async_task(
        WEBHOOK_TASK, webhook_event_id, task_name=f"webhook {webhook_event_id}", group=GROUP
    )


def enqueue_push_options_refresh(connection_id: int) -> str:
    return async_task(
        PUSH_OPTIONS_TASK, connection_id, task_name=f"push options {connection_id}", group=GROUP
    )


def wake_dispatcher(seconds: float) -> str | None:
    """Have the dispatcher send pushes put off for `seconds` (a 429's or 503's Retry-After, a
    backoff) as soon as they fall due, not when the scheduler next wakes it (up to a minute
    and its lateness later). One dispatcher at a time: it sleeps until the next push falls
    due, so pushes put off meanwhile are sent by the same one. Nothing for a wait the minute
    schedule reaches anyway, nor with a synchronous queue, which would sleep in the caller.
    """
    from django.core.cache import cache
    from django_q.conf import Conf

    if Conf.SYNC or seconds >= settings.PUSH_POLL_LOOP_SECONDS:
        return None
    try:
        if not cache.add(DISPATCHER_WOKEN_KEY, 1, timeout=settings.PUSH_POLL_LOOP_SECONDS + 10):
            return None
        return async_task(DISPATCH_TASK, True, task_name="dispatch pushes put off", group=GROUP)
    except Exception:
        # The scheduled dispatcher still sends them, only later.
        logger.exception("could not wake the dispatcher; the schedule will send the pushes")
        return None
