"""Writing any declared record: the admin, the REST API and the tests come here.

A write stores only what `pushes.record_checks` checked: a draft is refused only for what must
never be stored, a ready record for every problem, each at its field. The record, its lines and
their references are written together or not at all, in a fixed number of statements.
`record_validate` and `record_save_problems` (reads) are named here too, beside the writes
whose refusals they foretell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from pushes import registry
from pushes.payloads import payload_hash, record_build_new_payload, record_build_payload
from pushes.record_checks import (
    Checked,
    record_check,
    record_notes,
    record_save_problems,
    record_validate,
)
from pushes.services.approvals import approvals_void_if_changed
from pushes.spec import FieldProblem, Kind, RecordData

__all__ = [
    "RecordInvalid",
    "record_create",
    "record_notes",
    "record_save_problems",
    "record_update",
    "record_validate",
    "records_create_many",
]


class RecordInvalid(Exception):
    """The record was not written: every problem, each at its field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems)
        self.problems = list(problems)

    def __str__(self) -> str:
        return " ".join(problem.message for problem in self.problems)


# --- writing ------------------------------------------------------------------------------------


def _write(record: Any, checked: Checked, *, user: Any) -> Any:
    spec = checked.spec
    values = dict(checked.values)
    many = {f.name: values.pop(f.name) for f in spec.fields if f.kind in (Kind.REFS, Kind.TRACKING)}
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_by = user
    record.save()
    for name, rows in many.items():
        getattr(record, name).set(rows)

    if spec.has_lines:
        _write_lines(record, checked.lines, spec=spec)

    model = spec.model_class
    fresh = model.objects.select_related(*spec.related).get(pk=record.pk)
    fresh.payload_hash = payload_hash(record_build_payload(fresh))
    model.objects.filter(pk=fresh.pk).update(payload_hash=fresh.payload_hash)
    # Callers read the lines afresh, not the copy the payload was built from.
    fresh._prefetched_objects_cache = {}
    return fresh


WRITE_BATCH = 500


def _write_lines(record: Any, lines: list[dict[str, Any]], *, spec: Any) -> None:
    """Write the checked lines in a fixed number of statements per batch, not per line.

    A line with an `id` is changed in place, the others added, the record's other lines
    removed; each line's many-valued references (tracking) become exactly the ones given. A
    record at the line cap is written in a few dozen statements, not thousands.
    """
    line_model = spec.line_model_class
    line_many = [f.name for f in spec.line_fields if f.kind in (Kind.REFS, Kind.TRACKING)]
    existing = {line.pk: line for line in record.lines.all()}
    added: list[Any] = []
    kept: list[Any] = []
    related: list[tuple[Any, dict[str, list[Any]]]] = []
    columns: set[str] = set()
    for line_values in lines:
        line_values = dict(line_values)
        line_id = line_values.pop("id")
        many = {name: line_values.pop(name) for name in line_many}
        line = existing.get(line_id) if line_id is not None else None
        if line_id is not None and line is None:
            position = line_values["position"]
            raise RecordInvalid(
                [
                    FieldProblem(
                        f"lines[{position}]",
                        f"Line {position + 1} is not a line of this {spec.label.lower()}.",
                        "exists",
                    )
                ]
            )
        if line is None:
            line = line_model(**{spec.line_parent: record})
            added.append(line)
        else:
            kept.append(line)
        for name, value in line_values.items():
            setattr(line, name, value)
        columns.update(line_values)
        related.append((line, many))

    kept_ids = [line.pk for line in kept]
    record.lines.exclude(pk__in=kept_ids).delete()
    if kept and columns:
        line_model.objects.bulk_update(kept, sorted(columns), batch_size=WRITE_BATCH)
    line_model.objects.bulk_create(added, batch_size=WRITE_BATCH)

    for name in line_many:
        m2m = line_model._meta.get_field(name)
        through = m2m.remote_field.through
        source, target = f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
        current = {
            (line_id, target_id): pk
            for pk, line_id, target_id in through.objects.filter(
                **{f"{source}__in": kept_ids}
            ).values_list("pk", source, target)
        }
        wanted = {(line.pk, row.pk) for line, many in related for row in many[name]}
        stale = [pk for pair, pk in current.items() if pair not in wanted]
        if stale:
            through.objects.filter(pk__in=stale).delete()
        through.objects.bulk_create(
            [
                through(**{source: line_id, target: target_id})
                for line_id, target_id in sorted(wanted)
                if (line_id, target_id) not in current
            ],
            batch_size=WRITE_BATCH,
        )


def record_create(*, data_type: str, data: RecordData, user: Any = None) -> Any:
    """Store a new record and its lines together, or nothing.

    A draft is refused only for what must never be stored; a ready record for every problem
    `record_validate` finds. Raises RecordInvalid with the problems.
    """
    spec = registry.for_data_type(data_type).spec
    checked = record_check(spec, data, record=None)
    problems = checked.refused()
    if problems:
        raise RecordInvalid(problems)
    with transaction.atomic():
        record = spec.model_class(connection=data.connection, created_by=user)
        return _write(record, checked, user=user)


def _through_rows(owners: list[tuple[Any, dict[str, list[Any]]]], model: Any, names: list[str]):
    """The rows of each many-to-many table for `owners` (a saved row, its rows by field)."""
    for name in names:
        m2m = model._meta.get_field(name)
        through = m2m.remote_field.through
        source, target = f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
        rows = [
            through(**{source: owner.pk, target: target_id})
            for owner, many in owners
            for target_id in sorted({row.pk for row in many[name]})
        ]
        yield through, rows


def records_create_many(*, spec: Any, checks: Sequence[Checked], user: Any = None) -> list[Any]:
    """Store many new records of one type, each as `record_create` would, in a fixed number of
    statements per batch of WRITE_BATCH records rather than a score per record.

    `checks` are `record_check` answers for new records (record=None), with the status each is
    to be stored in; a record any check refuses is not written: RecordInvalid with its
    problems, nothing of the batch written. Runs in one transaction: every record whole with
    its lines and references, or none of them. Answers the stored records in the order given,
    each with the `payload_hash` of its body.
    """
    for checked in checks:
        problems = checked.refused()
        if problems:
            raise RecordInvalid(problems)
    model = spec.model_class
    record_many = [f.name for f in spec.fields if f.kind in (Kind.REFS, Kind.TRACKING)]
    line_many = [f.name for f in spec.line_fields if f.kind in (Kind.REFS, Kind.TRACKING)]
    records: list[tuple[Any, dict[str, list[Any]]]] = []
    lines: list[tuple[Any, list[tuple[Any, dict[str, list[Any]]]]]] = []
    for checked in checks:
        values = dict(checked.values)
        many = {name: list(values.pop(name) or ()) for name in record_many}
        record = model(connection=checked.connection, created_by=user, updated_by=user, **values)
        records.append((record, many))
        own = []
        for line_values in checked.lines if spec.has_lines else ():
            line_values = dict(line_values)
            if line_values.pop("id") is not None:
                raise ValueError("a new record's lines are new: no line id")
            line_many_values = {name: list(line_values.pop(name) or ()) for name in line_many}
            own.append((spec.line_model_class(**line_values), line_many_values))
        lines.append((record, own))
        # Hashed before it is inserted, from what is inserted: no update afterwards.
        record.payload_hash = payload_hash(record_build_new_payload(record, many=many, lines=own))
    with transaction.atomic():
        model.objects.bulk_create([r for r, _ in records], batch_size=WRITE_BATCH)
        for through, rows in _through_rows(records, model, record_many):
            through.objects.bulk_create(rows, batch_size=WRITE_BATCH)
        all_lines = []
        for record, own in lines:
            for line, _ in own:
                setattr(line, spec.line_parent, record)
                all_lines.append(line)
        if spec.has_lines:
            line_model = spec.line_model_class
            line_model.objects.bulk_create(all_lines, batch_size=WRITE_BATCH)
            flat = [pair for _, own in lines for pair in own]
            for through, rows in _through_rows(flat, line_model, line_many):
                through.objects.bulk_create(rows, batch_size=WRITE_BATCH)
    return [record for record, _ in records]


def record_update(*, record: Any, data: RecordData, user: Any = None) -> Any:
    """Replace a record's fields and lines with `data`, together or not at all.

    Lines carrying the `id` of one of the record's lines are changed in place, the others
    added; the record's lines missing from `data` are removed. Same rules as `record_create`;
    raises RecordInvalid.
    """
    spec = registry.for_model(record).spec
    with transaction.atomic():
        # Two people saving the same record at once: the second waits and checks afresh.
        locked = spec.model_class.objects.select_for_update().get(pk=record.pk)
        checked = record_check(spec, data, record=locked)
        problems = checked.refused()
        if problems:
            raise RecordInvalid(problems)
        written = _write(locked, checked, user=user)
        # A change voids the approval given (or asked) for what it sent before.
        approvals_void_if_changed(record=written, user=user)
        return written
