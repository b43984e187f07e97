"""The periodic jobs of the project itself, written to django-q2 by `setup_schedules`."""

from __future__ import annotations

from refs.schedules import DeclaredSchedule


def schedules() -> list[DeclaredSchedule]:
    return [
        DeclaredSchedule(
            name="railzpush: purge old successful tasks",
            func="railzpush.tasks.task_successes_purge_task",
            minutes=60,
        ),
    ]
