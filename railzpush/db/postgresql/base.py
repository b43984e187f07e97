"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

Connections are kept between requests and tasks (`CONN_MAX_AGE`), so Django checks a kept one
before its first use in each (`CONN_HEALTH_CHECKS`): its own check sends `SELECT 1` and waits
for the answer, once for every webhook Railz delivers. A server that ends a connection (a
restart, an idle timeout, `pg_terminate_backend`) says so on the socket: it sends its FATAL
message and closes, and the socket becomes readable. So an idle connection with nothing to read
is as usable as `SELECT 1` would have found it; one with something to read, or in the middle of
a transaction, gets Django's own check.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status == pq.TransactionStatus.IDLE and not _has_input(
            connection.fileno()
        ):
            return True
        return super().is_usable()


def _has_input(fd: int) -> bool:
    """Whether the server has sent anything not read yet (or closed); True if it cannot be
    told, which falls back to asking the server."""
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    try:
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
