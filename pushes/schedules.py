"""The periodic jobs of the push pipeline, written to django-q2 by `setup_schedules`."""

from __future__ import annotations

from refs.schedules import DeclaredSchedule


def schedules() -> list[DeclaredSchedule]:
    return [
        DeclaredSchedule(
            name="pushes: poll push status",
            func="pushes.tasks.pushes_poll_task",
            minutes=1,
        ),
        DeclaredSchedule(
            name="pushes: dispatch due pushes",
            func="pushes.tasks.pushes_dispatch_task",
            minutes=1,
        ),
        DeclaredSchedule(
            # A dead worker's push surfaces within PUSH_LEASE_SECONDS and a minute.
            name="pushes: expire lost sends",
            func="pushes.tasks.pushes_expire_leases_task",
            minutes=1,
        ),
        DeclaredSchedule(
            name="pushes: reconcile unknown pushes",
            func="pushes.tasks.pushes_reconcile_task",
            minutes=5,
        ),
        DeclaredSchedule(
            name="pushes: refresh push rules (pushOptions)",
            func="pushes.tasks.push_options_refresh_all_task",
            minutes=24 * 60,
        ),
        DeclaredSchedule(
            name="pushes: alert who asked (failed, refused, unknown) and send webhooks",
            func="pushes.tasks.alerts_task",
            minutes=1,
        ),
        DeclaredSchedule(
            name="pushes: daily digest of alerts",
            func="pushes.tasks.alerts_digest_task",
            minutes=24 * 60,
        ),
    ]
