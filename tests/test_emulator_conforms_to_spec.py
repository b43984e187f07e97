"""What the emulator answers validates against Railz's own OpenAPI response schemas.

Every operation the product uses is called over real HTTP (through the project's client where
it can be) and the answer is validated with the spec's schema for that status. Invalid
requests of each kind the spec's rules name (missing required fields, strings too long, bad
dates, bad enums, wrong types) get a 400 envelope listing the problem, never a 500.
"""

import copy

import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.fixtures.emulator import (
    DEMO_NETSUITE,
    DEMO_QUICKBOOKS,
    DEMO_XERO,
    demo_ref,
    invoice_data,
    minimal_push_data,
)

SPEC_URI = "urn:railz-openapi-v2"


@pytest.fixture(scope="session")
def spec_validate(railz_spec):
    """validate(body, path, method, status): the spec's schema for that answer, refs resolved."""
    spec = copy.deepcopy(railz_spec)
    # The spec declares pushOptions `properties` as one Property object; Railz's docs (and the
    # emulator) key Property objects by field name. Validate the documented shape.
    property_ref = spec["components"]["schemas"]["PushOptionsData"]["properties"]["properties"]
    spec["components"]["schemas"]["PushOptionsData"]["properties"]["properties"] = {
        "type": "object",
        "additionalProperties": property_ref,
    }
    # PushStatusDataV2.batchId is typed as an empty-object ObjectId while its example (and
    # what Railz returns) is a 24-hex string: validate the string the example shows.
    spec["components"]["schemas"]["PushStatusDataV2"]["properties"]["batchId"] = {"type": "string"}
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4)
    )

    def validate(body, path, method, status):
        responses = spec["paths"][path][method]["responses"]
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        ref = {"$ref": SPEC_URI + schema["$ref"]}
        OAS30Validator(
            ref, registry=registry, format_checker=OAS30Validator.FORMAT_CHECKER
        ).validate(body)

    return validate


READS = [
    ("/v2/accounting/customers", DEMO_XERO),
    ("/v2/accounting/vendors", DEMO_XERO),
    ("/v2/accounting/accounts", DEMO_NETSUITE),
    ("/v2/accounting/taxRates", DEMO_NETSUITE),
    ("/v2/accounting/inventory", DEMO_QUICKBOOKS),
    ("/v2/accounting/trackingCategories", DEMO_NETSUITE),
    ("/v2/accounting/paymentMethods", DEMO_QUICKBOOKS),
]


@pytest.mark.parametrize(("path", "connection_uuid"), READS)
def test_reference_reads_conform(emulator, spec_validate, path, connection_uuid):
    response = emulator.get(path, connectionUuid=connection_uuid, limit=500)

    assert response.status_code == 200
    spec_validate(response.json(), path, "get", 200)


def test_a_read_still_being_prepared_conforms_as_202(emulator, spec_validate):
    emulator.control("set_data_ready", connectionUuid=DEMO_XERO, seconds=600)

    response = emulator.get("/v2/accounting/customers", connectionUuid=DEMO_XERO)

    assert response.status_code == 202
    spec_validate(response.json(), "/v2/accounting/customers", "get", 202)


def test_connections_businesses_and_business_info_conform(emulator, spec_validate):
    spec_validate(emulator.get("/v2/connections").json(), "/v2/connections", "get", 200)
    spec_validate(emulator.get("/v2/businesses").json(), "/v2/businesses", "get", 200)
    for connection_uuid in (DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE):
        body = emulator.get("/v2/businesses/info", connectionUuid=connection_uuid).json()
        spec_validate(body, "/v2/businesses/info", "get", 200)


def _bill_data(connection_uuid):
    return {
        "vendorRef": {"id": demo_ref(connection_uuid, "vendors")},
        "postedDate": "2024-11-02",
        "lines": [
            {
                "quantity": 2,
                "unitAmount": 10.0,
                "accountRef": {"id": demo_ref(connection_uuid, "accounts", 30)},
            }
        ],
    }


@pytest.mark.parametrize(
    ("data_type", "path", "make"),
    [
        ("invoices", "/v2/accounting/invoices", invoice_data),
        ("bills", "/v2/accounting/bills", _bill_data),
    ],
)
def test_create_update_delete_and_read_back_conform(
    emulator_client, spec_validate, data_type, path, make
):
    created = emulator_client.create(
        data_type, connection_uuid=DEMO_QUICKBOOKS, data=make(DEMO_QUICKBOOKS)
    )
    spec_validate(created, path, "post", 200)
    status = emulator_client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, push_communication_id=created["pushCommunicationId"]
    )
    spec_validate(status, "/v2/data/pushStatus", "get", 200)
    record_id = status["data"][0]["sourceObjectIds"][0]

    updated = emulator_client.update(
        data_type, connection_uuid=DEMO_QUICKBOOKS, record_id=record_id, data=make(DEMO_QUICKBOOKS)
    )
    spec_validate(updated, f"{path}/{{id}}", "put", 200)
    deleted = emulator_client.delete(
        data_type, connection_uuid=DEMO_QUICKBOOKS, record_id=record_id
    )
    spec_validate(deleted, f"{path}/{{id}}", "delete", 200)
    spec_validate(
        emulator_client.delete_status(connection_uuid=DEMO_QUICKBOOKS),
        "/v2/data/deleteStatus",
        "get",
        200,
    )


@pytest.mark.parametrize("path", ["/v2/accounting/invoices", "/v2/accounting/bills"])
def test_pushed_documents_read_back_in_the_get_shape(
    emulator, emulator_client, spec_validate, path
):
    data_type = path.rsplit("/", 1)[1]
    make = invoice_data if data_type == "invoices" else _bill_data
    emulator_client.create(data_type, connection_uuid=DEMO_QUICKBOOKS, data=make(DEMO_QUICKBOOKS))

    response = emulator.get(path, connectionUuid=DEMO_QUICKBOOKS)

    assert response.status_code == 200
    spec_validate(response.json(), path, "get", 200)


@pytest.mark.parametrize(
    "path", ["/v2/accounting/invoices/creditNotes", "/v2/accounting/bills/creditNotes"]
)
def test_demo_credit_notes_read_in_the_get_shape(emulator, spec_validate, path):
    response = emulator.get(path, connectionUuid=DEMO_QUICKBOOKS)

    assert response.status_code == 200
    body = response.json()
    spec_validate(body, path, "get", 200)
    assert body["data"] and all("remainingCredit" in note for note in body["data"])


def test_pending_and_failed_push_statuses_conform(emulator, emulator_client, spec_validate):
    emulator_client.create(
        "invoices",
        connection_uuid=DEMO_XERO,
        data=invoice_data(DEMO_XERO, customerRef={"id": "missing"}),
    )
    emulator.set_faults(connection_uuid=DEMO_XERO, stay_pending=True)
    emulator_client.create("invoices", connection_uuid=DEMO_XERO, data=invoice_data(DEMO_XERO))

    body = emulator_client.push_status(connection_uuid=DEMO_XERO)

    assert [p["status"] for p in body["data"]] == ["pending", "failed"]
    spec_validate(body, "/v2/data/pushStatus", "get", 200)


def test_batch_answers_conform(emulator_client, spec_validate):
    created = emulator_client.batch_create(
        "customers", connection_uuid=DEMO_QUICKBOOKS, items=[{"customerName": "Conformant"}]
    )
    spec_validate(created, "/v2/accounting/customers/batch", "post", 200)
    updated = emulator_client.batch_update(
        "customers",
        connection_uuid=DEMO_QUICKBOOKS,
        items=[{"customerRef": demo_ref(DEMO_QUICKBOOKS, "customers"), "customerName": "New"}],
    )
    spec_validate(updated, "/v2/accounting/customers/batch", "put", 200)
    spec_validate(
        emulator_client.push_status(connection_uuid=DEMO_QUICKBOOKS, batch_id=created["batchId"]),
        "/v2/data/pushStatus",
        "get",
        200,
    )


def test_push_options_conform_to_the_documented_shape(emulator_client, spec_validate):
    for connection_uuid in (DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE):
        body = emulator_client.push_options(connection_uuid=connection_uuid)
        spec_validate(body, "/v2/data/pushOptions", "get", 200)


def test_fire_webhooks_conforms_as_201(emulator, spec_validate):
    response = emulator.send(
        "POST",
        "/v2/sandbox/fireWebhooks",
        json={"connection": {"connectionUuid": DEMO_XERO, "event": "auth"}},
    )

    assert response.status_code == 201
    spec_validate(response.json(), "/v2/sandbox/fireWebhooks", "post", 201)
    emulator.wait_for_webhooks()


# --- errors -----------------------------------------------------------------------------------


def test_400_401_and_500_answers_conform(emulator, spec_validate):
    path = "/v2/accounting/customers"
    missing = emulator.get(path)
    unauthorized = emulator.get(path, token="x.y.z", connectionUuid=DEMO_XERO)
    emulator.set_faults(connection_uuid=DEMO_XERO, error_rate=1.0, error_status=500)
    broken = emulator.get(path, connectionUuid=DEMO_XERO)

    assert [missing.status_code, unauthorized.status_code, broken.status_code] == [400, 401, 500]
    spec_validate(missing.json(), path, "get", 400)
    spec_validate(unauthorized.json(), path, "get", 401)
    spec_validate(broken.json(), path, "get", 500)


def _line(**extra):
    return {"quantity": 1, "unitAmount": 10, "accountRef": {"id": "1"}, **extra}


INVALID = [
    ("invoices", {"lines": [_line()]}, "data.customerRef should not be empty"),
    ("invoices", {"customerRef": {"id": "1"}}, "data.lines should not be empty"),
    (
        "invoices",
        {"customerRef": {}, "lines": [_line()]},
        "data.customerRef.id should not be empty",
    ),
    (
        "invoices",
        {"customerRef": {"id": "1"}, "lines": [_line()], "invoiceNumber": "N" * 22},
        "data.invoiceNumber must be shorter than or equal to 21 characters",
    ),
    (
        "invoices",
        {"customerRef": {"id": "1"}, "lines": [_line()], "postedDate": "2024-13-01"},
        "data.postedDate must be formatted as yyyy-mm-dd",
    ),
    (
        "invoices",
        {
            "customerRef": {"id": "1"},
            "lines": [_line(trackingCategoryRefs=[{"id": "1", "type": "team"}])],
        },
        "data.lines[0].trackingCategoryRefs[0].type must be one of the following values",
    ),
    (
        "invoices",
        {"customerRef": {"id": "1"}, "lines": [_line(quantity="two")]},
        "data.lines[0].quantity must be a number",
    ),
    (
        "invoices",
        {"customerRef": {"id": "1"}, "lines": "one line"},
        "data.lines must be an array",
    ),
    (
        "invoices",
        {"customerRef": {"id": "1"}, "lines": [_line()], "memo": "m" * 4001},
        "data.memo must be shorter than or equal to 4000 characters",
    ),
    (
        "bills",
        {"vendorRef": {"id": "1"}, "lines": [{"accountRef": {"id": "1"}}]},
        "data.lines[0].unitAmount should not be empty",
    ),
    (
        "customers",
        {"customerName": "c" * 501},
        "data.customerName must be shorter than or equal to 500 characters",
    ),
    ("vendors", {"vendorName": 7}, "data.vendorName must be a string"),
]


@pytest.mark.parametrize(("data_type", "data", "expected"), INVALID)
def test_invalid_requests_get_a_400_listing_the_problem(
    emulator, spec_validate, data_type, data, expected
):
    path = {
        "invoices": "/v2/accounting/invoices",
        "bills": "/v2/accounting/bills",
        "customers": "/v2/accounting/customers",
        "vendors": "/v2/accounting/vendors",
    }[data_type]

    response = emulator.send("POST", path, json={"connectionUuid": DEMO_QUICKBOOKS, "data": data})

    assert response.status_code == 400
    spec_validate(response.json(), path, "post", 400)
    assert any(m.startswith(expected) for m in response.json()["error"]["message"]), response.json()


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {"data": {}},
        {"connectionUuid": DEMO_QUICKBOOKS},
        {"connectionUuid": DEMO_QUICKBOOKS, "data": []},
        {"connectionUuid": 5, "data": {"customerRef": {"id": 5}, "lines": [{}]}},
    ],
)
def test_malformed_envelopes_are_400_never_500(emulator, spec_validate, body):
    response = emulator.send("POST", "/v2/accounting/invoices", json=body)

    assert response.status_code == 400
    spec_validate(response.json(), "/v2/accounting/invoices", "post", 400)
    assert response.json()["error"]["message"]


def _create_operations():
    from railzpush.railz.datatypes import DATA_TYPES, Op

    for name, entry in DATA_TYPES.items():
        operation = entry.operations.get(Op.CREATE)
        if operation:
            for connection_uuid, service in (
                (DEMO_QUICKBOOKS, "quickbooks"),
                (DEMO_XERO, "xero"),
                (DEMO_NETSUITE, "oracleNetsuite"),
            ):
                if service in operation.providers:
                    yield pytest.param(name, operation.path, connection_uuid, id=name)
                    break


@pytest.mark.parametrize(("data_type", "path", "connection_uuid"), list(_create_operations()))
def test_every_create_in_the_registry_answers_in_its_spec_shape(
    emulator_client, spec_validate, data_type, path, connection_uuid
):
    answer = emulator_client.create(
        data_type,
        connection_uuid=connection_uuid,
        data=minimal_push_data(data_type, connection_uuid),
    )

    spec_validate(answer, path, "post", 200)
