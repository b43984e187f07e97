"""Running totals of pushes by creation hour, connection and count column (`PushHourCount`).

The push pipeline calls `counts_add` when it writes new pushes and `counts_move` when a push
changes state, inside the same transaction, so the totals are exactly the pushes' states. Each
call is one INSERT ... ON CONFLICT DO UPDATE statement (SQLite and PostgreSQL both have it):
a push costs one statement when it is created (per batch) and one each time its column
changes, usually once (in progress -> succeeded). Pages read these totals instead of the
history of pushes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection

from pushes.models import PushHourCount, PushRequest

__all__ = [
    "COLUMN_OF_STATE",
    "COUNT_COLUMNS",
    "counts_add",
    "counts_move",
    "counts_rebuild",
    "hour_of",
]

State = PushRequest.State

# The columns pushes are counted in: (key, label, states).
COUNT_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("in_flight", "In progress", (State.QUEUED, State.SUBMITTING, State.PENDING)),
    ("success", "Succeeded", (State.SUCCESS,)),
    ("failed", "Failed", (State.FAILED,)),
    ("rejected", "Rejected", (State.REJECTED,)),
    ("unknown", "Outcome unknown", (State.UNKNOWN,)),
    ("cancelled", "Cancelled", (State.CANCELLED,)),
)
COLUMN_OF_STATE = {state: key for key, _, states in COUNT_COLUMNS for state in states}


def hour_of(moment: datetime) -> datetime:
    """The UTC hour a moment falls in (every time zone the site may use shares the buckets)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counts_add(pushes: Iterable[PushRequest]) -> None:
    """Count pushes just written (call in the transaction that wrote them)."""
    _bump(
        Counter(
            (hour_of(p.created_at), p.connection_id, COLUMN_OF_STATE.get(p.state, p.state))
            for p in pushes
        )
    )


def counts_move(push: PushRequest, *, from_state: str, to_state: str) -> None:
    """Move `push`'s one from its old column to its new one (in the state change's
    transaction); nothing when both states share a column."""
    old = COLUMN_OF_STATE.get(from_state, from_state)
    new = COLUMN_OF_STATE.get(to_state, to_state)
    if old == new:
        return
    hour = hour_of(push.created_at)
    _bump(Counter({(hour, push.connection_id, old): -1, (hour, push.connection_id, new): 1}))


def _bump(changes: Counter) -> None:
    """Add each (hour, connection, column): n in one statement."""
    changes = {k: v for k, v in changes.items() if v}
    if not changes:
        return
    table = connection.ops.quote_name(PushHourCount._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(changes))
    params: list = []
    for (hour, connection_id, column), n in sorted(changes.items()):
        params += [adapt(hour), connection_id, column, n]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} ("hour", "connection_id", "column", "count") VALUES {rows} '  # noqa: S608
            f'ON CONFLICT ("hour", "connection_id", "column") '
            f'DO UPDATE SET "count" = {table}."count" + excluded."count"',
            params,
        )


def counts_rebuild() -> int:
    """Recount the totals from the pushes themselves (one pass over them); how many rows.

    For a database filled some other way than through the pipeline (a bulk load, a restore).
    """
    from django.db.models import Count
    from django.db.models.functions import TruncHour

    totals: Counter = Counter()
    rows = (
        PushRequest.objects.annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour", "connection_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows.iterator():
        column = COLUMN_OF_STATE.get(row["state"], row["state"])
        totals[(hour_of(row["hour"]), row["connection_id"], column)] += row["n"]
    PushHourCount.objects.all().delete()
    PushHourCount.objects.bulk_create(
        [
            PushHourCount(hour=hour, connection_id=connection_id, column=column, count=n)
            for (hour, connection_id, column), n in totals.items()
        ],
        batch_size=1000,
    )
    return len(totals)
