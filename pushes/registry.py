"""The record types railzpush can push: one `Pushable` per Railz data type.

The push pipeline knows nothing about invoices: it asks this registry for a record's
declaration, and the generic code reads it (`pushes.payloads` builds the `data`,
`pushes.record_checks` says whether the record is ready). Each type is a declaration
(`pushes.types.<data_type>.spec.SPEC`) named here by dotted path and imported on first use, so
loading the registry imports no model and no service (healthchecks' `TRANSPORTS`, zulip's
`WEBHOOK_INTEGRATIONS`). Adding a type is one line below.

The registry hands out declarations and holds no behaviour of its own: it imports nothing of
the app but `pushes.spec`, so the payload builder, the checks and the services can all ask it
without an import running back up.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from pushes.spec import FieldProblem
from railzpush.railz.datatypes import DATA_TYPES

if TYPE_CHECKING:
    from django.db import models

    from pushes.spec import DocumentSpec

__all__ = [
    "PUSHABLE_TYPES",
    "FieldProblem",
    "Pushable",
    "UnknownPushable",
    "for_data_type",
    "for_model",
    "pushables",
    "register",
]

# Railz dataType -> the dotted path of its declaration.
PUSHABLE_TYPES: dict[str, str] = {
    "invoices": "pushes.types.invoices.spec.SPEC",
    "bills": "pushes.types.bills.spec.SPEC",
    "invoiceCreditNotes": "pushes.types.invoice_credit_notes.spec.SPEC",
    "billCreditNotes": "pushes.types.bill_credit_notes.spec.SPEC",
    "journalEntries": "pushes.types.journal_entries.spec.SPEC",
    "customers": "pushes.types.customers.spec.SPEC",
    "vendors": "pushes.types.vendors.spec.SPEC",
}


@dataclass(frozen=True)
class Pushable:
    data_type: str  # Railz dataType, key of railzpush.railz.datatypes.DATA_TYPES
    model: type[models.Model]
    spec: DocumentSpec  # the declaration generic code reads

    def describe(self, record: models.Model) -> str:
        """ "Invoice INV-1001 for Acme Ltd": how messages name the record."""
        return self.spec.describe(record)


class UnknownPushable(LookupError):
    """Raised for a model or data type nobody registered as pushable."""


_BY_DATA_TYPE: dict[str, Pushable] = {}
_BY_MODEL: dict[type[models.Model], Pushable] = {}


def register(pushable: Pushable) -> Pushable:
    """Add a pushable type; one per data type and per model."""
    if pushable.data_type not in DATA_TYPES:
        raise ValueError(f"{pushable.data_type!r} is not a Railz data type the project knows")
    _load()
    for key, index in ((pushable.data_type, _BY_DATA_TYPE), (pushable.model, _BY_MODEL)):
        if key in index and index[key] != pushable:
            raise ValueError(f"{key} is already registered as pushable")
    _BY_DATA_TYPE[pushable.data_type] = pushable
    _BY_MODEL[pushable.model] = pushable
    return pushable


def _from_spec(spec: DocumentSpec) -> Pushable:
    return Pushable(data_type=spec.data_type, model=spec.model_class, spec=spec)


def _load() -> None:
    """Import every declared type once, on first use."""
    for data_type, dotted in PUSHABLE_TYPES.items():
        if data_type in _BY_DATA_TYPE:
            continue
        module, _, name = dotted.rpartition(".")
        spec = getattr(import_module(module), name)
        if spec.data_type != data_type:
            raise ValueError(f"{dotted} declares {spec.data_type}, not {data_type}")
        pushable = _from_spec(spec)
        _BY_DATA_TYPE[data_type] = pushable
        _BY_MODEL[pushable.model] = pushable


def for_model(model_or_instance: type[models.Model] | models.Model) -> Pushable:
    _load()
    model = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
    model = model._meta.concrete_model
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise UnknownPushable(f"{model._meta.verbose_name} records cannot be pushed") from None


def for_data_type(data_type: str) -> Pushable:
    _load()
    try:
        return _BY_DATA_TYPE[data_type]
    except KeyError:
        raise UnknownPushable(f"railzpush cannot push {data_type}") from None


def pushables() -> list[Pushable]:
    _load()
    return list(_BY_DATA_TYPE.values())
