"""What a record looks like on the wire: the `data` of its Railz push body, built from the model.

Builders return plain JSON-ready dicts: amounts as JSON numbers (never strings, never binary
floats with noise: a Decimal of 100.5 goes out as 100.5), dates as YYYY-MM-DD, references as
`{"id": <remote id>}`, and empty optional fields left out, because Railz reads an empty string
as a value (an empty `memo` would blank the provider's own).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from pushes import registry
from pushes.read_memo import memoized
from pushes.spec import DocumentSpec, Field, Kind
from pushes.tracking import tracking_category_refs

__all__ = [
    "decimal_number",
    "invoice_build_payload",
    "invoice_describe",
    "invoice_lines_prefetch",
    "invoice_request_body",
    "payload_hash",
    "record_build_new_payload",
    "record_build_payload",
    "record_describe",
    "record_request_body",
]


def invoice_lines_prefetch() -> Prefetch:
    """What building an invoice's payload reads of its lines, in a fixed number of queries."""
    return _spec("invoices").lines_prefetch()


def _spec(data_type: str) -> DocumentSpec:
    return registry.for_data_type(data_type).spec


def decimal_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number Railz expects: 3 -> 3, 100.5000 -> 100.5.

    The stored decimals (at most 10 places, 18 digits) round-trip through a float's shortest
    repr exactly, so the number written is the number typed.
    """
    if value == value.to_integral_value():
        return int(value)
    return float(value.normalize())


def payload_hash(data: dict[str, Any]) -> str:
    """A stable hash of a push `data` object: same content, same hash, whatever the key order.

    The push pipeline stores it as `last_pushed_hash` when a push succeeds; the record keeps
    the hash of what it would push now in `payload_hash`, and the two differ once it changed.
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ref(record: Any) -> dict[str, str] | None:
    return {"id": record.remote_id} if record is not None else None


def _filled(row: Any, fields: Any, many: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields of `row` that have a value, by path; several fields may share a path
    (a line's customer and vendor are both its entityRef), and the one filled wins.
    `many` gives the rows of the many-valued fields of a row not saved yet."""
    values = ((f.path, _value(row, f, many)) for f in fields)
    return {path: value for path, value in values if value not in (None, "", [])}


class _Given:
    """Rows given as they are, read as a many-to-many manager's `all()` would be."""

    def __init__(self, rows: Any) -> None:
        self.rows = list(rows or ())

    def all(self) -> list[Any]:
        return self.rows


def _value(row: Any, spec_field: Field, many: dict[str, Any] | None = None) -> Any:
    """One field of a record or line as it goes in the body."""
    kind = spec_field.kind
    if many is not None and kind in (Kind.REFS, Kind.TRACKING):
        value = _Given(many.get(spec_field.name))
    else:
        value = getattr(row, spec_field.name)
    if kind is Kind.REF:
        ref = _ref(value)
        return {**ref, "type": spec_field.ref_type} if ref and spec_field.ref_type else ref
    if kind is Kind.LINK:
        return [{"type": value.link_type, "id": value.remote_id}] if value is not None else None
    if kind is Kind.REFS:
        return [_ref(r) for r in sorted(value.all(), key=lambda r: r.remote_id)]
    if kind is Kind.TRACKING:
        return tracking_category_refs(value.all())
    if value is None:
        return None
    if kind is Kind.DECIMAL:
        return decimal_number(value)
    if kind is Kind.DATE:
        return value.isoformat()
    return value


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"billingAddress.city": "Ottawa"}` as `{"billingAddress": {"city": "Ottawa"}}`; an
    object none of whose keys has a value is left out, as an empty field is."""
    data: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, key = path.split(".")
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[key] = value
    return data


def record_build_payload(record: Any, op: str = "create") -> dict[str, Any]:
    """The `data` of the record's `op` body (create, or an update), read from its declaration.

    An update sends the create body unless the declaration gives that operation its own
    (`DocumentSpec.bodies`). Reads the record's lines and references in a fixed number of
    queries (none when they were prefetched with the declaration's `lines_prefetch()`).
    """
    if record.pk is None:
        data = _build_payload(record)
    else:
        # Within one bulk action, validating a record and writing its push build the body once.
        key = ("payload", type(record), record.pk, id(record))
        data = memoized(key, lambda: _build_payload(record))
    own_body = dict(registry.for_model(record).spec.bodies).get(op)
    return own_body(data) if own_body is not None else data


def _build_payload(record: Any) -> dict[str, Any]:
    """The create body's `data`."""
    spec = registry.for_model(record).spec
    spec.prefetch(record)
    data = _nested(_filled(record, spec.fields))
    if spec.has_lines:
        # `lines` is required by Railz even when empty: an empty list says "no lines" out loud.
        data["lines"] = [_filled(line, spec.line_fields) for line in record.lines.all()]
    return data


def record_build_new_payload(
    record: Any,
    *,
    many: dict[str, Any],
    lines: list[tuple[Any, dict[str, Any]]],
) -> dict[str, Any]:
    """The create body's `data` of a record not saved yet (a bulk write hashes what it is about
    to insert): `many` its many-valued references by field, `lines` each line (unsaved) with
    its own. The same body `record_build_payload` builds once the record is saved."""
    spec = registry.for_model(record).spec
    data = _nested(_filled(record, spec.fields, many))
    if spec.has_lines:
        data["lines"] = [_filled(line, spec.line_fields, own) for line, own in lines]
    return data


def record_request_body(record: Any) -> dict[str, Any]:
    """The whole create body: `{"connectionUuid", "data"}`."""
    return {
        "connectionUuid": record.connection.connection_uuid,
        "data": record_build_payload(record),
    }


def record_describe(record: Any) -> str:
    """A sentence naming the record for people: "Invoice INV-1001 for Acme Ltd"."""
    return registry.for_model(record).spec.describe(record)


# The invoice's names, kept for callers that build an invoice's body by name.
invoice_build_payload = record_build_payload
invoice_request_body = record_request_body
invoice_describe = record_describe
