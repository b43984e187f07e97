"""The record types railzpush can push: one `Pushable` per Railz data type.

The push pipeline knows nothing about invoices: it asks this registry how to build a record's
`data`, whether the record is ready, and how to name it in messages. Adding bills later is one
more `register(...)` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from pushes.models import Invoice
from pushes.payloads import invoice_build_payload, invoice_describe
from railzpush.railz.datatypes import DATA_TYPES

__all__ = [
    "FieldProblem",
    "Pushable",
    "UnknownPushable",
    "for_data_type",
    "for_model",
    "pushables",
    "register",
]


@dataclass(frozen=True)
class FieldProblem:
    """One reason a record cannot be pushed, at the field it concerns.

    `field` is the path in the Railz body (`invoiceNumber`, `lines[2].accountRef`, "" for the
    record as a whole): the REST API returns it as is and the admin shows `message` at the
    matching form or inline field.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Pushable:
    data_type: str  # Railz dataType, key of railzpush.railz.datatypes.DATA_TYPES
    model: type[models.Model]
    build_payload: Callable[[Any], dict]  # the `data` object sent (create and update)
    validate: Callable[[Any], list[FieldProblem]]  # every problem; [] means ready to push
    describe: Callable[[Any], str]  # "Invoice INV-1001 for Acme Ltd"


class UnknownPushable(LookupError):
    """Raised for a model or data type nobody registered as pushable."""


_BY_DATA_TYPE: dict[str, Pushable] = {}
_BY_MODEL: dict[type[models.Model], Pushable] = {}


def register(pushable: Pushable) -> Pushable:
    """Add a pushable type; one per data type and per model."""
    if pushable.data_type not in DATA_TYPES:
        raise ValueError(f"{pushable.data_type!r} is not a Railz data type the project knows")
    for key, index in ((pushable.data_type, _BY_DATA_TYPE), (pushable.model, _BY_MODEL)):
        if key in index and index[key] != pushable:
            raise ValueError(f"{key} is already registered as pushable")
    _BY_DATA_TYPE[pushable.data_type] = pushable
    _BY_MODEL[pushable.model] = pushable
    return pushable


def for_model(model_or_instance: type[models.Model] | models.Model) -> Pushable:
    model = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
    model = model._meta.concrete_model
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise UnknownPushable(f"{model._meta.verbose_name} records cannot be pushed") from None


def for_data_type(data_type: str) -> Pushable:
    try:
        return _BY_DATA_TYPE[data_type]
    except KeyError:
        raise UnknownPushable(f"railzpush cannot push {data_type}") from None


def pushables() -> list[Pushable]:
    return list(_BY_DATA_TYPE.values())


def _invoice_validate(invoice: Invoice) -> list[FieldProblem]:
    # The services import FieldProblem from here: import them when first used, not at load.
    from pushes.services.invoices import invoice_validate

    return invoice_validate(invoice=invoice)


register(
    Pushable(
        data_type="invoices",
        model=Invoice,
        build_payload=invoice_build_payload,
        validate=_invoice_validate,
        describe=invoice_describe,
    )
)
