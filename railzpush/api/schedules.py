"""The periodic jobs of the REST API, written to django-q2 by `setup_schedules`."""

from __future__ import annotations

from refs.schedules import DeclaredSchedule


def schedules() -> list[DeclaredSchedule]:
    return [
        DeclaredSchedule(
            # Keys expire after 24 hours; one sweep an hour keeps the table to about a day's.
            name="api: purge expired idempotency keys",
            func="railzpush.api.tasks.idempotency_keys_purge_task",
            minutes=60,
        ),
    ]
