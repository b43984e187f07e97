"""Where imports hand work to django-q2, by dotted path (see `pushes.queue`).

Callers enqueue inside `transaction.on_commit`, so the worker finds the import it is given.
"""

from __future__ import annotations

from django_q.tasks import async_task

__all__ = ["CHECK_TASK", "GROUP", "WRITE_TASK", "enqueue_import_check", "enqueue_import_write"]

GROUP = "sheets"
CHECK_TASK = "sheets.tasks.import_check_task"
WRITE_TASK = "sheets.tasks.import_write_task"


def enqueue_import_check(sheet_import_id: int) -> str:
    return async_task(
        CHECK_TASK, sheet_import_id, task_name=f"import check {sheet_import_id}", group=GROUP
    )


def enqueue_import_write(sheet_import_id: int) -> str:
    return async_task(
        WRITE_TASK, sheet_import_id, task_name=f"import write {sheet_import_id}", group=GROUP
    )
