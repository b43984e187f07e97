"""An invoice only ever points at its own connection's reference rows.

The services refuse another connection's row with a sentence; the database refuses it for any
writer that skips the services (raw ORM `.create()` / `.update()` / M2M `.add()`).
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from pushes.models import Invoice, InvoiceLine
from pushes.services.invoices import InvoiceInvalid, invoice_create, invoice_update
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


@pytest.fixture
def ours():
    return ConnectionFactory(business_name="Maple Leaf", service_name="quickbooks")


@pytest.fixture
def theirs():
    return ConnectionFactory(business_name="Old Mill", service_name="quickbooks")


@pytest.fixture
def invoice(ours):
    return invoice_create(data=invoice_data(connection=ours))


def refused_by_the_database():
    # IntegrityError on both SQLite (RAISE(ABORT)) and PostgreSQL (SQLSTATE 23000).
    return pytest.raises((IntegrityError, DatabaseError), match="belongs to another connection")


@pytest.mark.parametrize(
    ("field", "factory", "path", "label"),
    [
        ("account", AccountFactory, "lines[0].accountRef", "Line 1: account"),
        ("item", ItemFactory, "lines[0].inventoryRef", "Line 1: item"),
        ("tax_rate", TaxRateFactory, "lines[0].taxRateRef", "Line 1: tax rate"),
    ],
)
def test_the_service_refuses_a_line_reference_of_another_connection(
    ours, theirs, field, factory, path, label
):
    foreign = factory(connection=theirs)
    data = invoice_data(connection=ours, status="draft", lines=[invoice_line(**{field: foreign})])

    with pytest.raises(InvoiceInvalid) as refused:
        invoice_create(data=data)

    problem = refused.value.problems[0]
    assert problem.field == path
    assert problem.message.startswith(f"{label} {foreign} belongs to another connection")
    assert not Invoice.objects.exists()


def test_the_service_refuses_customer_subsidiary_and_tracking_of_another_connection(ours, theirs):
    data = invoice_data(
        connection=ours,
        status="draft",
        customer=CustomerFactory(connection=theirs),
        subsidiaries=[SubsidiaryFactory(connection=theirs)],
        lines=[invoice_line(tracking_options=[TrackingOptionFactory(connection=theirs)])],
    )

    with pytest.raises(InvoiceInvalid) as refused:
        invoice_create(data=data)

    assert [p.field for p in refused.value.problems] == [
        "customerRef",
        "subsidiaryRefs[0]",
        "lines[0].trackingCategoryRefs[0]",
    ]


def test_the_service_keeps_an_invoice_on_its_connection(invoice, theirs):
    data = invoice_data(connection=theirs)

    with pytest.raises(InvoiceInvalid, match="stays with the connection it was composed for"):
        invoice_update(invoice=invoice, data=data)


def test_the_database_refuses_another_connections_customer(invoice, ours, theirs):
    foreign = CustomerFactory(connection=theirs)

    with refused_by_the_database(), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(customer=foreign)
    with refused_by_the_database(), transaction.atomic():
        Invoice.objects.create(connection=ours, customer=foreign)


@pytest.mark.parametrize(
    ("field", "factory"),
    [("account", AccountFactory), ("item", ItemFactory), ("tax_rate", TaxRateFactory)],
)
def test_the_database_refuses_another_connections_line_reference(invoice, theirs, field, factory):
    foreign = factory(connection=theirs)
    line = invoice.lines.get()

    with refused_by_the_database(), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(**{field: foreign})
    with refused_by_the_database(), transaction.atomic():
        InvoiceLine.objects.create(invoice=invoice, **{field: foreign})


def test_the_database_refuses_another_connections_tracking_option_and_subsidiary(
    invoice, ours, theirs
):
    line = invoice.lines.get()
    Through = InvoiceLine.tracking_options.through

    with refused_by_the_database(), transaction.atomic():
        line.tracking_options.add(TrackingOptionFactory(connection=theirs))
    with refused_by_the_database(), transaction.atomic():
        Through.objects.create(
            invoiceline=line, trackingoption=TrackingOptionFactory(connection=theirs)
        )
    mine = TrackingOptionFactory(connection=ours)
    line.tracking_options.add(mine)
    with refused_by_the_database(), transaction.atomic():
        Through.objects.filter(invoiceline=line).update(
            trackingoption=TrackingOptionFactory(connection=theirs)
        )
    with refused_by_the_database(), transaction.atomic():
        invoice.subsidiaries.add(SubsidiaryFactory(connection=theirs))


def test_the_database_refuses_moving_an_invoice_away_from_its_references(invoice, theirs):
    # The invoice's customer is ours: the customer check catches it first.
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(connection=theirs)

    # Without a customer, the lines' account still ties it to its connection.
    Invoice.objects.filter(pk=invoice.pk).update(customer=None)
    with (
        pytest.raises((IntegrityError, DatabaseError), match="lines or subsidiaries"),
        transaction.atomic(),
    ):
        Invoice.objects.filter(pk=invoice.pk).update(connection=theirs)


def test_the_database_takes_the_invoices_own_rows(invoice, ours):
    line = invoice.lines.get()

    InvoiceLine.objects.filter(pk=line.pk).update(
        item=ItemFactory(connection=ours), tax_rate=TaxRateFactory(connection=ours)
    )
    line.tracking_options.add(TrackingOptionFactory(connection=ours))
    invoice.subsidiaries.add(SubsidiaryFactory(connection=ours))

    assert InvoiceLine.objects.filter(item__connection=ours, tax_rate__connection=ours).count() == 1
