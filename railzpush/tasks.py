"""Background housekeeping of the task queue itself (django-q2)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Success

PURGE_BATCH = 1000


def task_successes_purge(*, keep_hours: int) -> int:
    """Delete successful task results older than `keep_hours`; returns how many.

    Deleted in batches so a long backlog never holds SQLite's write lock for long. The push
    pipeline's own record of what happened is its push requests and their timelines; these rows
    are only the queue's log for operators.
    """
    cutoff = timezone.now() - timedelta(hours=keep_hours)
    deleted = 0
    while True:
        ids = list(
            Success.objects.filter(stopped__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            return deleted
        count, _ = Success.objects.filter(pk__in=ids).delete()
        deleted += count


def task_successes_purge_task() -> int:
    """The periodic clean-up that replaces django-q2's own pruning (see Q_CLUSTER)."""
    return task_successes_purge(keep_hours=settings.Q_SUCCESS_KEEP_HOURS)
