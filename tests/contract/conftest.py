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


@dataclass
class RecordKit:
    """Builds records of one declared type for a connection, complete unless told otherwise."""

    spec: DocumentSpec

    @property
    def data_type(self) -> str:
        return self.spec.data_type

    @property
    def party_path(self) -> str:
        return self.spec.field_at_name(self.spec.party).path

    def party(self, connection):
        return ref_factory(self.spec, self.spec.party)(connection=connection)

    def line(self, connection, **overrides) -> LineData:
        values: dict[str, Any] = {
            "description": "Roasting services",
            "quantity": "2",
            "unit_amount": "100.50",
            "account": factories.AccountFactory(connection=connection),
        }
        values.update(overrides)
        return LineData(**values)

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
            for f in spec.line_fields:
                if f.kind in (Kind.REF,) and f.name != "account":
                    line_extra[f.name] = ref_factory(spec, f.name, line=True)(connection=connection)
                elif f.kind is Kind.TRACKING:
                    line_extra[f.name] = [factories.TrackingOptionFactory(connection=connection)]
                elif f.kind is Kind.CHOICE:
                    line_extra[f.name] = spec.choices(f, line=True)[0]
                elif f.name == "discount_percentage":
                    line_extra[f.name] = "10"
        values["lines"] = [self.line(connection, **line_extra)]
        values["status"] = "ready"
        values.update(overrides)
        return RecordData(connection=connection, **values)

    def create(self, *, connection, **kwargs):
        from pushes.services.records import record_create

        return record_create(
            data_type=self.data_type, data=self.data(connection=connection, **kwargs)
        )


@pytest.fixture(params=TYPES)
def record_type(request) -> RecordKit:
    return RecordKit(spec=registry.for_data_type(request.param).spec)
