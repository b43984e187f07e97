"""Checking any declared record: a read the push plans, the forms, the API and the writes share.

Every rule is found by `record_validate`, which answers with `FieldProblem`s whose `field` is
the path in the Railz body (`invoiceNumber`, `lines[2].accountRef`) and whose `rule` is a code.
The checks are read from the type's declaration (`pushes.spec`): each field's kind, what a
ready record needs, lengths and enums from the Railz schema, then the type's named rules and
the provider's cached `pushOptions`. A draft may be incomplete, so saving a draft refuses only
what must never be stored (a reference from another connection, a value longer or more precise
than Railz or the database can hold); saving a ready record refuses every problem, so only a
ready record can be pushed.

Checking writes nothing and never calls Railz, so it sits with the reads: a push plan asks it
whether a record is ready, and the write services (`pushes.services.records`) store what it
checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from pushes import registry
from pushes.lines import lines_cap_problem
from pushes.models import CURRENCY_MINOR_UNITS, PushableStatus
from pushes.payloads import record_build_payload
from pushes.push_options_selectors import push_operation_for, push_options_required
from pushes.read_memo import memo_put, memoized
from pushes.spec import DocumentSpec, Field, FieldProblem, Kind, LineData, RecordData
from railzpush.railz.datatypes import PROVIDER_LABELS, Op, validate_request
from refs.models import Connection

__all__ = [
    "SERVICE_LABELS",
    "Checked",
    "record_check",
    "record_notes",
    "record_save_problems",
    "record_validate",
    "unique_read_ahead",
    "unique_read_ahead_new",
]

SERVICE_LABELS = PROVIDER_LABELS


@dataclass
class Checked:
    """The data turned into stored types, and every problem found on the way.

    Rule functions read `data` (as given) and `values` (as checked) and add problems with
    `refuse` (never stored) or `need` (keeps the record from being ready).
    """

    spec: DocumentSpec
    data: RecordData
    record: Any = None
    values: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    hard: list[FieldProblem] = field(default_factory=list)
    readiness: list[FieldProblem] = field(default_factory=list)
    # What a person should know before pushing, though nothing keeps the push from going
    # (a customer that may already exist): shown beside the problems, never one of them.
    notes: list[FieldProblem] = field(default_factory=list)

    @property
    def connection(self) -> Connection:
        return self.data.connection

    @property
    def provider(self) -> str:
        service = self.connection.service_name
        return SERVICE_LABELS.get(service, service)

    def refuse(self, path: str, rule: str, message: str) -> None:
        self.hard.append(FieldProblem(path, message, rule))

    def need(self, path: str, rule: str, message: str) -> None:
        self.readiness.append(FieldProblem(path, message, rule))

    def note(self, path: str, rule: str, message: str) -> None:
        self.notes.append(FieldProblem(path, message, rule))

    def all(self) -> list[FieldProblem]:
        seen: set[str] = set()
        problems = []
        for problem in self.hard + self.readiness:
            # One message per field: the first is the one to fix first.
            if problem.field not in seen:
                seen.add(problem.field)
                problems.append(problem)
        return problems

    def refused(self) -> list[FieldProblem]:
        if self.values.get("status") == PushableStatus.READY:
            return self.all()
        return [problem for problem in self.all() if problem in self.hard]


# --- one value of each kind ---------------------------------------------------------------------


def _decimal(value: Any, *, path: str, label: str, column, checked: Checked) -> Decimal | None:
    if value is None or value == "":
        return None
    max_digits, places = column.max_digits, column.decimal_places
    if isinstance(value, float | bool):
        # A float has already lost the cents it was meant to carry.
        checked.refuse(path, "type", f"{label} must be given as a decimal, not {value!r}.")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        checked.refuse(path, "type", f"{label} must be a number; got {str(value)[:40]!r}.")
        return None
    if not number.is_finite():
        checked.refuse(path, "type", f"{label} must be a finite number.")
        return None
    bound, quantum = _decimal_limits(max_digits, places)
    if abs(number) >= bound:
        checked.refuse(
            path,
            "max",
            f"{label} is too large: at most {max_digits - places} digits before the decimal point.",
        )
        return None
    # 12.5000000 is 12.5: only significant places count.
    if max(0, -int(number.normalize().as_tuple().exponent)) > places:
        checked.refuse(
            path, "maxDecimalPlaces", f"{label} can have at most {places} decimal places."
        )
        return None
    return number.quantize(quantum)


@cache
def _decimal_limits(max_digits: int, places: int) -> tuple[Decimal, Decimal]:
    """The first number too large for a column, and the step of its last decimal place."""
    return Decimal(10) ** (max_digits - places), Decimal(1).scaleb(-places)


def _date(value: Any, *, path: str, label: str, checked: Checked) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        checked.refuse(
            path, "format", f"{label} must be a date formatted as YYYY-MM-DD; got {text[:40]!r}."
        )
        return None


def _text(value: Any, *, path: str, label: str, max_length: int | None, checked: Checked) -> str:
    text = "" if value is None else str(value)
    if max_length is not None and len(text) > max_length:
        checked.refuse(
            path,
            "maxLength",
            f"{label} must be at most {max_length} characters; it has {len(text)}.",
        )
    return text


def _ref(record: Any, *, path: str, label: str, checked: Checked) -> None:
    if record is None:
        return
    connection = checked.connection
    if record.connection_id != connection.pk:
        checked.refuse(
            path,
            "sameConnection",
            f"{label} {record} belongs to another connection ({record.connection}); choose one "
            f"of {connection}.",
        )
    elif record.is_archived:
        checked.need(
            path,
            "notArchived",
            f"{label} {record} is archived in the accounting system; choose another.",
        )


def _blank(value: Any) -> bool:
    return value in (None, "", [], ())


def _check_field(
    spec_field: Field, given: Any, *, at: str, prefix: str, line: bool, checked: Checked
) -> Any:
    """Check one field's given value; answer it as stored (None, "" or [] when missing)."""
    spec = checked.spec
    path = f"{at}{spec_field.path}"
    label = f"{prefix}{spec_field.label}"
    kind = spec_field.kind
    value: Any
    if kind is Kind.TEXT:
        value = _text(
            given,
            path=path,
            label=label,
            max_length=spec.max_length(spec_field, line=line)
            or spec.column(spec_field, line=line).max_length,
            checked=checked,
        )
        if spec_field.strip:
            value = value.strip()
    elif kind is Kind.DATE:
        value = _date(given, path=path, label=label, checked=checked)
    elif kind is Kind.DECIMAL:
        value = _decimal(
            given,
            path=path,
            label=label,
            column=spec.column(spec_field, line=line),
            checked=checked,
        )
        if spec_field.positive and value is not None and value <= 0:
            checked.need(path, "min", f"{label} must be greater than 0.")
    elif kind is Kind.CURRENCY:
        value = _currency(given, path=path, label=label, checked=checked)
    elif kind is Kind.CHOICE:
        value = "" if given is None else str(given)
        choices = spec.choices(spec_field, line=line)
        if value and value not in choices:
            checked.refuse(
                path, "enum", f"{label} must be one of {', '.join(choices)}; got {value[:40]!r}."
            )
    elif kind.one_row:
        value = given
        _ref(value, path=path, label=label, checked=checked)
    else:  # REFS, TRACKING
        # The label names one row ("Subsidiary", "tracking option").
        value = list(given or ())
        for index, row in enumerate(value):
            _ref(row, path=f"{path}[{index}]", label=label, checked=checked)
    if spec_field.ready and _blank(given if kind is not Kind.CURRENCY else value):
        message = spec_field.required_message or f"{label} is required."
        checked.need(path, "required", message)
    return value


def _currency(given: Any, *, path: str, label: str, checked: Checked) -> str:
    currency = (given or "").strip().upper()
    party = getattr(checked.data, checked.spec.party) if checked.spec.party else None
    if not currency and party is not None and party.connection_id == checked.connection.pk:
        # A document is usually in its party's currency; a blank field means "the usual".
        currency = (party.currency or "").strip().upper()
    if currency:
        if len(currency) != 3 or not currency.isalpha():
            checked.refuse(
                path,
                "format",
                f"{label} must be a three-letter ISO 4217 code such as CAD; got {currency[:20]!r}.",
            )
        elif currency not in CURRENCY_MINOR_UNITS:
            checked.need(path, "enum", f"{currency} is not an ISO 4217 currency code.")
    return currency


def _unique(spec_field: Field, value: str, *, checked: Checked) -> None:
    """A number used twice within its scope would be two records with one number there."""
    if not value or spec_field.unique_within is None:
        return
    if any(p.field == spec_field.path for p in checked.hard):
        return
    scope = {name: checked.values.get(name) for name in spec_field.unique_within}
    if any(v is None for v in scope.values()):
        return
    spec = checked.spec
    record_pk = checked.record.pk if checked.record is not None else None

    def first_other() -> Any:
        duplicates = spec.model_class.objects.filter(
            connection=checked.connection, **scope, **{spec_field.name: value}
        )
        if record_pk:
            duplicates = duplicates.exclude(pk=record_pk)
        return duplicates.values_list("pk", flat=True).first()

    key = _unique_key(spec, spec_field, checked.connection.pk, value, scope.values(), record_pk)
    other = memoized(key, first_other)
    if other is not None:
        within = " and ".join(f"this {name}" for name in (*spec_field.unique_within, "connection"))
        checked.need(
            spec_field.path,
            "unique",
            f"{spec_field.label} {value} is already used by {spec.label.lower()} #{other} of "
            f"{within}; the accounting system would hold two {spec.label_plural} with one number.",
        )


def _unique_key(
    spec: DocumentSpec, spec_field: Field, connection_id: Any, value: Any, scope, record_pk: Any
) -> tuple:
    scope_ids = tuple(getattr(v, "pk", v) for v in scope)
    return ("unique", spec.data_type, spec_field.name, connection_id, value, scope_ids, record_pk)


def unique_read_ahead(spec: DocumentSpec, records: Sequence[Any]) -> None:
    """Answer the number-used-twice checks of many stored records with one query per field
    (inside a `memo_scope`; a record whose checked value differs is asked on its own)."""
    model = spec.model_class
    for spec_field in spec.fields:
        if spec_field.unique_within is None:
            continue
        scope_columns = [model._meta.get_field(n).attname for n in spec_field.unique_within]

        def stored(record: Any, spec_field: Field = spec_field) -> Any:
            value = getattr(record, spec_field.name)
            return value.strip() if isinstance(value, str) and spec_field.strip else value

        values = {stored(r) for r in records if r.pk} - {None, ""}
        if not values:
            continue
        users: dict[tuple, list[Any]] = {}
        rows = model._default_manager.filter(
            connection_id__in={r.connection_id for r in records},
            **{f"{spec_field.name}__in": values},
        ).values_list("pk", "connection_id", spec_field.name, *scope_columns)
        for pk, connection_id, value, *scope in rows.order_by("pk"):
            users.setdefault((connection_id, value, tuple(scope)), []).append(pk)
        for record in records:
            if not record.pk or stored(record) in (None, ""):
                continue
            scope = tuple(getattr(record, c) for c in scope_columns)
            value = stored(record)
            others = users.get((record.connection_id, value, scope), [])
            memo_put(
                _unique_key(spec, spec_field, record.connection_id, value, scope, record.pk),
                next((pk for pk in others if pk != record.pk), None),
            )


def unique_read_ahead_new(spec: DocumentSpec, records: Sequence[RecordData]) -> None:
    """Answer the number-used-twice checks of many new records (an import's) with one query
    per field and batch of values, inside a `memo_scope`. A value read differently by the check
    (one it refuses first) is not answered here and is asked on its own, as without this."""
    model = spec.model_class
    for spec_field in spec.fields:
        if spec_field.unique_within is None:
            continue
        scope_columns = [model._meta.get_field(n).attname for n in spec_field.unique_within]
        wanted: dict[Any, set[tuple]] = {}
        for data in records:
            given = getattr(data, spec_field.name)
            value = "" if given is None else str(given)
            value = value.strip() if spec_field.strip else value
            scope = [getattr(data, name) for name in spec_field.unique_within]
            if value and None not in scope:
                key = (data.connection.pk, tuple(getattr(v, "pk", v) for v in scope))
                wanted.setdefault(value, set()).add(key)
        values = sorted(wanted)
        users: dict[tuple, Any] = {}
        connections = {key[0] for keys in wanted.values() for key in keys}
        for start in range(0, len(values), UNIQUE_BATCH):
            # The model's own order, as the check's `.first()` reads it.
            rows = model._default_manager.filter(
                connection_id__in=connections,
                **{f"{spec_field.name}__in": values[start : start + UNIQUE_BATCH]},
            ).values_list("pk", "connection_id", spec_field.name, *scope_columns)
            for pk, connection_id, value, *scope in rows:
                users.setdefault((connection_id, value, tuple(scope)), pk)
        for value, keys in wanted.items():
            for connection_id, scope_ids in keys:
                memo_put(
                    _unique_key(spec, spec_field, connection_id, value, scope_ids, None),
                    users.get((connection_id, value, scope_ids)),
                )


UNIQUE_BATCH = 2000


# --- the whole record ---------------------------------------------------------------------------


def record_check(
    spec: DocumentSpec,
    data: RecordData,
    *,
    record: Any,
    provider_required: dict[str, str] | None = None,
) -> Checked:
    """Every check of `data` as `record` (None: a new record) against the declaration `spec`;
    the writes store `checked.values` and `checked.lines` when nothing is refused.

    `provider_required` is what `push_options_required` answers for the record's connection,
    type and operation, when the caller has already read it for many records of one
    connection (an import); None reads it.
    """
    checked = Checked(spec=spec, data=data, record=record)
    connection = data.connection
    if record is not None and record.connection_id != connection.pk:
        checked.refuse(
            "connectionUuid",
            "sameConnection",
            f"{spec.a_label} stays with the connection it was composed for; create a new "
            f"{spec.label.lower()} for another connection.",
        )
    # A connection Railz reports disconnected or expired pauses: its records still queue.
    if not connection.can_queue:
        checked.need(
            "connectionUuid",
            "activeConnection",
            f"The connection {connection} is {connection.status}: {spec.label_plural} can only be "
            "pushed through an active connection.",
        )
    if data.status not in PushableStatus.values:
        checked.refuse("status", "enum", f"Status must be draft or ready; got {data.status!r}.")
    checked.values["status"] = data.status

    for spec_field in spec.fields:
        checked.values[spec_field.name] = _check_field(
            spec_field,
            getattr(data, spec_field.name),
            at="",
            prefix="",
            line=False,
            checked=checked,
        )
    for spec_field in spec.fields:
        _unique(spec_field, checked.values[spec_field.name], checked=checked)
    for rule in spec.rules:
        rule(checked)
    if spec.has_lines:
        _check_lines(checked)
    _provider_required(checked, required=provider_required)
    return checked


def _check_lines(checked: Checked) -> None:
    spec = checked.spec
    lines = list(checked.data.lines)
    if not lines:
        checked.need("lines", "minItems", "Add at least one line.")
    cap = lines_cap_problem(len(lines), record=spec.a_label, cap=spec.max_lines)
    if cap is not None:
        # Refused as a whole: checking thousands of lines one by one first would only be slow.
        checked.refuse(cap.field, cap.rule, cap.message)
        return
    for index, line in enumerate(lines):
        checked.lines.append(_check_line(line, index=index, checked=checked))
    for index, values in enumerate(checked.lines):
        for rule in spec.line_rules:
            rule(checked, values, index)
    for rule in spec.lines_rules:
        rule(checked)


def _check_line(line: LineData, *, index: int, checked: Checked) -> dict[str, Any]:
    values: dict[str, Any] = {"id": line.id, "position": index}
    for spec_field in checked.spec.line_fields:
        values[spec_field.name] = _check_field(
            spec_field,
            getattr(line, spec_field.name),
            at=f"lines[{index}].",
            prefix=f"Line {index + 1}: ",
            line=True,
            checked=checked,
        )
    return values


def _provider_required(checked: Checked, *, required: dict[str, str] | None = None) -> None:
    """What the connection's cached pushOptions mark required, at its field."""
    spec, data, record = checked.spec, checked.data, checked.record
    if required is None:
        required = push_options_required(
            connection=data.connection,
            data_type=spec.data_type,
            operation=push_operation_for(record),
        )
    for path, description in required.items():
        reason = f" ({description})" if description else ""
        head, _, rest = path.partition(".")
        if head == "lines" and rest:
            spec_field = spec.field_at(rest, line=True)
            if spec_field is None:
                continue
            for index, line in enumerate(data.lines):
                if _blank(getattr(line, spec_field.name)):
                    checked.need(
                        f"lines[{index}].{rest}",
                        "required",
                        f"Line {index + 1}: {rest} is required by {checked.provider}{reason}.",
                    )
        elif not rest:
            spec_field = spec.field_at(head)
            if head == "lines":
                given = list(data.lines)
            elif spec_field is not None:
                given = getattr(data, spec_field.name)
            else:
                continue
            if _blank(given if not isinstance(given, list | tuple) else list(given)):
                checked.need(head, "required", f"{head} is required by {checked.provider}{reason}.")


def _spec_of(data_type: str) -> DocumentSpec:
    return registry.for_data_type(data_type).spec


def record_validate(
    *, data_type: str | None = None, record: Any = None, data: RecordData | None = None
) -> list[FieldProblem]:
    """Every reason the record cannot be pushed; [] means it is ready.

    Give `record` to check a stored record, `data` (and `data_type`) to check one before it is
    saved, or both to check changes to `record` (it is then not its own duplicate). Reads the
    cached pushOptions; never calls Railz.
    """
    if record is None and data is None:
        raise TypeError("record_validate needs a record or its data")
    spec = registry.for_model(record).spec if record is not None else _spec_of(data_type)
    if data is not None:
        return record_check(spec, data, record=record).all()
    problems = record_check(spec, RecordData.from_record(record, spec=spec), record=record).all()
    return problems or _schema_problems(spec, record)


def _schema_problems(spec: DocumentSpec, record: Any) -> list[FieldProblem]:
    """What the body the stored record builds breaks of its Railz operation's schema.

    The declaration and the checks above should make this impossible: a problem here is our
    bug, shown at its field (rule `schema`) so that the body is never sent.
    """
    operations = spec.railz.operations
    op = Op.UPDATE if record.provider_record_id and Op.UPDATE in operations else Op.CREATE
    body = {"connectionUuid": record.connection.connection_uuid}
    body["data"] = record_build_payload(record, op)
    return [
        FieldProblem(
            problem.path.removeprefix("data."),
            f"{spec.a_label} would be sent in a shape Railz refuses ({problem.message}); this "
            "is a fault of railzpush, nothing was sent.",
            "schema",
        )
        for problem in validate_request(spec.data_type, op, body)
    ]


def record_notes(*, record: Any) -> list[FieldProblem]:
    """What the person pushing `record` should see first though it does not keep the push
    from going, e.g. a customer that may already be in the accounting system."""
    spec = registry.for_model(record).spec
    return record_check(spec, RecordData.from_record(record, spec=spec), record=record).notes


def record_save_problems(
    *, data_type: str, data: RecordData, record: Any = None
) -> list[FieldProblem]:
    """What saving `data` (as a new record, or over `record`) would be refused for.

    A draft: only what must never be stored; a ready record: everything `record_validate`
    finds. Forms call it to show the problems before anything is written.
    """
    return record_check(_spec_of(data_type), data, record=record).refused()
