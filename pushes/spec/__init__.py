"""Record types as declarations: what each field is, where it goes in the Railz body, and what
a ready record needs. Generic code (payload builder, checks, services, API, admin) reads them.

A declaration says per field: the model attribute, the Railz path, the label people read, its
kind, and whether a ready record needs it. Lengths and enums are read from the Railz schema in
`railzpush.railz.datatypes` (the create operation's `data`), digits and decimal places from the
model column: neither is retyped here. Rules the schema cannot say are small named functions
beside the type's declaration, given as `rules` (the record) and `line_rules` (each line).

This module imports no model: a declaration names its models by dotted label
("pushes.Invoice") and they are resolved on first use, so the registry can load it freely.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from railzpush.railz.datatypes import DataType, Op, data_type
from railzpush.railz.schema import Array, Object, String

if TYPE_CHECKING:
    from django.db import models

__all__ = [
    "DocumentSpec",
    "Field",
    "FieldProblem",
    "Kind",
    "LineData",
    "RecordData",
]


@dataclass(frozen=True)
class FieldProblem:
    """One reason a record cannot be saved or pushed: where, which rule, and what to do.

    `field` is the path in the Railz body (`invoiceNumber`, `lines[2].accountRef`, "" for the
    record as a whole); `rule` is a machine-readable code (`required`, `sameConnection`,
    `maxLength`...) a program branches on; `message` is what a person reads. The API returns
    all three as they are, and the admin shows `message` at the field `field` names.
    """

    field: str
    message: str
    rule: str = "invalid"

    def __str__(self) -> str:
        return self.message


class Kind(enum.StrEnum):
    TEXT = "text"  # a string, its length from the schema
    DATE = "date"  # YYYY-MM-DD
    DECIMAL = "decimal"  # a JSON number; digits and places from the model column
    CURRENCY = "currency"  # ISO 4217 code, blank meaning the party's own currency
    CHOICE = "choice"  # one of the schema's enum values
    REF = "ref"  # a mirrored reference row of the same connection: {"id": remote_id}
    REFS = "refs"  # several reference rows: [{"id": ...}], sorted by remote id
    # A mirrored document a line applies to: [{"type": row.link_type, "id": remote_id}]
    # (Railz `lines[].links[]`); checked like a REF (same connection, not archived).
    LINK = "link"
    TRACKING = "tracking"  # tracking options: Railz's TrackingCategoryRef list

    @property
    def one_row(self) -> bool:
        """A foreign key to one mirrored row (REF, LINK), chosen and checked alike."""
        return self in (Kind.REF, Kind.LINK)

    @property
    def rows(self) -> bool:
        """A mirrored row or rows: resolved by remote id, offered by an autocomplete."""
        return self in (Kind.REF, Kind.LINK, Kind.REFS, Kind.TRACKING)


@dataclass(frozen=True)
class Field:
    """One field of a record or of its lines."""

    name: str  # model attribute, and the key of RecordData / LineData
    path: str  # key in the Railz body
    label: str  # "Invoice number"; a line's in lower case ("unit amount"), after "Line 2: "
    kind: Kind = Kind.TEXT
    ready: bool = False  # a ready record needs it
    required_message: str = ""  # what to say when `ready` and missing (else "<label> is required.")
    strip: bool = False  # surrounding spaces are typing noise (numbers), not content
    positive: bool = False  # a number that must be greater than 0 to be ready
    # A reference sent with its kind (Railz entityRef: {"id", "type": "customer"}).
    ref_type: str = ""
    # The fields (besides the connection) within which the value must be unique, e.g.
    # ("vendor",): a vendor's invoice numbers. None: no uniqueness rule.
    unique_within: tuple[str, ...] | None = None
    # The accounting systems (Railz serviceName) that have the field; empty: every one. The
    # composer does not offer it for the others.
    providers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentSpec:
    """A Railz data type as railzpush composes it: its fields and, for a document (invoices,
    bills, credit notes, journal entries), its lines.

    A type without lines (customers, vendors) leaves `line_model` and `line_fields` empty;
    a type that is with nobody in particular (journal entries, the parties themselves) leaves
    `party` empty. A field's `path` may name a key inside an object of the body
    (`billingAddress.city`).
    """

    data_type: str  # key of railzpush.railz.datatypes.DATA_TYPES
    model: str  # "pushes.Invoice"
    fields: tuple[Field, ...]
    line_model: str = ""  # "pushes.InvoiceLine"; "" for a type without lines
    line_fields: tuple[Field, ...] = ()
    party: str = ""  # the field naming who the document is with ("customer", "vendor")
    # Named rules the schema cannot say: rule(checked) reads `checked.data`, `checked.values`
    # and adds problems; a line rule gets (checked, line values, index).
    rules: tuple[Callable[..., None], ...] = ()
    line_rules: tuple[Callable[..., None], ...] = ()
    # Rules over the lines together (debits equal credits), once every line is checked.
    lines_rules: tuple[Callable[..., None], ...] = ()
    # At most this many lines (None: RECORD_MAX_LINES, what the providers accept).
    max_lines: int | None = None
    # Whether the composer and the API show totals (lines with amounts).
    totals: bool = True
    # Lower-case noun for sentences about who the document is with ("customer").
    party_noun: str = ""
    # The refs mirror of this type's documents as the accounting system lists them
    # ("refs.OpenInvoice"): a pushed document is written there as soon as its push succeeds.
    mirror: str = ""
    # waiting_for(record) -> "" or a sentence: the record's body names a record still on its
    # way to the accounting system, so its push waits (queued, not due) until that one lands.
    waiting_for: Callable[[Any], str] = lambda record: ""
    # Operations whose body differs from the create body, as (op, function of the create
    # `data` giving that operation's `data`): ("update", ...) for invoice payments.
    bodies: tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = ()
    # The composer's live figures as lines are typed (a static path; "" for none).
    script: str = "pushes/record_totals.js"
    # For a type that is also reference data: the dotted path of the service that composes a
    # change to a mirrored row, `(data_type=, row_id=, connection=, user=) -> record`; the
    # composer opens it for `?edits=<row id>`.
    from_mirror: str = ""
    # The REST resource's name under /api/v1/ ("" : the data type's), for a type whose data
    # type already names the reference rows mirrored from Railz (customers, vendors).
    resource: str = ""
    # How the composer groups the fields: ((title, names), ...), the first group beside the
    # status. Empty: who and number, then dates and currency, then the rest.
    fieldsets: tuple[tuple[str | None, tuple[str, ...]], ...] = ()
    # Called with the record once a push of it succeeded (same transaction), by dotted path:
    # customers and vendors enter the reference mirror at once.
    on_pushed: str = ""

    @property
    def api_resource(self) -> str:
        return self.resource or self.data_type

    @property
    def has_lines(self) -> bool:
        return bool(self.line_model)

    @property
    def item_side(self) -> str:
        """Which side of an item its lines take: what is bought from a vendor (the item's
        purchase price and account), else what is sold."""
        return "purchase" if self.party == "vendor" else "sales"

    @property
    def related(self) -> tuple[str, ...]:
        """What reading a record joins: its connection, and its party where it has one."""
        return ("connection", self.party) if self.party else ("connection",)

    # --- what the schema and the models know ------------------------------------------------

    @cached_property
    def railz(self) -> DataType:
        return data_type(self.data_type)

    @property
    def label(self) -> str:
        return self.railz.label

    @property
    def label_plural(self) -> str:
        return self.railz.label_plural

    @property
    def a_label(self) -> str:
        """ "An invoice", "A bill": the label with its article, for the start of a sentence."""
        noun = self.label.lower()
        return f"{'An' if noun[0] in 'aeiou' else 'A'} {noun}"

    @cached_property
    def schema(self) -> Object:
        """The create operation's `data`: where lengths and enums are read."""
        return self.railz.operation(Op.CREATE).data

    @cached_property
    def line_schema(self) -> Object:
        lines = self.schema.fields["lines"]
        assert isinstance(lines, Array) and isinstance(lines.items, Object)
        return lines.items

    @staticmethod
    def _node(schema: Object, spec_field: Field) -> Any:
        node: Any = schema
        for key in spec_field.path.split("."):
            if not isinstance(node, Object):
                return None
            node = node.fields.get(key)
        return node

    @cached_property
    def _known(self) -> dict[tuple, Any]:
        """What the schema or the models say of a field, read once per declaration: a check
        asks for every field of every line of every record (thousands in an import)."""
        return {}

    def max_length(self, spec_field: Field, *, line: bool = False) -> int | None:
        key = ("max_length", spec_field.path, line)
        if key not in self._known:
            node = self._node(self.line_schema if line else self.schema, spec_field)
            self._known[key] = node.max_length if isinstance(node, String) else None
        return self._known[key]

    def choices(self, spec_field: Field, *, line: bool = False) -> tuple[str, ...]:
        key = ("choices", spec_field.path, line)
        if key not in self._known:
            node = self._node(self.line_schema if line else self.schema, spec_field)
            self._known[key] = tuple(node.enum or ()) if isinstance(node, String) else ()
        return self._known[key]

    @cached_property
    def model_class(self) -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(self.model)

    @property
    def number(self) -> str:
        """The field people call the document by ("invoice_number"), "" if none: the
        model's `number_field`."""
        return self.model_class.number_field

    @property
    def date_field(self) -> str:
        """The record's own date ("posted_date", a payment's "date"): its first date field;
        "" for a type without one (customers, vendors)."""
        return next((f.name for f in self.fields if f.kind is Kind.DATE), "")

    @cached_property
    def line_model_class(self) -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(self.line_model)

    @cached_property
    def line_parent(self) -> str:
        """The name of the line's foreign key to its document ("invoice")."""
        for model_field in self.line_model_class._meta.concrete_fields:
            if model_field.is_relation and model_field.related_model is self.model_class:
                return model_field.name
        raise LookupError(f"{self.line_model} has no foreign key to {self.model}")

    def column(self, spec_field: Field, *, line: bool = False):
        key = ("column", spec_field.name, line)
        if key not in self._known:
            model = self.line_model_class if line else self.model_class
            self._known[key] = model._meta.get_field(spec_field.name)
        return self._known[key]

    def field_at(self, path: str, *, line: bool = False) -> Field | None:
        key = ("field_at", path, line)
        if key not in self._known:
            fields = self.line_fields if line else self.fields
            self._known[key] = next((f for f in fields if f.path == path), None)
        return self._known[key]

    def field_at_name(self, name: str, *, line: bool = False) -> Field:
        return next(f for f in (self.line_fields if line else self.fields) if f.name == name)

    def ref_fields(self, *, line: bool = False) -> list[Field]:
        fields = self.line_fields if line else self.fields
        return [f for f in fields if f.kind.rows]

    def lines_prefetch(self, *, categories: bool = True):
        """What reading a record's lines takes, in a fixed number of queries.

        `categories=False` leaves out the tracking categories, which only the body needs.
        """
        from django.db.models import Prefetch

        related = [f.name for f in self.line_fields if f.kind.one_row]
        many = [
            f"{f.name}__category" if f.kind is Kind.TRACKING and categories else f.name
            for f in self.line_fields
            if f.kind in (Kind.REFS, Kind.TRACKING)
        ]
        return Prefetch(
            "lines",
            queryset=self.line_model_class.objects.select_related(*related)
            .prefetch_related(*many)
            .order_by("position", "id"),
        )

    def prefetch(self, record: Any) -> None:
        """Load the record's lines and many-valued references unless they already are."""
        self.prefetch_many([record])

    def prefetch_many(self, records: Sequence[Any]) -> None:
        """`prefetch` for many records of this declaration at once: a fixed number of queries
        for the whole batch, not one set per record."""
        from django.db.models import prefetch_related_objects

        names = ["lines"] if self.has_lines else []
        names += [f.name for f in self.fields if f.kind in (Kind.REFS, Kind.TRACKING)]
        for name in names:
            missing = [
                r
                for r in records
                if r.pk is not None and name not in getattr(r, "_prefetched_objects_cache", {})
            ]
            if missing:
                prefetch_related_objects(
                    missing, self.lines_prefetch() if name == "lines" else name
                )

    def pushed(self, record: Any) -> None:
        """What the type does once a push of `record` created or changed it (`on_pushed`)."""
        if self.on_pushed:
            from django.utils.module_loading import import_string

            import_string(self.on_pushed)(record)

    def describe(self, record: Any) -> str:
        """A sentence naming the record for people: "Invoice INV-1001 for Acme Ltd"."""
        number = getattr(record, self.number, "") if self.number else ""
        number = number or (f"#{record.pk}" if record.pk else "(new)")
        if not self.party:
            return f"{self.label} {number}"
        if getattr(record, f"{self.party}_id") is None:
            return f"{self.label} {number} (no {self.party_noun or self.party} yet)"
        party = getattr(record, self.party)
        preposition = "for" if self.party == "customer" else "from"
        return f"{self.label} {number} {preposition} {party.name or party.remote_id}"


class _Values:
    """Keyword values read as attributes; a value not given reads as None."""

    _core: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self._core:
            object.__setattr__(self, name, values.pop(name, getattr(type(self), name, None)))
        object.__setattr__(self, "values", values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.__dict__["values"].get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._core:
            object.__setattr__(self, name, value)
        else:
            self.values[name] = value

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({vars(self)!r})"


class LineData(_Values):
    """One line as a caller gives it, by the declaration's field names; numbers may be
    Decimal, int or str ("12.50"). `id` names an existing line to change in place."""

    _core = ("id",)
    id: int | None = None


class RecordData(_Values):
    """A whole record as a caller gives it: the connection, its status, its fields by the
    declaration's names (dates may be `date` or "YYYY-MM-DD") and its lines."""

    _core = ("connection", "status", "lines")
    status: str = "draft"
    lines: Sequence[LineData] = ()

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        if self.lines is None:
            object.__setattr__(self, "lines", [])

    @classmethod
    def from_record(cls, record: Any, *, spec: DocumentSpec) -> RecordData:
        """The record as stored, lines in order, ready to check or to change and save.

        The caller names the record's declaration (the registry's, for its model): this
        module sits under the registry and never asks it.
        """
        if record.pk:
            # Before the fields: many-valued ones (subsidiaries) are read from the prefetch.
            spec.prefetch(record)
        values = {f.name: _stored(record, f) for f in spec.fields}
        lines = []
        if record.pk and spec.has_lines:
            lines = [
                LineData(id=line.pk, **{f.name: _stored(line, f) for f in spec.line_fields})
                for line in record.lines.all()
            ]
        return cls(connection=record.connection, status=record.status, lines=lines, **values)


def _stored(row: Any, spec_field: Field) -> Any:
    value = getattr(row, spec_field.name)
    if spec_field.kind in (Kind.REFS, Kind.TRACKING):
        return list(value.all()) if row.pk else []
    return value


def field_list(*fields: Field) -> tuple[Field, ...]:
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ValueError("a declaration names each field once")
    return tuple(fields)
