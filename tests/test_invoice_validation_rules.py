"""Every rule a ready invoice is held to, with the message a person sees at the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from pushes.models import Invoice, ProviderPushOptions
from pushes.registry import FieldProblem
from pushes.services.invoices import (
    InvoiceInvalid,
    invoice_create,
    invoice_save_problems,
    invoice_update,
    invoice_validate,
)
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    ItemFactory,
    SubsidiaryFactory,
    TaxRateFactory,
    invoice_data,
    invoice_line,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection():
    return ConnectionFactory(service_name="quickbooks", business_name="Harbor Freight")


def problems_of(data, **kwargs) -> dict[str, str]:
    return {p.field: p.message for p in invoice_validate(data=data, **kwargs)}


def test_a_complete_invoice_has_no_problems(connection):
    assert invoice_validate(data=invoice_data(connection=connection)) == []


def test_customer_and_lines_are_required(connection):
    problems = problems_of(invoice_data(connection=connection, customer=None, lines=[]))

    assert problems == {
        "customerRef": "Customer is required: choose who the invoice is for.",
        "lines": "Add at least one line.",
    }


def test_lengths_are_railzs(connection):
    data = invoice_data(
        connection=connection,
        invoice_number="INV-" + "9" * 18,
        memo="m" * 4001,
        lines=[invoice_line(description="d" * 4001, account=AccountFactory(connection=connection))],
    )

    assert problems_of(data) == {
        "invoiceNumber": "Invoice number must be at most 21 characters; it has 22.",
        "memo": "Memo must be at most 4000 characters; it has 4001.",
        "lines[0].description": "Line 1: description must be at most 4000 characters; it has 4001.",
    }


@pytest.mark.parametrize("value", ["2025-02-30", "03/03/2025", "20250303"])
def test_dates_must_be_real_yyyy_mm_dd_dates(connection, value):
    problems = problems_of(invoice_data(connection=connection, posted_date=value))

    assert problems == {
        "postedDate": f"Posted date must be a date formatted as YYYY-MM-DD; got {value!r}."
    }


def test_dates_given_as_text_are_taken(connection):
    data = invoice_data(connection=connection, posted_date="2025-03-03", due_date="2025-03-31")

    assert invoice_create(data=data).due_date.isoformat() == "2025-03-31"


def test_the_due_date_is_not_before_the_posted_date(connection):
    problems = problems_of(
        invoice_data(connection=connection, posted_date="2025-03-03", due_date="2025-03-02")
    )

    assert problems == {"dueDate": "Due date 2025-03-02 is before the posted date 2025-03-03."}


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("CA", "Currency must be a three-letter ISO 4217 code such as CAD; got 'CA'."),
        ("C4D", "Currency must be a three-letter ISO 4217 code such as CAD; got 'C4D'."),
        ("XYZ", "XYZ is not an ISO 4217 currency code."),
    ],
)
def test_the_currency_is_an_iso_4217_code(connection, currency, message):
    assert problems_of(invoice_data(connection=connection, currency=currency)) == {
        "currency": message
    }


def test_the_currency_defaults_to_the_customers(connection):
    customer = CustomerFactory(connection=connection, currency="usd")

    invoice = invoice_create(
        data=invoice_data(connection=connection, customer=customer, currency="")
    )

    assert invoice.currency == "USD"


def test_the_currency_rate_is_positive(connection):
    assert problems_of(invoice_data(connection=connection, currency_rate="0")) == {
        "currencyRate": "Currency rate must be greater than 0."
    }


def test_line_quantities_and_amounts(connection):
    account = AccountFactory(connection=connection)
    data = invoice_data(
        connection=connection,
        lines=[
            invoice_line(account=account, quantity="0"),
            invoice_line(account=account, quantity=None, unit_amount=None),
            invoice_line(account=account, discount_percentage="100.5"),
            invoice_line(account=account, discount_percentage="-1"),
            invoice_line(account=account, unit_amount="10.12345"),
            invoice_line(account=account, quantity="abc"),
            invoice_line(account=account, unit_amount=10.5),
            invoice_line(account=account, unit_amount="1e20"),
        ],
    )

    assert problems_of(data) == {
        "lines[0].quantity": "Line 1: quantity must be greater than 0.",
        "lines[1].quantity": "Line 2: quantity is required.",
        "lines[1].unitAmount": "Line 2: unit amount is required.",
        "lines[2].discountPercentage": "Line 3: discount must be between 0 and 100 %.",
        "lines[3].discountPercentage": "Line 4: discount must be between 0 and 100 %.",
        "lines[4].unitAmount": "Line 5: unit amount can have at most 4 decimal places.",
        "lines[5].quantity": "Line 6: quantity must be a number; got 'abc'.",
        "lines[6].unitAmount": "Line 7: unit amount must be given as a decimal, not 10.5.",
        "lines[7].unitAmount": (
            "Line 8: unit amount is too large: at most 14 digits before the decimal point."
        ),
    }


def test_trailing_zeros_are_not_extra_decimal_places(connection):
    line = invoice_line(account=AccountFactory(connection=connection), unit_amount="10.500000")

    invoice = invoice_create(data=invoice_data(connection=connection, lines=[line]))

    assert invoice.lines.get().unit_amount == Decimal("10.5")


def test_archived_references_must_be_replaced(connection):
    archived = AccountFactory(
        connection=connection,
        name="Old sales",
        code="",
        account_type="",
        archived_at=timezone.now(),
    )
    data = invoice_data(connection=connection, lines=[invoice_line(account=archived)])

    assert problems_of(data) == {
        "lines[0].accountRef": (
            "Line 1: account Old sales is archived in the accounting system; choose another."
        )
    }


def test_references_of_another_connection_are_named(connection):
    other = ConnectionFactory(business_name="Old Mill Bakery", service_name="xero")
    customer = CustomerFactory(connection=other, name="Flour Co", email="", currency="")

    assert problems_of(invoice_data(connection=connection, customer=customer)) == {
        "customerRef": (
            "Customer Flour Co belongs to another connection (Old Mill Bakery (xero)); "
            "choose one of Harbor Freight (quickbooks)."
        )
    }


def test_xero_needs_an_account_or_an_item_on_every_line():
    xero = ConnectionFactory(service_name="xero")
    data = invoice_data(
        connection=xero,
        lines=[
            invoice_line(account=AccountFactory(connection=xero)),
            invoice_line(item=ItemFactory(connection=xero)),
            invoice_line(),
        ],
    )

    assert problems_of(data) == {
        "lines[2].accountRef": "Line 3: Xero needs an account or an item on every line; choose one."
    }


def test_other_providers_take_lines_without_account(connection):
    assert problems_of(invoice_data(connection=connection, lines=[invoice_line()])) == {}


def test_the_cached_push_options_add_the_providers_required_fields():
    netsuite = ConnectionFactory(service_name="oracleNetsuite")
    ProviderPushOptions.objects.create(
        connection=netsuite,
        data_type="invoices",
        fetched_at=timezone.now(),
        options=[
            {
                "title": "oracleNetsuite invoices POST",
                "requestType": "invoices",
                "serviceName": "oracleNetsuite",
                "method": "POST",
                "properties": {
                    "customerRef": {"type": "object", "required": True, "description": ""},
                    "subsidiaryRefs": {
                        "type": "array",
                        "required": True,
                        "description": "NetSuite records belong to a subsidiary: required.",
                    },
                    "lines.taxRateRef": {"type": "object", "required": True, "description": ""},
                    "memo": {"type": "string", "required": False, "description": "memo"},
                },
            }
        ],
    )
    data = invoice_data(connection=netsuite, memo="", lines=[invoice_line()])

    assert problems_of(data) == {
        "subsidiaryRefs": (
            "subsidiaryRefs is required by Oracle NetSuite (NetSuite records belong to a "
            "subsidiary: required)."
        ),
        "lines[0].taxRateRef": "Line 1: taxRateRef is required by Oracle NetSuite.",
    }
    data.subsidiaries = [SubsidiaryFactory(connection=netsuite)]
    data.lines = [invoice_line(tax_rate=TaxRateFactory(connection=netsuite))]
    assert problems_of(data) == {}


def test_an_invoice_number_is_used_once_per_connection(connection):
    first = invoice_create(data=invoice_data(connection=connection, invoice_number="INV-7"))

    duplicate = invoice_data(connection=connection, invoice_number="INV-7")
    elsewhere = invoice_data(connection=ConnectionFactory(), invoice_number="INV-7")

    assert problems_of(duplicate) == {
        "invoiceNumber": (
            f"Invoice number INV-7 is already used by invoice #{first.pk} of this connection; "
            "the accounting system would hold two invoices with one number."
        )
    }
    assert problems_of(elsewhere) == {}
    # Saving an invoice again is not a duplicate of itself.
    assert invoice_validate(invoice=first) == []


def test_a_connection_railz_no_longer_lists_cannot_take_a_ready_invoice():
    removed = ConnectionFactory(
        business_name="Old Mill Bakery", service_name="sageBusinessCloud", status="removed"
    )

    assert problems_of(invoice_data(connection=removed)) == {
        "connectionUuid": (
            "The connection Old Mill Bakery (sageBusinessCloud) is removed: invoices can "
            "only be pushed through an active connection."
        )
    }
    # A disconnected one pauses instead: its invoices still queue and wait.
    disconnected = ConnectionFactory(business_name="Old Mill Bakery 2", status="disconnected")
    assert "connectionUuid" not in problems_of(invoice_data(connection=disconnected))


def test_a_draft_may_be_incomplete_but_not_impossible(connection):
    incomplete = invoice_data(
        connection=connection, status="draft", customer=None, lines=[invoice_line(quantity=None)]
    )
    assert invoice_save_problems(data=incomplete) == []
    draft = invoice_create(data=incomplete)
    assert draft.status == "draft" and draft.customer is None

    too_long = invoice_data(connection=connection, status="draft", invoice_number="X" * 22)
    assert invoice_save_problems(data=too_long) == [
        FieldProblem(
            "invoiceNumber",
            "Invoice number must be at most 21 characters; it has 22.",
            "maxLength",
        )
    ]


def test_a_ready_invoice_with_problems_is_not_written(connection):
    with pytest.raises(InvoiceInvalid) as refused:
        invoice_create(data=invoice_data(connection=connection, customer=None))

    assert str(refused.value) == "Customer is required: choose who the invoice is for."
    assert refused.value.problems[0].field == "customerRef"
    assert not Invoice.objects.exists()


def test_making_a_draft_ready_checks_it_in_full(connection):
    draft = invoice_create(data=invoice_data(connection=connection, status="draft", customer=None))
    data = invoice_data(connection=connection, status="ready", customer=None)

    with pytest.raises(InvoiceInvalid, match="Customer is required"):
        invoice_update(invoice=draft, data=data)

    draft.refresh_from_db()
    assert draft.status == "draft"


def test_validation_reads_the_cache_and_never_calls_railz(connection, monkeypatch):
    import railzpush.railz

    def no_calls(*args, **kwargs):
        raise AssertionError("validation called Railz")

    monkeypatch.setattr(railzpush.railz, "get_client", no_calls)

    assert invoice_validate(data=invoice_data(connection=connection)) == []
