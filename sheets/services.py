"""Importing a sheet: upload, check (nothing written), confirm, write each record whole.

`import_start` keeps the file and checks it, in the request for a small file and in a worker
for a large one (IMPORT_BACKGROUND_BYTES); the preview is stored on the import. `import_confirm`
writes: every record is checked again the composer's way (references may have changed since
the preview) and created as a draft or ready with its key, a batch of records, their lines and
keys in one transaction and a few statements. A key already imported is never imported again;
a worker lost halfway leaves every record whole or absent, and running the write again
finishes the rest.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from pushes import registry
from pushes.selectors import record_push_state, records_with_push_state
from pushes.services.records import RecordInvalid, record_create, records_create_many
from sheets import queue
from sheets.checking import CheckedSheet, Outcome, Problem, _place, sheet_check
from sheets.models import ImportedKey, SheetImport
from sheets.reading import FileRefused, sheet_read

logger = logging.getLogger("sheets")

__all__ = [
    "RESULT_HEADERS",
    "import_check",
    "import_confirm",
    "import_result_rows",
    "import_start",
    "import_write",
]

# The problems a preview keeps to show; the counts are always whole.
PROBLEMS_KEPT = 2000
# Records written per transaction, in a few statements together.
COMMIT_EVERY = 200
MAX_KEY = 255


def _existing(sheet_import: SheetImport):
    def existing(keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), 2000):
            found.update(
                ImportedKey.objects.filter(
                    connection=sheet_import.connection_id,
                    data_type=sheet_import.data_type,
                    key__in=keys[start : start + 2000],
                ).values_list("key", "record_id")
            )
        return found

    return existing


def _progress(sheet_import: SheetImport):
    def progress(done: int, total: int) -> None:
        SheetImport.objects.filter(pk=sheet_import.pk).update(
            progress_done=done, progress_total=total
        )

    return progress


def import_start(
    *, connection: Any, data_type: str, file_name: str, content: bytes, user: Any = None
) -> SheetImport:
    """Keep the uploaded file and check it (in a worker when it is large).

    A file larger than IMPORT_MAX_FILE_BYTES is refused before anything is kept: FileRefused.
    """
    registry.for_data_type(data_type)  # UnknownPushable for a type nobody declared
    if len(content) > settings.IMPORT_MAX_FILE_BYTES:
        sheet_read(content, file_name=file_name)  # raises the size refusal
    sheet_import = SheetImport.objects.create(
        connection=connection,
        data_type=data_type,
        file_name=file_name[:255],
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=user,
    )
    if len(content) > settings.IMPORT_BACKGROUND_BYTES:
        transaction.on_commit(lambda: queue.enqueue_import_check(sheet_import.pk))
        return sheet_import
    return import_check(sheet_import_id=sheet_import.pk)


def _checked(sheet_import: SheetImport, *, progress: bool = True) -> CheckedSheet:
    sheet = sheet_read(bytes(sheet_import.content), file_name=sheet_import.file_name)
    checked = sheet_check(
        sheet,
        data_type=sheet_import.data_type,
        connection=sheet_import.connection,
        existing=_existing(sheet_import),
        progress=_progress(sheet_import) if progress else None,
    )
    for record in checked.records:
        if len(record.key) > MAX_KEY:
            record.outcome = Outcome.PROBLEM
            record.problems.insert(
                0,
                Problem(
                    record.rows[0],
                    "Key",
                    f"The key has {len(record.key)} characters; at most {MAX_KEY} are kept.",
                    "maxLength",
                ),
            )
    return checked


def _preview(checked: CheckedSheet) -> dict[str, Any]:
    problems: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    records: dict[str, list[Any]] = {}
    for record in checked.records:
        problems.extend(p.as_dict() for p in record.problems)
        notes.extend(p.as_dict() for p in record.notes)
        records[record.key] = [record.outcome, record.existing_id]
    problems.sort(key=lambda p: (p["row"], p["column"]))
    notes.sort(key=lambda p: (p["row"], p["column"]))
    return {
        "counts": checked.counts(),
        "rows": len(checked.row_keys),
        "notes": checked.notes,
        "problem_count": len(problems),
        "problems": problems[:PROBLEMS_KEPT],
        "draft_notes": notes[:PROBLEMS_KEPT],
        "row_keys": checked.row_keys,
        "records": records,
    }


def import_check(*, sheet_import_id: int) -> SheetImport | None:
    """Read and check the import's file; store the preview (or the file's refusal)."""
    sheet_import = (
        SheetImport.objects.select_related("connection").filter(pk=sheet_import_id).first()
    )
    if sheet_import is None:
        return None
    try:
        checked = _checked(sheet_import)
    except FileRefused as exc:
        sheet_import.state = SheetImport.State.REFUSED
        sheet_import.refusal, sheet_import.refusal_rule = exc.message, exc.rule
        sheet_import.finished_at = timezone.now()
    else:
        sheet_import.preview = _preview(checked)
        sheet_import.state = SheetImport.State.CHECKED
        sheet_import.progress_done = sheet_import.progress_total = len(checked.records)
    sheet_import.save(
        update_fields=[
            "state",
            "refusal",
            "refusal_rule",
            "finished_at",
            "preview",
            "progress_done",
            "progress_total",
        ]
    )
    return sheet_import


class NotConfirmable(Exception):
    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


def import_confirm(*, sheet_import: SheetImport, user: Any = None) -> SheetImport:
    """Start writing a checked import; in a worker when the file is large.

    Raises NotConfirmable unless the import is checked and waiting (a second confirm of the
    same import is refused, the write itself would create nothing twice anyway).
    """
    claimed = SheetImport.objects.filter(
        pk=sheet_import.pk, state=SheetImport.State.CHECKED
    ).update(
        state=SheetImport.State.IMPORTING,
        confirmed_at=timezone.now(),
        progress_done=0,
        progress_total=0,
    )
    if not claimed:
        sheet_import.refresh_from_db()
        raise NotConfirmable(
            f"This import is {sheet_import.get_state_display().lower()}; only a checked import "
            "waiting for confirmation can be confirmed.",
            "state",
        )
    if sheet_import.size > settings.IMPORT_BACKGROUND_BYTES:
        transaction.on_commit(lambda: queue.enqueue_import_write(sheet_import.pk))
        sheet_import.refresh_from_db()
        return sheet_import
    return import_write(sheet_import_id=sheet_import.pk, user=user)


def _write_one(sheet_import: SheetImport, record, *, user: Any) -> tuple[str, int | None, list]:
    spec = registry.for_data_type(sheet_import.data_type).spec
    try:
        with transaction.atomic():
            # The key first: a second writer of the same key waits here, then fails.
            key = ImportedKey.objects.create(
                connection=sheet_import.connection,
                data_type=sheet_import.data_type,
                key=record.key,
                record_id=0,
                sheet_import=sheet_import,
            )
            created = record_create(data_type=sheet_import.data_type, data=record.data, user=user)
            ImportedKey.objects.filter(pk=key.pk).update(record_id=created.pk)
    except IntegrityError:
        found = ImportedKey.objects.filter(
            connection=sheet_import.connection, data_type=sheet_import.data_type, key=record.key
        ).first()
        return Outcome.EXISTS, found.record_id if found else None, []
    except RecordInvalid as exc:
        return Outcome.PROBLEM, None, _placed(spec, record, exc.problems)
    return record.outcome, created.pk, []


def _placed(spec, record, problems) -> list[dict[str, Any]]:
    """A refusal's problems at the rows and columns of the record's sheet."""
    return [
        Problem(
            *_place(p.field, spec=spec, first_row=record.rows[0], line_rows=record.rows),
            p.message,
            p.rule,
        ).as_dict()
        for p in problems
    ]


def _write_batch(sheet_import: SheetImport, records: list, *, user: Any) -> None:
    """Write a batch of checked records in a few statements: the records, their lines and
    references, then their keys. Runs in the caller's transaction, which a key written
    meanwhile by another writer aborts (IntegrityError): nothing of the batch is kept then."""
    already = _existing(sheet_import)([r.key for r in records])
    for record in records:
        if record.key in already:
            record.outcome, record.existing_id = Outcome.EXISTS, already[record.key]
    spec = registry.for_data_type(sheet_import.data_type).spec
    writing = []
    for record in records:
        if record.outcome not in (Outcome.READY, Outcome.DRAFT):
            continue
        if problems := record.checked.refused():  # what record_create would refuse
            record.outcome, record.existing_id = Outcome.PROBLEM, None
            record.problems = [Problem(**p) for p in _placed(spec, record, problems)]
            continue
        writing.append(record)
    created = records_create_many(spec=spec, checks=[r.checked for r in writing], user=user)
    ImportedKey.objects.bulk_create(
        [
            ImportedKey(
                connection=sheet_import.connection,
                data_type=sheet_import.data_type,
                key=record.key,
                record_id=stored.pk,
                sheet_import=sheet_import,
            )
            for record, stored in zip(writing, created, strict=True)
        ]
    )
    for record, stored in zip(writing, created, strict=True):
        record.existing_id = stored.pk


def import_write(*, sheet_import_id: int, user: Any = None) -> SheetImport | None:
    """Create every record of a confirmed import that is ready or a draft, each with its key
    in one transaction. Safe to run again: keys already imported are skipped."""
    sheet_import = (
        SheetImport.objects.select_related("connection", "created_by")
        .filter(pk=sheet_import_id)
        .first()
    )
    if sheet_import is None or sheet_import.state != SheetImport.State.IMPORTING:
        return sheet_import
    user = user or sheet_import.created_by
    try:
        checked = _checked(sheet_import, progress=False)
    except FileRefused as exc:  # the file was checked once; only a changed setting gets here
        SheetImport.objects.filter(pk=sheet_import.pk).update(
            state=SheetImport.State.REFUSED, refusal=exc.message, refusal_rule=exc.rule
        )
        sheet_import.refresh_from_db()
        return sheet_import
    total = len(checked.records)
    for start in range(0, total, COMMIT_EVERY):
        batch = [
            record
            for record in checked.records[start : start + COMMIT_EVERY]
            if record.outcome in (Outcome.READY, Outcome.DRAFT)
        ]
        # A batch is written whole in one transaction, keys included: a worker lost mid-batch
        # loses the batch, and the next run writes it again.
        try:
            with transaction.atomic():
                _write_batch(sheet_import, batch, user=user)
        except IntegrityError:
            # Another writer took some of these keys meanwhile: one record at a time, each in
            # its own savepoint, tells which.
            with transaction.atomic():
                for record in batch:
                    if record.outcome not in (Outcome.READY, Outcome.DRAFT):
                        continue
                    outcome, record_id, problems = _write_one(sheet_import, record, user=user)
                    record.outcome, record.existing_id = outcome, record_id
                    if problems:
                        record.problems = [Problem(**p) for p in problems]
        SheetImport.objects.filter(pk=sheet_import.pk).update(
            progress_done=min(total, start + COMMIT_EVERY), progress_total=total
        )
    created = sum(
        1
        for record in checked.records
        if record.outcome in (Outcome.READY, Outcome.DRAFT) and record.existing_id
    )
    preview = _preview(checked)
    preview["created"] = created
    SheetImport.objects.filter(pk=sheet_import.pk).update(
        state=SheetImport.State.DONE, preview=preview, finished_at=timezone.now()
    )
    sheet_import.refresh_from_db()
    logger.info("import %s wrote %s records", sheet_import.pk, created)
    return sheet_import


# --- the result, per row ------------------------------------------------------------------------

RESULT_HEADERS = [
    "Row",
    "Key",
    "Outcome",
    "Record id",
    "Status",
    "Push state",
    "Provider id",
    "Problems",
]
_OUTCOME_WORDS = {
    Outcome.READY: "created, ready",
    Outcome.DRAFT: "created as a draft",
    Outcome.PROBLEM: "not imported: see problems",
    Outcome.EXISTS: "already imported",
}
_PREVIEW_WORDS = {
    Outcome.READY: "will be created, ready",
    Outcome.DRAFT: "will be created as a draft",
    Outcome.PROBLEM: "cannot be imported: see problems",
    Outcome.EXISTS: "already imported: nothing new",
}


def import_created_ids(sheet_import: SheetImport, *, outcome: str | None = None) -> list[int]:
    """The ids of the records this import created (of one outcome, if given)."""
    if sheet_import.state != SheetImport.State.DONE:
        return []
    records = sheet_import.preview.get("records", {})
    return [
        record_id
        for key_outcome, record_id in records.values()
        if record_id
        and key_outcome != Outcome.EXISTS
        and (outcome is None or key_outcome == outcome)
    ]


def import_result_rows(sheet_import: SheetImport) -> Iterator[list[Any]]:
    """One row per row of the file: what became of it (after the write), or what will."""
    preview = sheet_import.preview or {}
    records = preview.get("records", {})
    done = sheet_import.state == SheetImport.State.DONE
    words = _OUTCOME_WORDS if done else _PREVIEW_WORDS
    by_row: dict[int, list[str]] = {}
    for problem in preview.get("problems", []) + preview.get("draft_notes", []):
        where = f"{problem['column']}: " if problem["column"] else ""
        by_row.setdefault(problem["row"], []).append(where + problem["message"])
    ids = [record_id for _, record_id in records.values() if record_id]
    model = registry.for_data_type(sheet_import.data_type).spec.model_class
    stored = {
        record.pk: record
        for start in range(0, len(ids), 2000)
        for record in records_with_push_state(
            model.objects.filter(pk__in=ids[start : start + 2000])
        )
    }
    for row, key in preview.get("row_keys", []):
        outcome, record_id = records.get(key, [Outcome.PROBLEM, None])
        record = stored.get(record_id)
        yield [
            row,
            key,
            words.get(outcome, outcome),
            record_id or "",
            record.status if record else "",
            record_push_state(record).label if record else "",
            record.provider_record_id if record else "",
            " | ".join(by_row.get(row, [])),
        ]
