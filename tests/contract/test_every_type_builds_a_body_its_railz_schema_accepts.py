"""Every declared type builds, from a complete record, a body that its Railz operations' schemas
accept: the project's own schema (what is checked before a push) and Railz's OpenAPI spec."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from pushes.payloads import record_request_body
from pushes.services.records import record_validate
from railzpush.railz.datatypes import Op, validate_request
from tests.factories import ConnectionFactory
from tests.railz_openapi import spec_operation

pytestmark = pytest.mark.django_db

BODY_OPS = (Op.CREATE, Op.UPDATE)


def openapi_problems(railz_spec: dict, method: str, path: str, body: dict) -> list[str]:
    operation = spec_operation(railz_spec, method, path)
    schema = {
        **operation["requestBody"]["content"]["application/json"]["schema"],
        "components": railz_spec["components"],
    }
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [error.message for error in validator.iter_errors(body)]


@pytest.mark.parametrize("service_name", ["xero", "quickbooks", "oracleNetsuite"])
def test_a_complete_record_is_ready_and_its_body_matches_every_operation(
    record_type, railz_spec, service_name
):
    connection = ConnectionFactory(service_name=service_name)
    record = record_type.create(connection=connection, full=True)
    body = record_request_body(record)

    assert record_validate(record=record) == []
    operations = record_type.spec.railz.operations
    checked = [op for op in BODY_OPS if op in operations]
    assert Op.CREATE in checked
    for op in checked:
        operation = operations[op]
        assert validate_request(record_type.data_type, op, body) == []
        assert openapi_problems(railz_spec, operation.method, operation.path, body) == []


def test_the_check_would_catch_a_body_railz_refuses(record_type, railz_spec):
    # The assertions above are only worth something if they can fail.
    record = record_type.create(connection=ConnectionFactory())
    body = record_request_body(record)
    del body["connectionUuid"]
    body["data"]["currency"] = 840
    operation = record_type.spec.railz.operations[Op.CREATE]

    assert len(validate_request(record_type.data_type, Op.CREATE, body)) == 2
    assert len(openapi_problems(railz_spec, operation.method, operation.path, body)) == 2


def test_a_stored_body_that_breaks_the_schema_is_a_problem_and_never_a_push(
    record_type, monkeypatch
):
    record = record_type.create(connection=ConnectionFactory())
    # A builder fault of ours: a code sent as a number.
    from pushes import payloads

    real = payloads.record_build_payload

    def faulty(record):
        data = real(record)
        data["currency"] = 840
        return data

    monkeypatch.setattr("pushes.record_checks.record_build_payload", faulty)
    problems = record_validate(record=record)

    assert [(p.field, p.rule) for p in problems] == [("currency", "schema")]
    assert "nothing was sent" in problems[0].message
