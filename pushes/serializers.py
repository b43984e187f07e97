"""How invoices (and pushes) read and are written in the REST API.

An invoice's references are given as `{"remote_id": "200"}` (the accounting system's id) or
`{"id": 17}` (the mirrored row's id) and are looked up in the invoice's own connection only.
Every error names its field by its path in the Railz invoice body (`customerRef`,
`lines[2].accountRef`, `lines[0].unitAmount`): the same paths `validate` and the admin use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from pushes.lines import CappedLinesSerializer
from pushes.models import Invoice, InvoiceLine, PushableStatus, PushEvent, PushRequest
from pushes.registry import FieldProblem
from pushes.selectors import PushState, invoice_push_state, invoice_totals
from pushes.services.invoices import InvoiceData, InvoiceLineData
from railzpush.api.errors import ProblemsError, error, errors_from_details
from refs.models import (
    Account,
    Connection,
    Customer,
    Item,
    RefRecord,
    Subsidiary,
    TaxRate,
    TrackingOption,
)

# Request field -> its name in the Railz invoice body, so every error uses one vocabulary.
RAILZ_NAMES = {
    "connection": "connectionUuid",
    "customer": "customerRef",
    "invoice_number": "invoiceNumber",
    "posted_date": "postedDate",
    "due_date": "dueDate",
    "currency_rate": "currencyRate",
    "subsidiaries": "subsidiaryRefs",
    "unit_amount": "unitAmount",
    "discount_percentage": "discountPercentage",
    "account": "accountRef",
    "item": "inventoryRef",
    "tax_rate": "taxRateRef",
    "tracking_options": "trackingCategoryRefs",
}
_SEGMENT = re.compile(r"([A-Za-z_]+)")


def railz_path(path: str) -> str:
    """`lines[2].account.remote_id` -> `lines[2].accountRef.remote_id`."""
    return _SEGMENT.sub(lambda match: RAILZ_NAMES.get(match.group(1), match.group(1)), path)


def serializer_errors(exc: ValidationError) -> list[dict[str, str]]:
    """A serializer's errors, each at its path in the Railz body."""
    return [
        {**found, "field": railz_path(found["field"])}
        for found in errors_from_details(exc.get_full_details())
    ]


# The composer's problems carry a field and a sentence; the rule a program can branch on is
# read from the sentence's wording (first match wins).
_RULES = (
    ("belongs to another connection", "sameConnection"),
    ("stays with the connection", "sameConnection"),
    ("only be pushed through an active connection", "activeConnection"),
    ("is archived", "notArchived"),
    ("Add at least one", "minItems"),
    ("is required", "required"),
    ("needs an account or an item", "required"),
    ("characters", "maxLength"),
    ("decimal places", "maxDecimalPlaces"),
    ("is too large", "max"),
    ("greater than 0", "min"),
    ("between 0 and 100", "range"),
    ("formatted as YYYY-MM-DD", "format"),
    ("must be a number", "type"),
    ("must be given as a decimal", "type"),
    ("finite number", "type"),
    ("already used", "unique"),
    ("is before the posted date", "dateOrder"),
    ("ISO 4217", "enum"),
    ("must be draft or ready", "enum"),
    ("is not a line of this invoice", "exists"),
)


def problem_rule(problem: FieldProblem) -> str:
    explicit = getattr(problem, "rule", None)
    if explicit:
        return explicit
    for wording, rule in _RULES:
        if wording in problem.message:
            return rule
    return "invalid"


def problem_errors(problems: list[FieldProblem]) -> list[dict[str, str]]:
    return [error(p.field, problem_rule(p), p.message) for p in problems]


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


# --- invoices ---------------------------------------------------------------------------------


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


class InvoiceLineSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text="An existing line to change in place."
    )
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    quantity = serializers.DecimalField(
        max_digits=None, decimal_places=None, required=False, allow_null=True
    )
    unit_amount = serializers.DecimalField(
        max_digits=None, decimal_places=None, required=False, allow_null=True
    )
    discount_percentage = serializers.DecimalField(
        max_digits=None, decimal_places=None, required=False, allow_null=True
    )
    account = RefSerializer(required=False, allow_null=True)
    item = RefSerializer(required=False, allow_null=True)
    tax_rate = RefSerializer(required=False, allow_null=True)
    tracking_options = RefSerializer(many=True, required=False)
    amount = serializers.DecimalField(max_digits=36, decimal_places=8, read_only=True)

    class Meta:
        model = InvoiceLine
        fields = (
            "id",
            "position",
            "description",
            "quantity",
            "unit_amount",
            "discount_percentage",
            "account",
            "item",
            "tax_rate",
            "tracking_options",
            "amount",
        )
        read_only_fields = ("position",)


class InvoiceTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=30, decimal_places=4)
    discount = serializers.DecimalField(max_digits=30, decimal_places=4)
    tax = serializers.DecimalField(max_digits=30, decimal_places=4)
    total = serializers.DecimalField(max_digits=30, decimal_places=4)
    tax_complete = serializers.BooleanField(
        help_text="False when a line's tax rate has no known percentage (its tax is left out)."
    )


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice and its lines. Errors name fields by their Railz path (`lines[2].accountRef`)."""

    connection = ConnectionField()
    status = serializers.ChoiceField(choices=PushableStatus.choices, required=False)
    customer = RefSerializer(required=False, allow_null=True)
    invoice_number = serializers.CharField(required=False, allow_blank=True)
    posted_date = serializers.DateField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    currency = serializers.CharField(required=False, allow_blank=True)
    currency_rate = serializers.DecimalField(
        max_digits=None, decimal_places=None, required=False, allow_null=True
    )
    memo = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    subsidiaries = RefSerializer(many=True, required=False)
    lines = CappedLinesSerializer(child=InvoiceLineSerializer(), required=False)
    push_state = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = (
            "id",
            "connection",
            "status",
            "customer",
            "invoice_number",
            "posted_date",
            "due_date",
            "currency",
            "currency_rate",
            "memo",
            "subsidiaries",
            "lines",
            "totals",
            "push_state",
            "provider_record_id",
            "last_pushed_at",
            "changed_since_push",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "provider_record_id",
            "last_pushed_at",
            "changed_since_push",
            "created_at",
            "updated_at",
        )

    @extend_schema_field(
        serializers.ChoiceField(choices=[state.key for state in PushState], read_only=True)
    )
    def get_push_state(self, invoice) -> str:
        return invoice_push_state(invoice).key

    @extend_schema_field(InvoiceTotalsSerializer)
    def get_totals(self, invoice):
        totals = invoice_totals(lines=invoice.lines.all(), currency=invoice.currency)
        return InvoiceTotalsSerializer(totals).data

    def invoice_data(self, *, invoice: Invoice | None = None) -> InvoiceData:
        """The validated request as the composer's InvoiceData, references resolved.

        On a partial update the fields not given keep their stored values; `lines`, when
        given, replace the lines (a line with an `id` is changed in place).
        """
        attrs = self.validated_data
        data = InvoiceData.from_invoice(invoice) if invoice is not None else None
        connection = attrs.get("connection") or (invoice.connection if invoice else None)
        wanted: list[_Wanted] = []

        customer = _wanted("customerRef", Customer, "Customer", attrs.get("customer"))
        subsidiaries = [
            _wanted(f"subsidiaryRefs[{i}]", Subsidiary, "Subsidiary", given)
            for i, given in enumerate(attrs.get("subsidiaries") or [])
        ]
        lines = []
        for i, line in enumerate(attrs.get("lines") or []):
            at = f"lines[{i}]"
            lines.append(
                {
                    "line": line,
                    "account": _wanted(f"{at}.accountRef", Account, "Account", line.get("account")),
                    "item": _wanted(f"{at}.inventoryRef", Item, "Item", line.get("item")),
                    "tax_rate": _wanted(
                        f"{at}.taxRateRef", TaxRate, "Tax rate", line.get("tax_rate")
                    ),
                    "tracking": [
                        _wanted(
                            f"{at}.trackingCategoryRefs[{j}]",
                            TrackingOption,
                            "Tracking option",
                            given,
                        )
                        for j, given in enumerate(line.get("tracking_options") or [])
                    ],
                }
            )
            wanted += [lines[-1]["account"], lines[-1]["item"], lines[-1]["tax_rate"]]
            wanted += lines[-1]["tracking"]
        wanted = [w for w in [customer, *subsidiaries, *wanted] if w is not None]
        resolved, problems = refs_resolve(wanted, connection=connection)
        if problems:
            raise ProblemsError(problems)

        def ref(item):
            return resolved.get(item) if item is not None else None

        values: dict[str, Any] = {
            name: attrs[name]
            for name in (
                "status",
                "invoice_number",
                "posted_date",
                "due_date",
                "currency",
                "currency_rate",
                "memo",
            )
            if name in attrs
        }
        if "customer" in attrs:
            values["customer"] = ref(customer)
        if "subsidiaries" in attrs:
            values["subsidiaries"] = [ref(item) for item in subsidiaries]
        if "lines" in attrs:
            values["lines"] = [
                InvoiceLineData(
                    id=entry["line"].get("id"),
                    description=entry["line"].get("description", ""),
                    quantity=entry["line"].get("quantity"),
                    unit_amount=entry["line"].get("unit_amount"),
                    discount_percentage=entry["line"].get("discount_percentage"),
                    account=ref(entry["account"]),
                    item=ref(entry["item"]),
                    tax_rate=ref(entry["tax_rate"]),
                    tracking_options=[ref(item) for item in entry["tracking"]],
                )
                for entry in lines
            ]
        if data is None:
            return InvoiceData(connection=connection, **values)
        data.connection = connection
        for name, value in values.items():
            setattr(data, name, value)
        return data


class InvoiceValidationSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="True when the invoice can be pushed as it is.")
    errors = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="Every problem: field (Railz path), rule and message, as the admin shows them.",
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
            "source_object_ids",
            "validation_errors",
            "response_code",
            "attempts",
            "last_error",
            "reconcile_note",
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
