"""Where the refs app hands work to django-q2: every task named by its dotted path.

django-q2 addresses a task by name, so the sync services never import `refs.tasks`, which
imports them. The push rules of a new connection are the push app's work: it is named here the
same way, so this app imports nothing of the push app.
"""

from __future__ import annotations

from datetime import datetime

from django_q.models import Schedule
from django_q.tasks import async_task

__all__ = [
    "PAUSES_TASK",
    "PUSH_OPTIONS_TASK",
    "RETRY_SCHEDULE_PREFIX",
    "SYNC_TASK",
    "enqueue_connection_pauses_follow",
    "enqueue_connection_sync",
    "enqueue_push_options_fetch",
    "retry_schedule",
]

SYNC_TASK = "refs.tasks.connection_sync_task"
RETRY_SCHEDULE_PREFIX = "refs: retry"
# The push app's task that fetches one connection's push rules (pushOptions).
PUSH_OPTIONS_TASK = "pushes.tasks.push_options_refresh_task"
# The push app's task that pauses the pushes of connections Railz now reports disconnected or
# expired, and resumes the ones it reports active again.
PAUSES_TASK = "pushes.tasks.connection_pauses_follow_status_task"


def enqueue_connection_sync(*, connection_id: int, data_types: list[str] | None = None) -> str:
    args = (connection_id,) if data_types is None else (connection_id, data_types)
    return async_task(SYNC_TASK, *args, task_name=f"refs sync {connection_id}", group="refs")


def enqueue_push_options_fetch(*, connection_id: int) -> str:
    return async_task(
        PUSH_OPTIONS_TASK,
        connection_id,
        task_name=f"push options {connection_id}",
        group="pushes",
    )


def enqueue_connection_pauses_follow(*, connection_ids: list[int]) -> str:
    return async_task(
        PAUSES_TASK,
        connection_ids,
        task_name=f"connection pauses {connection_ids[0]}+{len(connection_ids) - 1}",
        group="pushes",
    )


def retry_schedule(*, connection_id: int, data_type: str, at: datetime) -> Schedule:
    """One later attempt of a sync that could not finish; re-scheduling moves it, never adds."""
    schedule, _ = Schedule.objects.update_or_create(
        name=f"{RETRY_SCHEDULE_PREFIX} {data_type} of connection {connection_id}"[:100],
        defaults={
            "func": SYNC_TASK,
            "args": repr((connection_id, [data_type])),
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": at,
        },
    )
    return schedule
