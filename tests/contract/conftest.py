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
from pushes.spec import DocumentSpec, Kind, LineData, RecordData
from tests import factories

TYPES = tuple(registry.PUSHABLE_TYPES)

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

    def missing_line_amount(self) -> tuple[dict[str, str], str, str]:
        """A line's admin form values without its amount: (values, field, message)."""
        if "debit" in self.line_names:
            return {"debit": "", "credit": ""}, "debit", "Line 2: enter a debit or a credit."
        return {"quantity": ""}, "quantity", "Line 2: quantity is required."

    def line_posts(self, account_pk) -> list[dict[str, Any]]:
        """The admin form values of lines that make the record ready."""
        if "debit" in self.line_names:
            return [
                {"description": "Beans", "debit": "10", "account": account_pk},
                {"description": "Cash", "credit": "10", "account": account_pk},
            ]
        return [
            {"description": "Beans", "quantity": "2", "unit_amount": "10", "account": account_pk}
        ]

    def line_bodies(self, account_remote_id: str) -> list[dict[str, Any]]:
        """The API's lines of a ready record."""
        account = {"remote_id": account_remote_id}
        if "debit" in self.line_names:
            return [
                {"description": "Roasting", "debit": "201.00", "account": account},
                {"description": "Cash", "credit": "201.00", "account": account},
            ]
        return [
            {
                "description": "Roasting",
                "quantity": "2",
                "unit_amount": "100.50",
                "account": account,
            }
        ]

    @property
    def required(self) -> list[tuple[str, str]]:
        """(path, rule) of what an empty ready record lacks, in the order checks find them."""
        found = [(f.path, "required") for f in self.spec.fields if f.ready]
        return found + ([("lines", "minItems")] if self.spec.has_lines else [])

    @property
    def line_names(self) -> set[str]:
        return {f.name for f in self.spec.line_fields}

    @property
    def decimal_line_field(self):
        """The first number of a line: where a value too precise to store is tried."""
        return next(f for f in self.spec.line_fields if f.kind is Kind.DECIMAL)

    def line(self, connection, **overrides) -> LineData:
        values: dict[str, Any] = {
            "description": "Roasting services",
            "account": factories.AccountFactory(connection=connection),
        }
        if "debit" in self.line_names:
            values["debit"] = "201.00"
        else:
            values.update(quantity="2", unit_amount="100.50")
        values.update(overrides)
        return LineData(**values)

    def lines(self, connection, **overrides) -> list[LineData]:
        lines = [self.line(connection, **overrides)]
        if "credit" in self.line_names:
            account = overrides.get("account") or factories.AccountFactory(connection=connection)
            lines.append(LineData(description="Balancing", account=account, credit="201.00"))
        return lines

    def data(self, *, connection, number: str = "C-1", full: bool = False, **overrides):
        """A ready record that passes every check for `connection` (`full`: every optional
        field filled too)."""
        spec = self.spec
        values: dict[str, Any] = {}
        for f in spec.fields:
            if f.name in overrides:
                continue
            if f.kind is Kind.REF:
                values[f.name] = self.party(connection) if f.name == spec.party else None
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
            elif f.kind is Kind.REFS and full:
                values[f.name] = [ref_factory(spec, f.name)(connection=connection)]
            elif f.kind is Kind.DECIMAL and full:
                values[f.name] = Decimal("1.13")
            elif f.kind is Kind.TEXT and full:
                values[f.name] = "Contract test"
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
        if spec.has_lines:
            values["lines"] = self.lines(connection, **line_extra)
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
