"""Fetching a connection's push rules (GET /v2/data/pushOptions) and keeping them.

The rules are fetched for every data type railzpush knows (all nine are pushOptions dataTypes)
and every operation the connection's provider can do on it (create, update): when discovery
finds the connection, once a day for every active connection, and on demand from the admin.
Validation reads the kept copy (`pushes.push_options_selectors`) and never calls Railz.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from pushes.models import ProviderPushOptions
from pushes.push_options_selectors import OPERATIONS
from pushes.queue import enqueue_push_options_refresh
from railzpush.railz.datatypes import DATA_TYPES
from refs.models import Connection

__all__ = [
    "push_options_data_types",
    "push_options_refresh",
    "push_options_refresh_enqueue",
]

logger = logging.getLogger("pushes")

# An operation and the `method` pushOptions describes it with.
_METHODS = {
    ProviderPushOptions.Operation.CREATE: "POST",
    ProviderPushOptions.Operation.UPDATE: "PUT",
}


def push_options_data_types(service_name: str) -> dict[str, list[str]]:
    """{data type: [operations]} the provider can push, so the ones worth asking about."""
    wanted = {}
    for name, data_type in DATA_TYPES.items():
        operations = [op for op in OPERATIONS if data_type.supports(op, service_name)]
        if operations:
            wanted[name] = operations
    return wanted


def _entries(answer: Any, data_type: str) -> list[dict[str, Any]]:
    entries = answer.get("data") if isinstance(answer, dict) else answer
    return [
        entry
        for entry in entries or []
        if isinstance(entry, dict) and entry.get("requestType", data_type) == data_type
    ]


def push_options_refresh(
    *, connection: Connection, client: Any = None
) -> list[ProviderPushOptions]:
    """Fetch the connection's pushOptions for every data type and operation, and keep them.

    Every answer is read before anything is written: when Railz cannot answer one, the
    client's RailzError is raised and the previous copies all stay.
    """
    if client is None:
        from railzpush.railz import get_client

        client = get_client()
    answers = {
        data_type: (
            operations,
            _entries(
                client.push_options(
                    connection_uuid=connection.connection_uuid, data_type=data_type
                ),
                data_type,
            ),
        )
        for data_type, operations in push_options_data_types(connection.service_name).items()
    }
    now = timezone.now()
    kept = []
    with transaction.atomic():
        for data_type, (operations, entries) in answers.items():
            for operation in operations:
                method = _METHODS[operation]
                row, _ = ProviderPushOptions.objects.update_or_create(
                    connection=connection,
                    data_type=data_type,
                    operation=operation,
                    defaults={
                        "options": [
                            e for e in entries if str(e.get("method", "")).upper() == method
                        ],
                        "fetched_at": now,
                    },
                )
                kept.append(row)
    return kept


def push_options_refresh_enqueue(*, connections: Iterable[Connection | int]) -> int:
    """Queue a background fetch of each connection's push rules, sent on commit."""
    ids = [c if isinstance(c, int) else c.pk for c in connections]

    def send() -> None:
        for connection_id in ids:
            try:
                enqueue_push_options_refresh(connection_id)
            except Exception:
                # Tomorrow's refresh, or the admin's action, fetches them instead.
                logger.exception("could not enqueue the push rules of connection %s", connection_id)

    transaction.on_commit(send)
    return len(ids)
