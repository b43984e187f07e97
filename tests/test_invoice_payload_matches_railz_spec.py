"""The invoice payload builder sends exactly what Railz's invoice push schemas describe."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from pushes.models import Invoice
from pushes.payloads import (
    decimal_number,
    invoice_build_payload,
    payload_hash,
    record_build_payload,
)
from pushes.record_checks import record_validate
from pushes.registry import Pushable, UnknownPushable, for_data_type, for_model, register
from pushes.services.invoices import invoice_create, invoice_payload
from railzpush.railz.datatypes import Op, validate_request
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    ItemFactory,
    SubsidiaryFactory,
    TaxRateFactory,
    TrackingOptionFactory,
    invoice_data,
    invoice_line,
)

pytestmark = pytest.mark.django_db


def spec_validator(spec: dict, dto: str) -> OAS30Validator:
    """A validator for one request DTO; its `$ref`s resolve inside the spec's components."""
    schema = {"$ref": f"#/components/schemas/{dto}", "components": spec["components"]}
    return OAS30Validator(schema, format_checker=oas30_format_checker)


@pytest.fixture
def full_invoice():
    connection = ConnectionFactory(service_name="oracleNetsuite")
    option = TrackingOptionFactory(connection=connection, remote_id="40401", name="East")
    option.category.remote_id = "4040"
    option.category.category_type = "class"
    option.category.save()
    option.category_remote_id = "4040"
    option.category_type = "class"
    option.save()
    data = invoice_data(
        connection=connection,
        customer=CustomerFactory(connection=connection, remote_id="124"),
        invoice_number="INV-10546",
        currency="CAD",
        currency_rate=Decimal("1.13"),
        memo="Example invoice memo.",
        subsidiaries=[SubsidiaryFactory(connection=connection, remote_id="4")],
        lines=[
            invoice_line(
                description="Services rendered.",
                quantity=Decimal("3"),
                unit_amount=Decimal("100.5"),
                discount_percentage=Decimal("30"),
                account=AccountFactory(connection=connection, remote_id="200"),
                item=ItemFactory(connection=connection, remote_id="32"),
                tax_rate=TaxRateFactory(connection=connection, remote_id="12"),
                tracking_options=[option],
            ),
            invoice_line(description="", quantity="1", unit_amount="0.1", account=None),
        ],
    )
    return invoice_create(data=data)


def test_a_full_invoice_is_the_body_of_railzs_own_example(full_invoice):
    data = invoice_build_payload(full_invoice)

    assert data == {
        "invoiceNumber": "INV-10546",
        "postedDate": "2025-03-03",
        "dueDate": "2025-04-02",
        "currency": "CAD",
        "currencyRate": 1.13,
        "memo": "Example invoice memo.",
        "customerRef": {"id": "124"},
        "subsidiaryRefs": [{"id": "4"}],
        "lines": [
            {
                "description": "Services rendered.",
                "quantity": 3,
                "unitAmount": 100.5,
                "discountPercentage": 30,
                "accountRef": {"id": "200"},
                "inventoryRef": {"id": "32"},
                "taxRateRef": {"id": "12"},
                # PushInvoiceTrackingCategoryRef is {id, type}: the chosen row itself.
                "trackingCategoryRefs": [{"id": "40401", "type": "class"}],
            },
            {"quantity": 1, "unitAmount": 0.1},
        ],
    }
    # JSON numbers, written the way they were typed.
    text = json.dumps(data)
    assert '"unitAmount": 100.5' in text and '"unitAmount": 0.1' in text
    assert '"currencyRate": 1.13' in text


@pytest.mark.parametrize("dto", ["PushInvoiceV2Dto", "UpdateInvoiceV2Dto"])
def test_the_request_body_validates_against_the_spec(railz_spec, full_invoice, dto):
    body = invoice_payload(invoice=full_invoice)

    assert body["connectionUuid"] == full_invoice.connection.connection_uuid
    errors = [e.message for e in spec_validator(railz_spec, dto).iter_errors(body)]
    assert errors == []


@pytest.mark.parametrize("op", [Op.CREATE, Op.UPDATE])
def test_the_request_body_passes_the_projects_registry(full_invoice, op):
    assert validate_request("invoices", op, invoice_payload(invoice=full_invoice)) == []


def test_the_spec_validator_would_catch_a_wrong_body(railz_spec, full_invoice):
    # The check above is only worth something if it can fail.
    body = invoice_payload(invoice=full_invoice)
    body["data"]["lines"][0]["unitAmount"] = "100.50"
    del body["data"]["customerRef"]

    errors = list(spec_validator(railz_spec, "PushInvoiceV2Dto").iter_errors(body))

    assert len(errors) == 2


def test_empty_optional_fields_are_left_out_and_lines_stay():
    connection = ConnectionFactory()
    invoice = invoice_create(
        data=invoice_data(
            connection=connection,
            status="draft",
            customer=None,
            invoice_number="",
            posted_date=None,
            due_date=None,
            currency="",
            memo="",
            lines=[],
        )
    )

    assert invoice_build_payload(invoice) == {"lines": []}


def test_decimals_become_json_numbers_without_float_noise():
    assert decimal_number(Decimal("3.0000")) == 3
    assert isinstance(decimal_number(Decimal("3.0000")), int)
    assert json.dumps(decimal_number(Decimal("1234567.8901"))) == "1234567.8901"
    assert json.dumps(decimal_number(Decimal("0.3000"))) == "0.3"


def test_the_payload_hash_ignores_key_order_and_sees_every_change():
    first = {"lines": [{"quantity": 1}], "memo": "a"}

    assert payload_hash(first) == payload_hash({"memo": "a", "lines": [{"quantity": 1}]})
    assert payload_hash(first) != payload_hash({"memo": "a", "lines": [{"quantity": 2}]})


def test_invoices_are_registered_for_the_push_pipeline(full_invoice):
    pushable = for_data_type("invoices")

    assert for_model(Invoice) is pushable and for_model(full_invoice) is pushable
    # The pipeline builds and checks any record from the declaration the registry hands out.
    assert pushable.spec.model_class is Invoice
    assert record_build_payload(full_invoice) == invoice_build_payload(full_invoice)
    assert record_validate(record=full_invoice) == []
    assert pushable.describe(full_invoice).startswith("Invoice INV-10546 for Customer")


def test_the_registry_refuses_unknown_types_with_a_sentence():
    with pytest.raises(UnknownPushable, match="cannot push expenses"):
        for_data_type("expenses")
    with pytest.raises(ValueError, match="already registered"):
        register(Pushable(data_type="invoices", model=Invoice, spec=for_data_type("bills").spec))


def test_building_a_payload_reads_a_fixed_number_of_queries(
    full_invoice, django_assert_num_queries
):
    fresh = Invoice.objects.select_related("customer").get(pk=full_invoice.pk)
    # subsidiaries, lines (+ refs joined), tracking options, their categories
    with django_assert_num_queries(4):
        invoice_build_payload(fresh)
