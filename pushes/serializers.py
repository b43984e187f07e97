"""How records (invoices, bills, credit notes) and pushes read and are written in the REST API.

A record's serializer is built from its declaration (`pushes.spec`): one API field per declared
field, named as the model names it. References are given as `{"remote_id": "200"}` (the
accounting system's id) or `{"id": 17}` (the mirrored row's id) and are looked up in the
record's own connection only. Every error names its field by its path in the Railz body
(`customerRef`, `lines[2].accountRef`, `lines[0].unitAmount`): the same paths `validate` and
the admin use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from pushes import registry
from pushes.lines import CappedLinesSerializer
from pushes.models import ProviderPushOptions, PushableStatus, PushEvent, PushRequest
from pushes.selectors import PushState, invoice_totals, record_push_state
from pushes.spec import DocumentSpec, Field, FieldProblem, Kind, LineData, RecordData
from railzpush.api.errors import ProblemsError, error, errors_from_details
from refs.models import Connection, RefRecord, TrackingOption

_SEGMENT = re.compile(r"([A-Za-z_]+)")


def railz_names(spec: DocumentSpec) -> dict[str, str]:
    """Request field -> its name in the Railz body, so every error uses one vocabulary."""
    names = {"connection": "connectionUuid"}
    for spec_field in (*spec.fields, *spec.line_fields):
        names[spec_field.name] = spec_field.path
    return names


def serializer_errors(exc: ValidationError, spec: DocumentSpec) -> list[dict[str, str]]:
    """A serializer's errors, each at its path in the Railz body."""
    names = railz_names(spec)

    def railz_path(path: str) -> str:
        # `lines[2].account.remote_id` -> `lines[2].accountRef.remote_id`.
        return _SEGMENT.sub(lambda match: names.get(match.group(1), match.group(1)), path)

    return [
        {**found, "field": railz_path(found["field"])}
        for found in errors_from_details(exc.get_full_details())
    ]


def problem_errors(problems: list[FieldProblem]) -> list[dict[str, str]]:
    """Problems in the API's error shape: each carries its own rule code, never guessed."""
    return [error(p.field, p.rule, p.message) for p in problems]


# --- references -------------------------------------------------------------------------------


class RefSerializer(serializers.Serializer):
    """A reference row: give `remote_id` (the accounting system's id) or `id` (the row's id)."""

    id = serializers.IntegerField(
        required=False, min_value=1, help_text="The mirrored row's id (from the refs endpoints)."
    )
    remote_id = serializers.CharField(
        required=False, max_length=255, help_text="The record's id in the accounting system."
    )
    name = serializers.CharField(read_only=True)

    def validate(self, attrs):
        if ("id" in attrs) == ("remote_id" in attrs):
            raise ValidationError("Give exactly one of id and remote_id.", code="oneOf")
        return attrs


@dataclass(frozen=True)
class _Wanted:
    path: str
    model: type[RefRecord]
    label: str
    key: str  # "id" or "remote_id"
    value: Any


def _wanted(path: str, model: type[RefRecord], label: str, given: dict | None) -> _Wanted | None:
    if not given:
        return None
    key = "id" if "id" in given else "remote_id"
    return _Wanted(path=path, model=model, label=label, key=key, value=given[key])


def refs_resolve(
    wanted: list[_Wanted], *, connection: Connection
) -> tuple[dict[_Wanted, RefRecord], list[dict[str, str]]]:
    """Find every wanted reference in `connection`: one query per type and kind of id."""
    groups: dict[tuple[type[RefRecord], str], set] = defaultdict(set)
    for item in wanted:
        groups[(item.model, item.key)].add(item.value)
    found: dict[tuple[type[RefRecord], str, Any], RefRecord] = {}
    for (model, key), values in groups.items():
        lookup = "pk__in" if key == "id" else "remote_id__in"
        queryset = model.objects.filter(connection=connection, **{lookup: values})
        if model is TrackingOption:
            queryset = queryset.select_related("category")
        for row in queryset:
            found[(model, key, row.pk if key == "id" else row.remote_id)] = row
    resolved, problems = {}, []
    missing = [w for w in wanted if (w.model, w.key, w.value) not in found]
    elsewhere = _found_elsewhere(missing)
    for item in wanted:
        row = found.get((item.model, item.key, item.value))
        if row is not None:
            resolved[item] = row
            continue
        shown = f"#{item.value}" if item.key == "id" else f"with remote_id {item.value!r}"
        other = elsewhere.get((item.model, item.key, item.value))
        if other is not None:
            problems.append(
                error(
                    item.path,
                    "sameConnection",
                    f"{item.label} {shown} belongs to another connection ({other}); choose "
                    f"one of {connection}.",
                )
            )
        else:
            problems.append(
                error(item.path, "exists", f"{item.label} {shown} does not exist in {connection}.")
            )
    return resolved, problems


def _found_elsewhere(missing: list[_Wanted]) -> dict[tuple, Connection]:
    """Where local ids that are not in the connection live, to say so (errors only)."""
    by_model: dict[type[RefRecord], set[int]] = defaultdict(set)
    for item in missing:
        if item.key == "id":
            by_model[item.model].add(item.value)
    elsewhere = {}
    for model, ids in by_model.items():
        for row in model.objects.filter(pk__in=ids).select_related("connection"):
            elsewhere[(model, "id", row.pk)] = row.connection
    return elsewhere


# --- records ----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "The connection's id, or its connection_uuid (CON-…).",
    }
)
class ConnectionField(serializers.Field):
    default_error_messages = {
        "invalid": "Must be a connection id (a whole number) or a connection_uuid (CON-…).",
        "does_not_exist": "No connection {value}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data).strip()
        if text.isdigit():
            lookup = {"pk": int(text)}
        elif text.upper().startswith("CON-") and len(text) <= 64:
            lookup = {"connection_uuid": text}
        else:
            self.fail("invalid")
        connection = Connection.objects.filter(**lookup).first()
        if connection is None:
            self.fail("does_not_exist", value=text[:64])
        return connection

    def to_representation(self, value):
        return value.pk


def _api_field(spec_field: Field) -> serializers.Field:
    """The request/response field of one declared field; the services check the values."""
    kind = spec_field.kind
    if kind is Kind.DATE:
        return serializers.DateField(required=False, allow_null=True)
    if kind is Kind.DECIMAL:
        return serializers.DecimalField(
            max_digits=None, decimal_places=None, required=False, allow_null=True
        )
    if kind.one_row:
        return RefSerializer(required=False, allow_null=True)
    if kind in (Kind.REFS, Kind.TRACKING):
        return RefSerializer(many=True, required=False)
    # Free text keeps its spaces; a number or a code loses them.
    trim = kind is not Kind.TEXT or spec_field.strip
    return serializers.CharField(required=False, allow_blank=True, trim_whitespace=trim)


class TotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=30, decimal_places=4)
    discount = serializers.DecimalField(max_digits=30, decimal_places=4)
    tax = serializers.DecimalField(max_digits=30, decimal_places=4)
    total = serializers.DecimalField(max_digits=30, decimal_places=4)
    tax_complete = serializers.BooleanField(
        help_text="False when a line's tax rate has no known percentage (its tax is left out)."
    )


class RecordSerializer(serializers.ModelSerializer):
    """A record and its lines, read from its declaration (`spec`).

    Errors name fields by their Railz path (`lines[2].accountRef`).
    """

    spec: DocumentSpec

    @extend_schema_field(
        serializers.ChoiceField(choices=[state.key for state in PushState], read_only=True)
    )
    def get_push_state(self, record) -> str:
        return record_push_state(record).key

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, record):
        totals = invoice_totals(lines=record.lines.all(), currency=record.currency)
        return TotalsSerializer(totals).data

    def record_data(self, *, record: Any = None) -> RecordData:
        """The validated request as the services' RecordData, references resolved.

        On a partial update the fields not given keep their stored values; `lines`, when
        given, replace the lines (a line with an `id` is changed in place).
        """
        spec = self.spec
        attrs = self.validated_data
        data = RecordData.from_record(record, spec=spec) if record is not None else None
        connection = attrs.get("connection") or (record.connection if record else None)
        wanted: list[_Wanted] = []

        def want(spec_field: Field, given: Any, at: str, *, line: bool) -> Any:
            """The `_Wanted` (or list of them) of a reference field, None otherwise."""
            column = spec.column(spec_field, line=line)
            model = column.related_model
            label = model._meta.verbose_name.capitalize()
            path = f"{at}{spec_field.path}"
            if spec_field.kind.one_row:
                found = _wanted(path, model, label, given)
                wanted.append(found)
                return found
            found = [_wanted(f"{path}[{i}]", model, label, g) for i, g in enumerate(given or [])]
            wanted.extend(found)
            return found

        header_refs = {
            f.name: want(f, attrs.get(f.name), "", line=False)
            for f in spec.ref_fields()
            if f.name in attrs
        }
        lines = []
        for i, line in enumerate(attrs.get("lines") or []):
            refs = {
                f.name: want(f, line.get(f.name), f"lines[{i}].", line=True)
                for f in spec.ref_fields(line=True)
            }
            lines.append((line, refs))
        resolved, problems = refs_resolve(
            [w for w in wanted if w is not None], connection=connection
        )
        if problems:
            raise ProblemsError(problems)

        def ref(item):
            if isinstance(item, list):
                return [resolved.get(i) for i in item]
            return resolved.get(item) if item is not None else None

        plain = [f.name for f in spec.fields if not f.kind.rows]
        values: dict[str, Any] = {name: attrs[name] for name in ("status", *plain) if name in attrs}
        values.update({name: ref(item) for name, item in header_refs.items()})
        if "lines" in attrs:
            values["lines"] = [
                LineData(
                    id=line.get("id"),
                    **{
                        f.name: line.get(f.name, "" if f.kind is Kind.TEXT else None)
                        for f in spec.line_fields
                        if f.name not in refs
                    },
                    **{name: ref(item) for name, item in refs.items()},
                )
                for line, refs in lines
            ]
        if data is None:
            return RecordData(connection=connection, **values)
        data.connection = connection
        for name, value in values.items():
            setattr(data, name, value)
        return data


def _class_name(spec: DocumentSpec) -> str:
    # The model's name ("CustomerRecord"): the schema's component names stay apart from the
    # reference rows' ("Customer").
    return spec.model_class.__name__


@cache
def record_serializer(data_type: str) -> type[RecordSerializer]:
    """The serializer of a declared type: `InvoiceSerializer`, `BillSerializer`..."""
    spec = registry.for_data_type(data_type).spec
    name = _class_name(spec)
    line_names = tuple(f.name for f in spec.line_fields)
    line_attrs: dict[str, Any] = (
        {}
        if not spec.has_lines
        else {
            "id": serializers.IntegerField(
                required=False, allow_null=True, help_text="An existing line to change in place."
            ),
            "amount": serializers.DecimalField(max_digits=36, decimal_places=8, read_only=True),
            **{f.name: _api_field(f) for f in spec.line_fields},
            "Meta": type(
                "Meta",
                (),
                {
                    "model": spec.line_model_class,
                    "fields": ("id", "position", *line_names, "amount"),
                    "read_only_fields": ("position",),
                },
            ),
        }
    )
    line_serializer = (
        type(f"{name}LineSerializer", (serializers.ModelSerializer,), line_attrs)
        if spec.has_lines
        else None
    )
    names = tuple(f.name for f in spec.fields)
    read_only = (
        "provider_record_id",
        "last_pushed_at",
        "changed_since_push",
        "created_at",
        "updated_at",
    )
    attrs: dict[str, Any] = {
        "__doc__": f"{spec.a_label} and its lines. Errors name fields by their Railz path.",
        "spec": spec,
        "connection": ConnectionField(),
        "status": serializers.ChoiceField(choices=PushableStatus.choices, required=False),
        **{f.name: _api_field(f) for f in spec.fields},
        "push_state": serializers.SerializerMethodField(),
        "Meta": type(
            "Meta",
            (),
            {
                "model": spec.model_class,
                "fields": (
                    "id",
                    "connection",
                    "status",
                    *names,
                    *(("lines",) if spec.has_lines else ()),
                    *(("totals",) if spec.totals else ()),
                    "push_state",
                    *read_only,
                ),
                "read_only_fields": read_only,
            },
        ),
    }
    if spec.totals:
        attrs["totals"] = serializers.SerializerMethodField()
    if line_serializer is not None:
        attrs["lines"] = CappedLinesSerializer(child=line_serializer(), required=False)
    return type(f"{name}Serializer", (RecordSerializer,), attrs)


class ProblemSerializer(serializers.Serializer):
    """One entry of the API's error shape."""

    field = serializers.CharField(help_text='Railz path of the field; "" for the whole record.')
    rule = serializers.CharField(help_text="camelCase rule code a program can branch on.")
    message = serializers.CharField(help_text="The admin's wording.")


class RecordValidationSerializer(serializers.Serializer):
    """What `validate` found. `valid` is true when no check railzpush can run finds a problem;
    it says the provider's own push rules were among them only when `provider_rules_checked`
    is true too."""

    valid = serializers.BooleanField(
        help_text="True when no check finds a problem: a push of the record would be sent. "
        "Read with provider_rules_checked: the accounting system may refuse a record whose "
        "provider rules were not checked."
    )
    operation = serializers.ChoiceField(
        choices=ProviderPushOptions.Operation.choices,
        help_text="The push these checks are for: update once the accounting system has it.",
    )
    provider_rules_checked = serializers.BooleanField(
        help_text="False until the provider's push rules (pushOptions) for this data type and "
        "operation are fetched; `notes` then says so with rule providerRulesUnknown."
    )
    errors = ProblemSerializer(
        many=True,
        help_text="Every problem: field (Railz path), rule and message, as the admin shows them.",
    )
    notes = ProblemSerializer(
        many=True,
        help_text="What the checks could not cover, e.g. rule providerRulesUnknown with the "
        "admin's sentence; never a reason the push is refused.",
    )


# --- pushes -----------------------------------------------------------------------------------


class PushEventSerializer(serializers.ModelSerializer):
    """One line of a push's timeline: an HTTP exchange with Railz (secrets removed) or a change
    of state, with where it came from."""

    class Meta:
        model = PushEvent
        fields = (
            "at",
            "kind",
            "source",
            "from_state",
            "to_state",
            "message",
            "method",
            "path",
            "query",
            "status_code",
            "duration_ms",
            "request_body",
            "response_body",
        )
        read_only_fields = fields


class PushRequestSerializer(serializers.ModelSerializer):
    """One attempt to create or update one record in the accounting system."""

    record_type = serializers.CharField(
        source="content_type.model", read_only=True, help_text="e.g. invoice"
    )
    record_id = serializers.IntegerField(source="object_id", read_only=True)
    requested_by = serializers.CharField(
        source="requested_by.get_username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = PushRequest
        fields = (
            "id",
            "record_type",
            "record_id",
            "connection",
            "data_type",
            "operation",
            "state",
            "provider_record_id",
            "push_communication_id",
            "batch_id",
            "source_object_ids",
            "validation_errors",
            "response_code",
            "attempts",
            "last_error",
            "reconcile_note",
            "held_reason",
            "requested_by",
            "source",
            "retry_of",
            "created_at",
            "updated_at",
            "sent_at",
            "requested_on",
            "completed_on",
        )
        read_only_fields = fields


class PushRequestDetailSerializer(PushRequestSerializer):
    events = PushEventSerializer(many=True, read_only=True)

    class Meta(PushRequestSerializer.Meta):
        fields = (*PushRequestSerializer.Meta.fields, "body", "events")
        read_only_fields = fields


class PushReconcileSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="What reconciliation concluded, in words.")
    push = PushRequestDetailSerializer()
