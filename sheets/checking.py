"""From a read sheet to records checked exactly as the composer checks them.

Rows are grouped into records by the `Key` column (blank: the record's own number or name);
a type with lines takes several rows per record, one per line, and a type without lines one
row per record, a key on a second row being refused there. Each cell is turned into a value
(dates by the business's country, numbers without thousands separators, references matched
set-based by `sheets.matching`), and every record goes through
`pushes.record_checks.record_check`, the one path the composer, the API and the writes share.
Each problem comes back at its row and column, in the composer's words. Nothing is written
here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pushes import registry
from pushes.models import PushableStatus
from pushes.push_options_selectors import push_options_required
from pushes.read_memo import memo_scope
from pushes.record_checks import record_check, unique_read_ahead_new
from pushes.spec import Kind, LineData, RecordData
from sheets.columns import (
    KEY,
    SEPARATOR,
    STATUS,
    Column,
    columns_for,
    header_key,
    natural_key_label,
    ref_model,
)
from sheets.matching import RefMatcher
from sheets.reading import FileRefused, Formula, Sheet
from sheets.values import cell_date, cell_decimal, cell_text, date_order_for

__all__ = ["CheckedRecord", "Outcome", "Problem", "sheet_check"]


class Outcome:
    READY = "ready"
    DRAFT = "draft"
    PROBLEM = "problem"
    EXISTS = "exists"


@dataclass(frozen=True)
class Problem:
    row: int
    column: str  # the header as the file has it; "" for the record as a whole
    message: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "rule": self.rule}


@dataclass
class CheckedRecord:
    key: str
    rows: list[int]
    data: RecordData
    outcome: str = Outcome.READY
    problems: list[Problem] = field(default_factory=list)  # what keeps it from importing
    notes: list[Problem] = field(default_factory=list)  # what a draft still needs
    existing_id: int | None = None
    # The composer's check of `data` (pushes.record_checks.Checked), what the write stores.
    checked: Any = None


# --- which columns the file has ----------------------------------------------------------------


def _columns(sheet: Sheet, data_type: str) -> list[Column | None]:
    """The column of each header, or FileRefused when the sheet is not this type's."""
    by_key = {header_key(c.header): c for c in columns_for(data_type)}
    chosen = registry.for_data_type(data_type).spec
    mapped = [by_key.get(header_key(h)) for h in sheet.headers]
    unknown = [h for h, c in zip(sheet.headers, mapped, strict=True) if h and c is None]
    if unknown:
        best = _best_other_type(sheet, data_type)
        if best is not None:
            raise FileRefused(
                "otherType",
                f"This is a sheet of {best.label_plural.lower()}, not of "
                f"{chosen.label_plural.lower()}: its columns ({', '.join(unknown[:4])}) are "
                f"{best.label_plural.lower()}' columns. Choose {best.label_plural} as the type, "
                f"or use the {chosen.label_plural.lower()} template.",
            )
        raise FileRefused(
            "columns",
            f"Columns {', '.join(repr(h) for h in unknown[:8])} are not columns of "
            f"{chosen.label_plural.lower()}. Use the template's headers: "
            f"{', '.join(c.header for c in columns_for(data_type))}.",
        )
    headers = [header_key(h) for h in sheet.headers if h]
    doubled = {h for h in headers if headers.count(h) > 1}
    if doubled:
        raise FileRefused("columns", f"Column {sorted(doubled)[0]!r} appears twice in the header.")
    return mapped


def _best_other_type(sheet: Sheet, data_type: str) -> Any:
    given = {header_key(h) for h in sheet.headers if h}
    best, best_score = None, 0
    for pushable in registry.pushables():
        if pushable.data_type == data_type:
            continue
        known = {header_key(c.header) for c in columns_for(pushable.data_type)}
        score = len(given & known)
        if given <= known and score > best_score:
            best, best_score = pushable.spec, score
    return best


# --- one record from its rows ---------------------------------------------------------------


# The kinds whose cells name mirrored rows, matched set-based per file.
_MATCHED = (Kind.REF, Kind.LINK, Kind.REFS, Kind.TRACKING)


@dataclass
class _Context:
    spec: Any
    connection: Any
    matcher: RefMatcher
    order: Any
    provider_required: dict[str, str]
    ambiguous_dates: list[Problem] = field(default_factory=list)


def _value(
    column: Column,
    cell: Any,
    *,
    row: int,
    ctx: _Context,
    problems: list[Problem],
    party: Any = None,
) -> Any:
    """The value of one cell; a reference matched within the business, and a payment's
    document (LINK) within `party`'s documents when the record names its party."""
    spec_field = column.field
    if isinstance(cell, Formula):
        problems.append(
            Problem(
                row,
                column.header,
                f"The cell holds a formula ({str(cell)[:40]}), not a value: copy it and paste it "
                "back as a value, then upload again.",
                "formula",
            )
        )
        return None
    kind = spec_field.kind
    if kind is Kind.DATE:
        value, decided = cell_date(cell, order=ctx.order)
        if decided:
            ctx.ambiguous_dates.append(Problem(row, column.header, cell_text(cell), "dateOrder"))
        return value
    if kind is Kind.DECIMAL:
        return cell_decimal(cell)
    text = cell_text(cell).strip() if kind in _MATCHED else cell
    if kind.one_row:
        if not text:
            return None
        return _ref(column, text, row=row, ctx=ctx, problems=problems, party=party)
    if kind in (Kind.REFS, Kind.TRACKING):
        parts = [p.strip() for p in text.split(SEPARATOR) if p.strip()]
        found = [_ref(column, part, row=row, ctx=ctx, problems=problems) for part in parts]
        return [f for f in found if f is not None]
    return cell_text(cell)


def _ref(
    column: Column,
    text: str,
    *,
    row: int,
    ctx: _Context,
    problems: list[Problem],
    party: Any = None,
) -> Any:
    model = ref_model(ctx.spec, column.field, line=column.line)
    matched = ctx.matcher.get(model, text, party=party)
    if matched.row is None:
        problems.append(Problem(row, column.header, matched.message, matched.rule))
    return matched.row


def _differs(first: Any, other: Any) -> bool:
    blank = (None, "", [])
    return other not in blank and first not in blank and other != first


def _build(
    key: str,
    rows: list[tuple[int, dict[Column, Any]]],
    ctx: _Context,
) -> tuple[CheckedRecord, dict[str, Any]]:
    """The record its rows make, not yet checked, and where its problems are to be placed."""
    problems: list[Problem] = []
    first_row, first = rows[0]
    values: dict[str, Any] = {}
    status_text = ""
    for column, cell in first.items():
        if column.field is None:
            if column.header == STATUS:
                status_text = cell_text(cell).strip().lower()
            continue
        if not column.line:
            values[column.field.name] = _value(
                column, cell, row=first_row, ctx=ctx, problems=problems
            )
    if not ctx.spec.has_lines:
        # One row is one record: a second row with the key is another record under a key
        # already taken, not more of the first.
        noun = ctx.spec.label.lower()
        problems.extend(
            Problem(
                number,
                KEY,
                f"Key {key!r} is already on row {first_row}: one row is one {noun}, so each "
                f"{noun} needs a key (or {natural_key_label(ctx.spec).lower() or 'key'}) of its "
                "own.",
                "unique",
            )
            for number, _ in rows[1:]
        )
    # The document's own fields are read from its first row; another row saying otherwise
    # is a mistake, not a second opinion.
    for number, cells in rows[1:] if ctx.spec.has_lines else ():
        for column, cell in cells.items():
            if column.field is None or column.line or cell in (None, ""):
                continue
            if isinstance(cell, Formula) or _differs(cell_text(first.get(column)), cell_text(cell)):
                problems.append(
                    Problem(
                        number,
                        column.header,
                        f"{column.header} differs from row {first_row} of the same key {key!r}: "
                        "a document's own fields are read from its first row; leave them blank "
                        "or the same on its other rows.",
                        "sameDocument",
                    )
                )
    lines = []
    line_rows = []
    party = values.get(ctx.spec.party) if ctx.spec.party else None
    for number, cells in rows:
        line_values = {
            c.field.name: _value(c, cell, row=number, ctx=ctx, problems=problems, party=party)
            for c, cell in cells.items()
            if c.line
        }
        if any(v not in (None, "", []) for v in line_values.values()):
            lines.append(LineData(**line_values))
            line_rows.append(number)
    if status_text not in ("", PushableStatus.READY, PushableStatus.DRAFT):
        problems.append(
            Problem(
                first_row,
                STATUS,
                f"Status must be ready, draft or blank; got {status_text[:20]!r}.",
                "enum",
            )
        )
    if ctx.spec.has_lines:
        values["lines"] = lines
    data = RecordData(connection=ctx.connection, status=PushableStatus.READY, **values)
    record = CheckedRecord(key=key, rows=[n for n, _ in rows], data=data, problems=problems)
    return record, {"status_text": status_text, "first_row": first_row, "line_rows": line_rows}


_LINE_PATH = re.compile(r"lines\[(\d+)\](?:\.(\w+))?")


def _place(path: str, *, spec, first_row: int, line_rows: list[int]) -> tuple[int, str]:
    """The (row, column) of a checked record's problem at `path` in the Railz body."""
    if match := _LINE_PATH.match(path):
        index, attribute = int(match.group(1)), match.group(2)
        row = line_rows[index] if index < len(line_rows) else first_row
        spec_field = spec.field_at(attribute, line=True) if attribute else None
        return row, f"Line {spec_field.label}" if spec_field else ""
    # A field inside an object of the body (billingAddress.city) by its whole path, else the
    # field the path starts with (subsidiaryRefs[0]).
    whole = re.sub(r"\[\d+\]", "", path)
    spec_field = spec.field_at(whole) or spec.field_at(whole.split(".")[0])
    return first_row, spec_field.label if spec_field else ""


def _check(
    record: CheckedRecord, ctx: _Context, *, status_text: str, first_row: int, line_rows: list[int]
) -> None:
    spec = ctx.spec
    checked = record_check(spec, record.data, record=None, provider_required=ctx.provider_required)
    record.checked = checked

    def placed(problem) -> Problem:
        row, column = _place(problem.field, spec=spec, first_row=first_row, line_rows=line_rows)
        return Problem(row, column, problem.message, problem.rule)

    # A cell the import could not read is already named at its cell: its value went in blank.
    cells_named = {(p.row, p.column) for p in record.problems}
    hard = [placed(p) for p in checked.hard]
    record.problems.extend(p for p in hard if (p.row, p.column) not in cells_named)
    readiness = [placed(p) for p in checked.all() if p not in checked.hard]
    readiness = [p for p in readiness if (p.row, p.column) not in cells_named]
    if record.problems:
        record.outcome = Outcome.PROBLEM
    elif readiness and status_text == PushableStatus.READY:
        record.problems.extend(readiness)
        record.outcome = Outcome.PROBLEM
    elif readiness or status_text == PushableStatus.DRAFT:
        record.notes.extend(readiness)
        record.outcome = Outcome.DRAFT
        record.data.status = checked.values["status"] = PushableStatus.DRAFT
    else:
        record.outcome = Outcome.READY


# --- the whole sheet -------------------------------------------------------------------------


@dataclass
class CheckedSheet:
    records: list[CheckedRecord]
    row_keys: list[tuple[int, str]]  # every row and the key of its record
    notes: list[str]
    queries_matching: int = 0

    def counts(self) -> dict[str, int]:
        counts = {o: 0 for o in (Outcome.READY, Outcome.DRAFT, Outcome.PROBLEM, Outcome.EXISTS)}
        for record in self.records:
            counts[record.outcome] += 1
        return counts


def sheet_check(
    sheet: Sheet,
    *,
    data_type: str,
    connection: Any,
    existing: Callable[[list[str]], dict[str, int]],
    progress: Callable[[int, int], None] | None = None,
) -> CheckedSheet:
    """Every record of `sheet` checked as the composer would, none of them written.

    `existing(keys)` answers {key: record id} for the keys already imported, which are not
    checked again (outcome "exists"). Raises FileRefused when the sheet is not this type's.
    """
    spec = registry.for_data_type(data_type).spec
    columns = _columns(sheet, data_type)
    key_index = next((i for i, c in enumerate(columns) if c is not None and c.header == KEY), None)
    number_index = next(
        (
            i
            for i, c in enumerate(columns)
            if c is not None and c.field is not None and not c.line and c.field.name == spec.number
        ),
        None,
    )
    natural = natural_key_label(spec)
    if key_index is None and number_index is None:
        raise FileRefused(
            "columns",
            f"The sheet needs a {KEY} column"
            + (f" (or a {natural} column)" if natural else "")
            + " to tell its records apart.",
        )
    groups: dict[str, list[tuple[int, dict[Column, Any]]]] = {}
    row_keys: list[tuple[int, str]] = []
    keyless: list[int] = []
    # The provider's kept rules are the same for every new record of the file: read once.
    required = push_options_required(connection=connection, data_type=data_type)
    ctx = _Context(spec, connection, RefMatcher(connection), date_order_for(connection), required)
    # Which columns name mirrored rows, and of which model: worked out once, not per row.
    matched = [
        (index, ref_model(spec, c.field, line=c.line), c.field.kind.one_row)
        for index, c in enumerate(columns)
        if c is not None and c.field is not None and c.field.kind in _MATCHED
    ]
    used = [(index, c) for index, c in enumerate(columns) if c is not None]
    for number, cells in sheet.rows:
        cells = cells + [None] * (len(columns) - len(cells))
        key = cell_text(cells[key_index]).strip() if key_index is not None else ""
        if not key and number_index is not None:
            key = cell_text(cells[number_index]).strip()
        if not key:
            keyless.append(number)
            continue
        row = {c: cells[index] for index, c in used}
        for index, model, one_row in matched:
            value = cells[index]
            if value is None or isinstance(value, Formula):
                continue
            text = cell_text(value).strip()
            for part in [text] if one_row else text.split(SEPARATOR):
                if part := part.strip():
                    ctx.matcher.want(model, part)
        groups.setdefault(key, []).append((number, row))
        row_keys.append((number, key))
    already = existing(list(groups))
    ctx.matcher.resolve()
    records: list[CheckedRecord] = []
    built: list[tuple[CheckedRecord, dict[str, Any]]] = []
    for key, rows in groups.items():
        if key in already:
            records.append(
                CheckedRecord(
                    key,
                    [n for n, _ in rows],
                    RecordData(connection=connection),
                    outcome=Outcome.EXISTS,
                    existing_id=already[key],
                )
            )
        else:
            record, where = _build(key, rows, ctx)
            records.append(record)
            built.append((record, where))
    total = len(records)
    with memo_scope():
        # The numbers of the whole file looked up together, not one query a record.
        unique_read_ahead_new(spec, [record.data for record, _ in built])
        done = total - len(built)
        for record, where in built:
            _check(record, ctx, **where)
            done += 1
            if progress is not None and (done % 100 == 0 or done == total):
                progress(done, total)
    if progress is not None and not built:
        progress(total, total)
    _unique_within_file(records, spec)
    for number in keyless:
        records.append(
            CheckedRecord(
                "",
                [number],
                RecordData(connection=connection),
                outcome=Outcome.PROBLEM,
                problems=[
                    Problem(
                        number,
                        KEY,
                        f"The row has no {KEY}"
                        + (f" and no {natural.lower()}" if natural else "")
                        + ": it belongs to no record.",
                        "required",
                    )
                ],
            )
        )
        row_keys.append((number, ""))
    notes = list(sheet.notes)
    if ctx.ambiguous_dates:
        first = ctx.ambiguous_dates[0]
        order = ctx.order
        notes.append(
            f"{len(ctx.ambiguous_dates)} date(s) could be read day first or month first (the "
            f"first: {first.message!r} in row {first.row}, {first.column}). They were read "
            f"{'month' if order.month_first else 'day'} first, because {order.why}: "
            f"{order.example}. Write dates as YYYY-MM-DD to leave no doubt."
        )
    return CheckedSheet(records, sorted(row_keys), notes, ctx.matcher.queries)


def _unique_within_file(records: list[CheckedRecord], spec) -> None:
    """A number twice in one file would be two records with one number: the second is refused."""
    for spec_field in spec.fields:
        if spec_field.unique_within is None:
            continue
        seen: dict[tuple, CheckedRecord] = {}
        for record in records:
            if record.outcome in (Outcome.EXISTS, Outcome.PROBLEM):
                continue
            value = getattr(record.data, spec_field.name)
            scope = tuple(
                getattr(getattr(record.data, name), "pk", None) for name in spec_field.unique_within
            )
            if not value:
                continue
            other = seen.setdefault((*scope, str(value).strip()), record)
            if other is not record:
                record.outcome = Outcome.PROBLEM
                record.problems.append(
                    Problem(
                        record.rows[0],
                        spec_field.label,
                        f"{spec_field.label} {value} is also used by key {other.key!r} (row "
                        f"{other.rows[0]}) of this file; the accounting system would hold two "
                        f"{spec.label_plural} with one number.",
                        "unique",
                    )
                )
