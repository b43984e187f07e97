"""Running totals of pushes by creation hour, connection and count column (`PushHourCount`).

The database keeps them: triggers on the push table (migration 0023) add a push to its column
when it is written, move it when its state, creation hour or connection changes and take it
away when it is deleted, in the statement that made the change. So the totals are exactly the
pushes' states whatever wrote them, at no statement of the pipeline's own. Pages read these
totals instead of the history of pushes; this module names the columns and can recount them.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from pushes.models import PushHourCount, PushRequest

__all__ = [
    "COLUMN_OF_STATE",
    "COUNT_COLUMNS",
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


def counts_rebuild() -> int:
    """Recount the totals from the pushes themselves (one pass over them); how many rows.

    For a database whose totals were lost or loaded apart from its pushes (a restore of one
    table, rows written while the triggers were dropped).
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
