"""GET /v2/data/pushOptions: which fields each provider needs, per data type and method.

The answer follows Railz's docs, where `properties` is an object keyed by field name
({"customerRef": {type, description, required, enumValues}, ...}); the OpenAPI spec declares a
single Property object there instead, which no real answer looks like. Nested fields are keyed
by their dotted path ("lines.accountRef").

Fields come from the project's own registry (the spec's request schemas); the provider rules
that the spec cannot express are added per provider below.
"""

from __future__ import annotations

from railzpush.emulator.models import EmuConnection
from railzpush.emulator.responses import ApiError

# (service, dataType) -> {field path: (required, description)} on top of the spec's schema.
PROVIDER_FIELDS = {
    ("xero", "invoices"): {
        "lines.accountRef": (
            False,
            "Required on every line that has no inventoryRef: Xero needs an account code or "
            "an item code on each line.",
        ),
        "lines.inventoryRef": (
            False,
            "Required on every line that has no accountRef.",
        ),
    },
    ("oracleNetsuite", "invoices"): {
        "subsidiaryRefs": (True, "NetSuite records belong to a subsidiary: required."),
    },
    ("oracleNetsuite", "bills"): {
        "subsidiaryRefs": (True, "NetSuite records belong to a subsidiary: required."),
    },
}


def _type_name(node) -> str:
    from railzpush.railz import schema

    return {
        schema.String: "string",
        schema.Number: "number",
        schema.Integer: "integer",
        schema.Boolean: "boolean",
        schema.Array: "array",
        schema.Object: "object",
        schema.PassThrough: "object",
    }.get(type(node), "string")


def _properties(node, prefix: str, into: dict) -> None:
    from railzpush.railz import schema

    for name, child in node.fields.items():
        path = f"{prefix}{name}"
        enum = list(getattr(child, "enum", None) or [])
        description = f"{name}"
        max_length = getattr(child, "max_length", None)
        if max_length:
            description += f" (at most {max_length} characters)"
        if getattr(child, "format", None) == "date":
            description += " (yyyy-mm-dd)"
        into[path] = {
            "type": _type_name(child),
            "description": description,
            "required": bool(child.required),
            "enumValues": enum,
        }
        inner = child.items if isinstance(child, schema.Array) else child
        # A reference is {"id"}: describing its id adds nothing.
        if isinstance(inner, schema.Object) and set(inner.fields) != {"id"}:
            _properties(inner, f"{path}.", into)


def push_options(*, connection: EmuConnection, data_type: str | None) -> list[dict]:
    """The pushOptions entries for a connection's provider, one per data type and method."""
    from railzpush.railz.datatypes import DATA_TYPES

    if data_type and data_type not in DATA_TYPES:
        raise ApiError(400, f"dataType {data_type} cannot be pushed")
    service = connection.service_name
    entries = []
    for name, entry in DATA_TYPES.items():
        if data_type and name != data_type:
            continue
        for operation in entry.operations.values():
            if service not in operation.providers or operation.data is None:
                continue
            properties: dict[str, dict] = {}
            _properties(operation.data, "", properties)
            for path, (required, description) in PROVIDER_FIELDS.get((service, name), {}).items():
                base = properties.get(path, {"type": "object", "enumValues": []})
                properties[path] = {**base, "required": required, "description": description}
            method = operation.method.upper()
            batch = " batch" if "batch" in operation.op.value else ""
            entries.append(
                {
                    "title": f"{service} {name}{batch} {method}",
                    "requestType": name,
                    "serviceName": service,
                    "method": method,
                    "properties": properties,
                }
            )
    return entries
