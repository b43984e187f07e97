"""Reading the Railz OpenAPI spec (the `railz_spec` fixture) in tests: refs, DTOs, examples."""

import re

WRITE_METHODS = ("post", "put", "patch", "delete")


def resolve(spec: dict, schema: dict) -> dict:
    """The schema a `$ref` (or a single-element `allOf` wrapper) points to."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            schema = spec["components"]["schemas"][name]
        elif len(schema.get("allOf", ())) == 1:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = {**resolve(spec, schema["allOf"][0]), **rest}
        else:
            return schema


def spec_operation(spec: dict, method: str, path: str) -> dict | None:
    return spec["paths"].get(path, {}).get(method.lower())


def supported_for(operation: dict) -> set[str]:
    """The providers of an operation's `**Supported for:**` list (`quickbooks` `xero` ...)."""
    description = operation.get("description", "")
    match = re.search(r"\*\*Supported for:\*\*(.*)", description, re.S)
    assert match, f"no Supported for list in {operation.get('operationId')}"
    return set(re.findall(r"`([^`]+)`", match.group(1)))


def request_dto(spec: dict, operation: dict) -> dict:
    return resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"])


def data_dto(spec: dict, operation: dict) -> dict:
    """The schema of the request's `data` object, or of each `batch[]` item."""
    properties = request_dto(spec, operation)["properties"]
    if "batch" in properties:
        return resolve(spec, resolve(spec, properties["batch"])["items"])
    return resolve(spec, properties["data"])


def example_for(spec: dict, schema: dict) -> object:
    """A value for `schema` assembled from the spec's own `example`s (one item per array)."""
    schema = resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "properties" in schema:
        values = {name: example_for(spec, prop) for name, prop in schema["properties"].items()}
        return {name: value for name, value in values.items() if value is not None}
    if schema.get("type") == "array":
        item = example_for(spec, schema["items"])
        return [] if item is None else [item]
    return None
