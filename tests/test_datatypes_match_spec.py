"""The hand-written data type registry agrees with the Railz OpenAPI spec, field by field."""

import pytest

from railzpush.railz.datatypes import DATA_TYPES, INVOICE, PROVIDERS, Op
from railzpush.railz.schema import (
    Array,
    Boolean,
    Integer,
    Node,
    Number,
    Object,
    PassThrough,
    String,
)
from tests.railz_openapi import (
    WRITE_METHODS,
    data_dto,
    request_dto,
    resolve,
    spec_operation,
    supported_for,
)

OPERATIONS = [
    pytest.param(data_type, operation, id=f"{data_type.name}-{operation.op}")
    for data_type in DATA_TYPES.values()
    for operation in data_type.operations.values()
]
WITH_DATA = [p for p in OPERATIONS if p.values[1].data is not None]

# How each kind of operation is addressed, relative to the data type's collection path.
SHAPES = {
    Op.CREATE: ("POST", ""),
    Op.UPDATE: ("PUT", "/{id}"),
    Op.DELETE: ("DELETE", "/{id}"),
    Op.BATCH_CREATE: ("POST", "/batch"),
    Op.BATCH_UPDATE: ("PUT", "/batch"),
}
SPEC_DATE_FORMATS = ("date", "date-time")


def _kind(node: Node) -> str:
    kinds = {
        String: "string",
        Number: "number",
        Integer: "integer",
        Boolean: "boolean",
        Array: "array",
        Object: "object",
        PassThrough: "free-form object",
    }
    return kinds[type(node)]


def _spec_kind(schema: dict) -> str:
    if schema.get("type") == "object" and "properties" not in schema:
        return "free-form object"
    return schema.get("type", "object" if "properties" in schema else "?")


def differences(spec: dict, node: Node, schema: dict, path: str = "data") -> list[str]:
    """Every way `node` disagrees with the spec `schema` (type, fields, required, limits)."""
    schema = resolve(spec, schema)
    found = []
    if _kind(node) != _spec_kind(schema):
        return [f"{path}: {_kind(node)} here, {_spec_kind(schema)} in the spec"]
    if isinstance(node, String):
        spec_format = schema.get("format")
        checks = {
            "maxLength": (node.max_length, schema.get("maxLength")),
            "enum": (list(node.enum) if node.enum else None, schema.get("enum")),
            "format": (node.format, spec_format if spec_format in SPEC_DATE_FORMATS else None),
        }
        for rule, (ours, theirs) in checks.items():
            if ours != theirs:
                found.append(f"{path}: {rule} {ours!r} here, {theirs!r} in the spec")
    elif isinstance(node, Array):
        if node.min_items != schema.get("minItems"):
            found.append(
                f"{path}: minItems {node.min_items} here, {schema.get('minItems')} in spec"
            )
        found += differences(spec, node.items, schema["items"], f"{path}[]")
    elif isinstance(node, Object):
        spec_fields = schema["properties"]
        required = set(schema.get("required", ()))
        for name in sorted(set(spec_fields) - set(node.fields)):
            found.append(f"{path}.{name}: missing here")
        for name in sorted(set(node.fields) - set(spec_fields)):
            found.append(f"{path}.{name}: not in the spec")
        for name in [n for n in node.fields if n in spec_fields]:
            if node.fields[name].required != (name in required):
                found.append(f"{path}.{name}: required is {node.fields[name].required} here")
            found += differences(spec, node.fields[name], spec_fields[name], f"{path}.{name}")
    return found


def test_the_comparison_notices_changed_limits_flags_and_fields(railz_spec):
    spec_op = spec_operation(railz_spec, "POST", "/v2/accounting/invoices")
    line = INVOICE.fields["lines"].items
    changed = INVOICE.without("memo").extended(
        {
            "invoiceNumber": String(max_length=20),
            "lines": Array(line.extended({"quantity": Number(required=True)}), required=True),
            "customerRef": Object({"id": String()}, required=True),
            "extra": String(),
        }
    )

    assert differences(railz_spec, changed, data_dto(railz_spec, spec_op)) == [
        "data.memo: missing here",
        "data.extra: not in the spec",
        "data.invoiceNumber: maxLength 20 here, 21 in the spec",
        "data.customerRef.id: required is False here",
        "data.lines[].quantity: required is True here",
    ]


@pytest.mark.parametrize(("data_type", "operation"), OPERATIONS)
def test_operation_exists_in_the_spec(railz_spec, data_type, operation):
    assert spec_operation(railz_spec, operation.method, operation.path) is not None


@pytest.mark.parametrize(("data_type", "operation"), OPERATIONS)
def test_operation_method_and_path_follow_its_kind(data_type, operation):
    method, suffix = SHAPES[operation.op]
    collection = data_type.operations[Op.CREATE].path

    assert (operation.method, operation.path) == (method, collection + suffix)


@pytest.mark.parametrize(("data_type", "operation"), OPERATIONS)
def test_providers_are_the_spec_supported_for_list(railz_spec, data_type, operation):
    spec_op = spec_operation(railz_spec, operation.method, operation.path)

    assert operation.providers == supported_for(spec_op)
    assert operation.providers <= set(PROVIDERS)


@pytest.mark.parametrize(("data_type", "operation"), WITH_DATA)
def test_data_schema_matches_the_spec_data_dto(railz_spec, data_type, operation):
    spec_op = spec_operation(railz_spec, operation.method, operation.path)

    assert differences(railz_spec, operation.data, data_dto(railz_spec, spec_op)) == []


@pytest.mark.parametrize(("data_type", "operation"), WITH_DATA)
def test_envelope_matches_the_spec_request_dto(railz_spec, data_type, operation):
    spec_op = spec_operation(railz_spec, operation.method, operation.path)
    dto = request_dto(railz_spec, spec_op)
    body = operation.body

    assert set(body.fields) == set(dto["properties"])
    assert {n for n, node in body.fields.items() if node.required} == set(dto["required"])
    assert (
        differences(railz_spec, body.fields["connectionUuid"], dto["properties"]["connectionUuid"])
        == []
    )
    if "batch" in dto["properties"]:
        assert isinstance(body.fields["batch"], Array)
        assert body.fields["batch"].items is operation.data
    else:
        assert body.fields["data"].fields == operation.data.fields


@pytest.mark.parametrize(
    ("data_type", "operation"), [p for p in OPERATIONS if p.values[1].op is Op.DELETE]
)
def test_delete_has_no_body_and_takes_connection_uuid_in_the_query(
    railz_spec, data_type, operation
):
    spec_op = spec_operation(railz_spec, operation.method, operation.path)
    query = {p["name"]: p for p in spec_op["parameters"] if p["in"] == "query"}

    assert "requestBody" not in spec_op
    assert operation.data is None
    assert query["connectionUuid"]["required"] is True
    assert list(operation.body.fields) == ["connectionUuid"]


@pytest.mark.parametrize("data_type", DATA_TYPES.values(), ids=list(DATA_TYPES))
def test_every_spec_write_operation_on_the_data_type_is_registered(railz_spec, data_type):
    collection = data_type.operations[Op.CREATE].path
    in_spec = {
        (method.upper(), path)
        for path in (collection, f"{collection}/batch", f"{collection}/{{id}}")
        for method in railz_spec["paths"].get(path, {})
        if method in WRITE_METHODS
    }
    registered = {(o.method, o.path) for o in data_type.operations.values()}

    assert registered == in_spec


@pytest.mark.parametrize("data_type", DATA_TYPES.values(), ids=list(DATA_TYPES))
def test_read_path_is_a_spec_list_endpoint(railz_spec, data_type):
    assert "get" in railz_spec["paths"][data_type.read_path]


def test_the_only_other_string_format_is_the_website_uri_left_unchecked(railz_spec):
    """The spec says `format: uri` for website but its example is "www.acme.com"."""
    other_formats = set()

    def walk(schema, path):
        schema = resolve(railz_spec, schema)
        if schema.get("type") == "string" and schema.get("format") not in (
            None,
            *SPEC_DATE_FORMATS,
        ):
            other_formats.add((path, schema["format"]))
        for name, prop in schema.get("properties", {}).items():
            walk(prop, f"{path}.{name}" if path else name)
        if "items" in schema:
            walk(schema["items"], f"{path}[]")

    for param in WITH_DATA:
        operation = param.values[1]
        walk(data_dto(railz_spec, spec_operation(railz_spec, operation.method, operation.path)), "")

    assert other_formats == {("website", "uri")}


def test_the_batchable_types_name_their_batch_update_target_as_the_spec_does():
    from railzpush.railz.datatypes import DATA_TYPES, Op

    batchable = {name for name, entry in DATA_TYPES.items() if entry.batchable}
    assert batchable == {"customers", "vendors", "journalEntries"}
    for name in batchable:
        entry = DATA_TYPES[name]
        target = entry.operations[Op.BATCH_UPDATE].data.fields[entry.batch_target]
        assert target.required and entry.batch_target not in entry.operations[Op.UPDATE].data.fields
