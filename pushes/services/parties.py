"""Changing a customer or vendor the accounting system already has: a record composed from its
mirrored row, whose push is then an update of that party (Railz `PUT .../{id}`)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from pushes import registry
from pushes.services.records import record_create
from pushes.spec import Kind, RecordData
from refs.models import Connection

__all__ = ["party_record_from_mirror"]

_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_ADDRESS_KEYS = {
    "line1": "line1",
    "line2": "line2",
    "city": "city",
    "region": "region",
    "country": "country",
    "postal_code": "postalCode",
}


def _text(value: Any, limit: int | None) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return text[:limit] if limit else text


def party_record_from_mirror(*, data_type: str, row_id: int, connection: Connection, user: Any):
    """The record that changes mirrored party `row_id` of `connection`: the one already composed
    for it, or a new draft holding its current values. LookupError if the row is not there."""
    spec = registry.for_data_type(data_type).spec
    model = spec.model_class
    mirrored = spec.column(spec.field_at_name("parent")).related_model
    row = mirrored.objects.filter(pk=row_id, connection=connection).first()
    if row is None:
        raise LookupError(f"No {spec.label.lower()} #{row_id} in {connection}.")
    existing = model.objects.filter(connection=connection, provider_record_id=row.remote_id)
    found = existing.order_by("-pk").first()
    if found is not None:
        return found
    values: dict[str, Any] = {
        "name": row.name,
        "contact_name": row.contact_name,
        "email": row.email,
        "phone": row.phone,
        "currency": row.currency,
        "parent": row.parent if row.parent_id and not row.parent.is_archived else None,
    }
    raw = row.raw if isinstance(row.raw, dict) else {}
    for prefix, key in (("billing", "billingAddress"), ("shipping", "shippingAddress")):
        address = raw.get(key) if isinstance(raw.get(key), dict) else {}
        for name, railz_key in _ADDRESS_KEYS.items():
            values[f"{prefix}_{name}"] = address.get(railz_key)
    # What the accounting system holds may not fit Railz's limits or formats: cut to fit, and
    # a country that is no ISO alpha-3 code left for the person to fill in, as a draft.
    for spec_field in spec.fields:
        if spec_field.kind is Kind.TEXT and spec_field.name in values:
            limit = spec.max_length(spec_field) or spec.column(spec_field).max_length
            values[spec_field.name] = _text(values[spec_field.name], limit)
    for prefix in ("billing", "shipping"):
        country = values[f"{prefix}_country"]
        values[f"{prefix}_country"] = country if _ALPHA3.match(country) else ""
    with transaction.atomic():
        record = record_create(
            data_type=data_type,
            data=RecordData(connection=connection, status="draft", **values),
            user=user,
        )
        model.objects.filter(pk=record.pk).update(provider_record_id=row.remote_id)
        record.provider_record_id = row.remote_id
    return record
