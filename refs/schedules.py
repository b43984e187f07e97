"""The periodic jobs of the reference-data mirror, written to django-q2 by `setup_schedules`."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class DeclaredSchedule:
    name: str  # the key `setup_schedules` matches existing schedules on
    func: str
    minutes: int


def schedules() -> list[DeclaredSchedule]:
    return [
        DeclaredSchedule(
            name="refs: refresh reference data",
            func="refs.tasks.refs_refresh_task",
            minutes=settings.REFS_SYNC_INTERVAL_MINUTES,
        ),
    ]
