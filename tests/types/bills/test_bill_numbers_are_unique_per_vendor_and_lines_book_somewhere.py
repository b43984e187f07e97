"""A bill's own rules: its vendor invoice number is unique per vendor (here and in the
emulated accounting system) and no longer than Railz takes, NetSuite needs a subsidiary, and
every line books to an account or an item, may bill a customer of the same connection and
names a billable status Railz knows."""

from __future__ import annotations

import pytest

from pushes.services.records import RecordInvalid, record_create, record_save_problems
from pushes.spec import LineData, RecordData
from railzpush.railz.datatypes import BILL
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    SubsidiaryFactory,
    VendorFactory,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS, demo_ref, invoice_data

pytestmark = pytest.mark.django_db


def bill(connection, *, vendor=None, number="V-1", lines=None, **values) -> RecordData:
    values.setdefault("status", "ready")
    return RecordData(
        connection=connection,
        vendor=vendor or VendorFactory(connection=connection),
        vendor_invoice_number=number,
        posted_date="2026-11-02",
        lines=lines
        or [LineData(quantity="1", unit_amount="5", account=AccountFactory(connection=connection))],
        **values,
    )


def problems(data) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in record_save_problems(data_type="bills", data=data)]


def test_a_vendor_invoice_number_is_unique_per_vendor_only():
    connection = ConnectionFactory()
    vendor = VendorFactory(connection=connection)
    record_create(data_type="bills", data=bill(connection, vendor=vendor, number="V-1"))

    assert problems(bill(connection, vendor=vendor, number="V-1")) == [
        ("vendorInvoiceNumber", "unique")
    ]
    assert problems(bill(connection, number="V-1")) == []


def test_a_vendor_invoice_number_is_as_long_as_railz_takes():
    limit = BILL.fields["vendorInvoiceNumber"].max_length
    draft = bill(ConnectionFactory(), number="X" * (limit + 1), status="draft")

    assert problems(draft) == [("vendorInvoiceNumber", "maxLength")]


def test_netsuite_needs_a_subsidiary_on_a_bill():
    connection = ConnectionFactory(service_name="oracleNetsuite")

    assert problems(bill(connection)) == [("subsidiaryRefs", "required")]
    chosen = [SubsidiaryFactory(connection=connection)]
    assert problems(bill(connection, subsidiaries=chosen)) == []


def test_a_line_books_to_an_account_or_an_item_and_bills_a_customer_of_its_connection():
    connection, other = ConnectionFactory(service_name="quickbooks"), ConnectionFactory()
    lines = [
        LineData(quantity="1", unit_amount="5"),
        LineData(
            quantity="1",
            unit_amount="5",
            account=AccountFactory(connection=connection),
            customer=CustomerFactory(connection=other),
            billable_status="billable",
        ),
        LineData(
            quantity="1",
            unit_amount="5",
            account=AccountFactory(connection=connection),
            billable_status="sometimes",
        ),
    ]

    with pytest.raises(RecordInvalid) as refused:
        record_create(data_type="bills", data=bill(connection, lines=lines))

    assert [(p.field, p.rule) for p in refused.value.problems] == [
        ("lines[1].customerRef", "sameConnection"),
        ("lines[2].billableStatus", "enum"),
        ("lines[0].accountRef", "required"),
    ]


def test_the_emulated_accounting_system_refuses_a_vendors_number_twice(emulator_client):
    def create(**overrides):
        data = invoice_data(DEMO_QUICKBOOKS)
        data = {
            "vendorRef": {"id": demo_ref(DEMO_QUICKBOOKS, "vendors")},
            "vendorInvoiceNumber": "V-1001",
            "postedDate": data["postedDate"],
            "lines": [{**data["lines"][0]}],
            **overrides,
        }
        answer = emulator_client.create("bills", connection_uuid=DEMO_QUICKBOOKS, data=data)
        return emulator_client.push_status(
            connection_uuid=DEMO_QUICKBOOKS, push_communication_id=answer["pushCommunicationId"]
        )["data"][0]

    assert create()["status"] == "success"
    refused = create()
    assert refused["status"] == "failed"
    assert refused["validation"]["errors"][0] == {
        "field": "vendorInvoiceNumber",
        "message": "Vendor invoice number V-1001 has already been used for vendor "
        + demo_ref(DEMO_QUICKBOOKS, "vendors"),
    }
    # Another vendor may use the same number.
    other = {"id": demo_ref(DEMO_QUICKBOOKS, "vendors", 1)}
    assert create(vendorRef=other)["status"] == "success"
