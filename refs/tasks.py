"""Background entry points (django-q2): each takes ids, loads rows and calls a service."""

from __future__ import annotations

import logging

from refs.models import Connection
from refs.queue import SYNC_TASK
from refs.services import connection_sync, connections_discover, connections_sync_enqueue

logger = logging.getLogger("refs.sync")

# Enqueued by dotted path (`refs.queue`): nothing imports this module but django-q2.
__all__ = ["SYNC_TASK", "connection_sync_task", "refs_refresh_task"]


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
