"""Where the push app hands work to django-q2: every task named by its dotted path.

django-q2 addresses a task by name, so the services and views that enqueue work never import
`pushes.tasks`, which imports them: the tasks call the services, never the other way round.
Callers enqueue inside `transaction.on_commit`, so a worker never looks for rows that are not
visible yet.
"""

from __future__ import annotations

from django_q.tasks import async_task

__all__ = [
    "GROUP",
    "PUSH_OPTIONS_TASK",
    "RECONCILE_MANY_TASK",
    "RECONCILE_TASK",
    "SUBMIT_TASK",
    "WEBHOOK_TASK",
    "enqueue_push_options_refresh",
    "enqueue_push_reconcile",
    "enqueue_push_submit",
    "enqueue_pushes_reconcile",
    "enqueue_webhook_apply",
]

GROUP = "pushes"
SUBMIT_TASK = "pushes.tasks.push_submit_task"
RECONCILE_TASK = "pushes.tasks.push_reconcile_task"
RECONCILE_MANY_TASK = "pushes.tasks.pushes_reconcile_these_task"
WEBHOOK_TASK = "pushes.tasks.webhook_event_apply_task"
PUSH_OPTIONS_TASK = "pushes.tasks.push_options_refresh_task"


def enqueue_push_submit(push_request_id: int) -> str:
    return async_task(
        SUBMIT_TASK, push_request_id, task_name=f"push {push_request_id}", group=GROUP
    )


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
