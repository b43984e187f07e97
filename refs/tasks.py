"""Background entry points (django-q2): each takes ids, loads rows and calls a service."""

from __future__ import annotations

import logging
from datetime import datetime

from django_q.models import Schedule
from django_q.tasks import async_task

from refs.models import Connection
from refs.services import connection_sync, connections_discover, connections_sync_enqueue

logger = logging.getLogger("refs.sync")

SYNC_TASK = "refs.tasks.connection_sync_task"
RETRY_SCHEDULE_PREFIX = "refs: retry"


def connection_sync_task(connection_id: int, data_types: list[str] | None = None) -> list[int]:
    """Sync one connection's reference data (all types, or `data_types`); returns run ids."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        logger.warning("connection %s no longer exists; nothing to sync", connection_id)
        return []
    runs = connection_sync(connection=connection, data_types=data_types)
    return [run.pk for run in runs]


def refs_refresh_task() -> int:
    """The periodic refresh: discover connections, then queue a sync of each active one."""
    connections_discover()
    return connections_sync_enqueue(connections=Connection.objects.active())


def enqueue_connection_sync(*, connection_id: int, data_types: list[str] | None = None) -> str:
    args = (connection_id,) if data_types is None else (connection_id, data_types)
    return async_task(SYNC_TASK, *args, task_name=f"refs sync {connection_id}", group="refs")


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
