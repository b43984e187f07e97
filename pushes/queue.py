"""Where the push app hands work to django-q2: every task named by its dotted path.

django-q2 addresses a task by name, so the services and views that enqueue work never import
`pushes.tasks`, which imports them: the tasks call the services, never the other way round.
Callers enqueue inside `transaction.on_commit`, so a worker never looks for rows that are not
visible yet.
"""

from __future__ import annotations

import math

from django.conf import settings
from django_q.tasks import async_task

__all__ = [
    "GROUP",
    "PUSH_OPTIONS_TASK",
    "RECONCILE_MANY_TASK",
    "RECONCILE_TASK",
    "SUBMIT_MANY_TASK",
    "SUBMIT_TASK",
    "WEBHOOK_TASK",
    "enqueue_push_options_refresh",
    "enqueue_push_reconcile",
    "enqueue_push_submit",
    "enqueue_pushes_reconcile",
    "enqueue_pushes_submit",
    "enqueue_webhook_apply",
]

GROUP = "pushes"
SUBMIT_TASK = "pushes.tasks.push_submit_task"
SUBMIT_MANY_TASK = "pushes.tasks.pushes_submit_task"
RECONCILE_TASK = "pushes.tasks.push_reconcile_task"
RECONCILE_MANY_TASK = "pushes.tasks.pushes_reconcile_these_task"
WEBHOOK_TASK = "pushes.tasks.webhook_event_apply_task"
PUSH_OPTIONS_TASK = "pushes.tasks.push_options_refresh_task"


def enqueue_push_submit(push_request_id: int) -> str:
    return async_task(
        SUBMIT_TASK, push_request_id, task_name=f"push {push_request_id}", group=GROUP
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
