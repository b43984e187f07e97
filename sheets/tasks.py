"""Background entry points of imports (django-q2): each takes an id and calls a service.

Both are safe to run twice: a check is redone from the stored file, and a write skips every
key already imported, so a worker lost halfway is simply run again.
"""

from __future__ import annotations

from sheets import services


def import_check_task(sheet_import_id: int) -> str:
    sheet_import = services.import_check(sheet_import_id=sheet_import_id)
    return f"import {sheet_import_id}: {sheet_import.state if sheet_import else 'gone'}"


def import_write_task(sheet_import_id: int) -> str:
    sheet_import = services.import_write(sheet_import_id=sheet_import_id)
    return f"import {sheet_import_id}: {sheet_import.state if sheet_import else 'gone'}"
