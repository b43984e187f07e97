"""The contract every declared record type keeps, and the kit its tests build records with.

Each test of tests/contract/ runs once per type of the registry (`record_type`): a new type is
proved by declaring it, and writes tests only for its own rules (tests/types/<data_type>/).
The kit reads the type's declaration to fill a complete, ready record, so it needs no line
per type either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from pushes import registry
from pushes.spec import DocumentSpec, Field, Kind, LineData, RecordData
from tests import factories

TYPES = tuple(registry.PUSHABLE_TYPES)
# What a line is worth, and so what a record that needs a total (a payment) totals.
LINE_AMOUNT = Decimal("100.50")

_FACTORIES = {
    "Customer": factories.CustomerFactory,
    "Vendor": factories.VendorFactory,
    "Account": factories.AccountFactory,
    "Item": factories.ItemFactory,
    "TaxRate": factories.TaxRateFactory,
    "Subsidiary": factories.SubsidiaryFactory,
    "TrackingOption": factories.TrackingOptionFactory,
}


def ref_factory(spec: DocumentSpec, name: str, *, line: bool = False):
    spec_field = next(f for f in (spec.line_fields if line else spec.fields) if f.name == name)
    return _FACTORIES[spec.column(spec_field, line=line).related_model.__name__]


# Values a field of that name must have to be ready (a format the schema cannot say).
SAMPLES = {
    "email": "books@example.com",
    "billing_country": "CAN",
    "shipping_country": "CAN",
    "journal_number": "JE-1",
}


@dataclass
class RecordKit:
    """Builds records of one declared type for a connection, complete unless told otherwise.

    What the contract tests name generically: `ref_name`, the record's own reference a test
    can point at another connection (its party, else its first reference); `required`, what an
    empty ready record lacks; `line()`, a line worth pushing, and `lines()`, a set of them
    that is ready (a journal's debits and credits balance).
    """

    spec: DocumentSpec

    @property
    def data_type(self) -> str:
        return self.spec.data_type

    @property
    def url(self) -> str:
        return f"/api/v1/{self.spec.api_resource}/"

    @property
    def ref_name(self) -> str:
        spec = self.spec
        if spec.party:
            return spec.party
        refs = [f for f in spec.fields if f.kind is Kind.REF]
        return (refs or [f for f in spec.fields if f.kind is Kind.REFS])[0].name

    @property
    def ref_many(self) -> bool:
        return self.spec.field_at_name(self.ref_name).kind is Kind.REFS

    @property
    def ref_path(self) -> str:
        """Where a problem with `ref_value` is reported."""
        path = self.spec.field_at_name(self.ref_name).path
        return f"{path}[0]" if self.ref_many else path

    @property
    def party_path(self) -> str:
        return self.spec.field_at_name(self.spec.party).path

    def ref(self, connection):
        return ref_factory(self.spec, self.ref_name)(connection=connection)

    def ref_value(self, connection):
        """The value of `ref_name` pointing at a row of `connection`."""
        row = self.ref(connection)
        return [row] if self.ref_many else row

    def party(self, connection):
        return ref_factory(self.spec, self.spec.party)(connection=connection)

    @property
    def optional_text_path(self) -> str:
        """A text field a complete record leaves empty (for "the provider requires it")."""
        spec = self.spec
        return next(
            f.path
            for f in spec.fields
            if f.kind is Kind.TEXT
            and not f.ready
            and f.name != spec.number
            and f.name not in SAMPLES
        )

    @property
    def required(self) -> list[tuple[str, str]]:
        """(path, rule) of what an empty ready record lacks, in the order checks find them."""
        found = [(f.path, "required") for f in self.spec.fields if f.ready]
        return found + ([("lines", "minItems")] if self.spec.has_lines else [])

    @property
    def line_names(self) -> set[str]:
        return {f.name for f in self.spec.line_fields}

    @property
    def line_decimal(self) -> Field:
        """The first number a line needs (a document's quantity, a payment's amount, a
        journal line's debit)."""
        lines = self.spec.line_fields
        return next(
            (f for f in lines if f.kind is Kind.DECIMAL and f.ready),
            next(f for f in lines if f.kind is Kind.DECIMAL),
        )

    def missing_line_amount(self) -> tuple[dict[str, str], str, str]:
        """A line's values without its amount: (values, field, message)."""
        if "credit" in self.line_names:
            return {"debit": "", "credit": ""}, "debit", "Line 2: enter a debit or a credit."
        number = self.line_decimal
        return {number.name: ""}, number.name, f"Line 2: {number.label} is required."

    @property
    def line_ref(self) -> Field:
        """The first row a line points at (a document's account, a payment's document)."""
        return next(f for f in self.spec.line_fields if f.kind.one_row)

    def row(self, spec_field: Field, connection, *, line: bool = False, party=None, currency="CAD"):
        """A mirrored row `spec_field` may point at, of `connection` (and of `party`; a
        document in `currency`)."""
        column = self.spec.column(spec_field, line=line)
        if spec_field.kind is Kind.LINK:
            return factories.open_document_factory(column.related_model)(
                connection=connection, party=party, currency=currency
            )
        limits = column.get_limit_choices_to() or {}
        return _FACTORIES[column.related_model.__name__](connection=connection, **limits)

    def _linked(self, values: dict[str, Any]) -> bool:
        return any(f.kind is Kind.LINK and f.name in values for f in self.spec.line_fields)

    def line(
        self, connection, *, party=None, currency="CAD", side: str = "debit", **overrides
    ) -> LineData:
        """A complete line: every number it needs, its account or document, a description.
        A journal line takes its amount on `side` (debit or credit)."""
        values: dict[str, Any] = {}
        for f in self.spec.line_fields:
            if f.kind is Kind.DECIMAL and (f.ready or f.name == side):
                values[f.name] = "2" if f.name == "quantity" else LINE_AMOUNT
            elif f.name == "description":
                values[f.name] = "Roasting services"
            elif f.name == "account" or (
                f.kind is Kind.LINK and not self._linked({**values, **overrides})
            ):
                # A payment's line applies to one row: its first link (a document it pays).
                values[f.name] = self.row(f, connection, line=True, party=party, currency=currency)
        # What other types' lines have (an account, for a payment) is not this line's.
        values.update({name: v for name, v in overrides.items() if name in self.line_names})
        return LineData(**values)

    def lines(self, connection, *, party=None, currency="CAD", **overrides) -> list[LineData]:
        """Lines that make a record ready: one, and for a journal its balancing credit."""
        lines = [self.line(connection, party=party, currency=currency, **overrides)]
        if "credit" in self.line_names:
            balancing = {**overrides, "description": "Balancing"}
            lines.append(self.line(connection, party=party, side="credit", **balancing))
        return lines

    def data(self, *, connection, number: str = "C-1", full: bool = False, **overrides):
        """A ready record that passes every check for `connection` (`full`: every optional
        field filled too). A number the record itself needs (a payment's total) is its one
        line's amount."""
        spec = self.spec
        values: dict[str, Any] = {}
        who = (overrides.get(spec.party) or self.party(connection)) if spec.party else None
        for f in spec.fields:
            if f.name in overrides:
                continue
            if f.kind is Kind.REF:
                if f.name == spec.party:
                    values[f.name] = who
                elif f.ready:
                    values[f.name] = self.row(f, connection)
                else:
                    values[f.name] = None
            elif f.name == spec.number:
                values[f.name] = number
            elif f.name in SAMPLES and (full or f.ready):
                values[f.name] = SAMPLES[f.name]
            elif f.kind is Kind.DATE:
                values[f.name] = (
                    dt.date(2026, 12, 2) if f.name == "due_date" else dt.date(2026, 11, 2)
                )
            elif f.kind is Kind.CURRENCY:
                values[f.name] = "CAD"
            elif f.kind is Kind.DECIMAL and f.ready:
                values[f.name] = LINE_AMOUNT
            elif f.kind is Kind.REFS and full:
                values[f.name] = [ref_factory(spec, f.name)(connection=connection)]
            elif f.kind is Kind.DECIMAL and full:
                values[f.name] = Decimal("1.13")
            elif f.kind is Kind.TEXT and full:
                values[f.name] = "Contract test"
            elif f.kind is Kind.CHOICE and full:
                values[f.name] = spec.choices(f)[0]
        line_extra: dict[str, Any] = {}
        if full:
            paths: set[str] = set()
            for f in spec.line_fields:
                if f.path in paths:
                    continue  # one of the fields sharing a path (entityRef) is filled
                paths.add(f.path)
                if f.kind in (Kind.REF,) and f.name != "account":
                    line_extra[f.name] = ref_factory(spec, f.name, line=True)(connection=connection)
                elif f.kind is Kind.TRACKING:
                    line_extra[f.name] = [factories.TrackingOptionFactory(connection=connection)]
                elif f.kind is Kind.CHOICE:
                    line_extra[f.name] = spec.choices(f, line=True)[0]
                elif f.name == "discount_percentage":
                    line_extra[f.name] = "10"
                elif f.kind is Kind.DATE:
                    line_extra[f.name] = dt.date(2026, 11, 2)
        if spec.has_lines:
            currency = overrides.get("currency") or "CAD"
            values["lines"] = self.lines(connection, party=who, currency=currency, **line_extra)
        values["status"] = "ready"
        values.update(overrides)
        return RecordData(connection=connection, **values)

    def create(self, *, connection, **kwargs):
        from pushes.services.records import record_create

        return record_create(
            data_type=self.data_type, data=self.data(connection=connection, **kwargs)
        )

    def needs_lines(self) -> None:
        if not self.spec.has_lines:
            pytest.skip(f"{self.spec.label_plural} have no lines")


@pytest.fixture(params=TYPES)
def record_type(request) -> RecordKit:
    return RecordKit(spec=registry.for_data_type(request.param).spec)
