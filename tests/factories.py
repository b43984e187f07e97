"""factory-boy factories for reference rows and invoices, and the invoice tests' fixtures.

Reference rows are built the way a sync leaves them (remote id, name, content hash, synced
time); an invoice is built through the services, so tests start from what staff would have.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
import pytest
from django.utils import timezone

from refs.models import (
    Account,
    Connection,
    Customer,
    Item,
    OpenBill,
    OpenBillCreditNote,
    OpenInvoice,
    OpenInvoiceCreditNote,
    Subsidiary,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    Vendor,
)

__all__ = [
    "AccountFactory",
    "ConnectionFactory",
    "CustomerFactory",
    "ItemFactory",
    "OpenBillCreditNoteFactory",
    "OpenBillFactory",
    "OpenInvoiceCreditNoteFactory",
    "OpenInvoiceFactory",
    "SubsidiaryFactory",
    "TaxRateFactory",
    "TrackingCategoryFactory",
    "TrackingOptionFactory",
    "VendorFactory",
    "invoice_data",
    "invoice_line",
    "invoice_plain_static",
    "open_document_factory",
]


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    connection_uuid = factory.Sequence(lambda n: f"CON-7a1b2c3d-{n:04d}-4c5a-8b2e-7d1e3f5a{n:04d}")
    business_name = factory.Sequence(lambda n: f"Business {n}")
    service_name = "xero"
    status = Connection.Status.ACTIVE
    base_currency = "CAD"


class RefFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    connection = factory.SubFactory(ConnectionFactory)
    remote_id = factory.Sequence(lambda n: str(1000 + n))
    name = factory.Sequence(lambda n: f"Record {n}")
    status = "active"
    content_hash = "0" * 32
    synced_at = factory.LazyFunction(timezone.now)


class CustomerFactory(RefFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    currency = "CAD"


class VendorFactory(RefFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n}")
    currency = "CAD"


class AccountFactory(RefFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Sales {n}")
    code = factory.Sequence(lambda n: str(200 + n))
    account_type = "revenue"


class TaxRateFactory(RefFactory):
    class Meta:
        model = TaxRate

    name = "GST"
    effective_rate = Decimal("5")
    total_rate = Decimal("5")


class ItemFactory(RefFactory):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"Item {n}")
    code = factory.Sequence(lambda n: f"ITEM-{n}")


class TrackingCategoryFactory(RefFactory):
    class Meta:
        model = TrackingCategory

    name = "Region"
    category_type = TrackingCategory.Type.LOCATION


class TrackingOptionFactory(RefFactory):
    class Meta:
        model = TrackingOption

    category = factory.SubFactory(
        TrackingCategoryFactory, connection=factory.SelfAttribute("..connection")
    )
    category_remote_id = factory.SelfAttribute("category.remote_id")
    category_type = factory.SelfAttribute("category.category_type")
    name = factory.Sequence(lambda n: f"Option {n}")


class SubsidiaryFactory(RefFactory):
    class Meta:
        model = Subsidiary

    name = factory.Sequence(lambda n: f"Subsidiary {n}")


def invoice_line(**overrides):
    """An InvoiceLineData with a sensible amount; overrides name its fields."""
    from pushes.services.invoices import InvoiceLineData

    values = {"description": "Roasting services", "quantity": "2", "unit_amount": "100.50"}
    values.update(overrides)
    return InvoiceLineData(**values)


def invoice_data(*, connection, lines=None, **overrides):
    """An InvoiceData that passes every check for `connection` (a ready, complete invoice)."""
    from pushes.services.invoices import InvoiceData

    if "customer" not in overrides:
        overrides["customer"] = CustomerFactory(connection=connection)
    if lines is None:
        lines = [invoice_line(account=AccountFactory(connection=connection))]
    values = {
        "connection": connection,
        "status": "ready",
        "invoice_number": "INV-1001",
        "posted_date": dt.date(2025, 3, 3),
        "due_date": dt.date(2025, 4, 2),
        "currency": "CAD",
        "memo": "March roasting",
        "lines": lines,
    }
    values.update(overrides)
    return InvoiceData(**values)


@pytest.fixture
def invoice_plain_static(settings):
    """Admin pages render {% static %} without a collected manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


class _OpenDocumentFactory(RefFactory):
    name = factory.Sequence(lambda n: f"DOC-{1000 + n}")
    status = "active"
    posted_date = dt.date(2026, 10, 1)
    due_date = dt.date(2026, 10, 31)
    currency = "CAD"
    total_amount = Decimal("1000.00")
    amount_due = Decimal("1000.00")
    document_status = "open"


def _open_document_factory_of(model) -> type[_OpenDocumentFactory]:
    """A factory of one mirror of open documents; give `party` (a Customer or Vendor, as the
    model's `party_field` says) to own the row."""
    return type(
        f"{model.__name__}Factory",
        (_OpenDocumentFactory,),
        {
            "__doc__": f"{model._meta.verbose_name.capitalize()} of the accounting system.",
            "Meta": type("Meta", (), {"model": model}),
            "Params": type("Params", (), {"party": None}),
            model.party_field: factory.LazyAttribute(lambda o: o.party),
            "party_remote_id": factory.LazyAttribute(
                lambda o: o.party.remote_id if o.party else ""
            ),
        },
    )


OpenInvoiceFactory = _open_document_factory_of(OpenInvoice)
OpenBillFactory = _open_document_factory_of(OpenBill)
# A credit note's `amount_due` is its remaining credit.
OpenInvoiceCreditNoteFactory = _open_document_factory_of(OpenInvoiceCreditNote)
OpenBillCreditNoteFactory = _open_document_factory_of(OpenBillCreditNote)


def open_document_factory(model):
    return {
        OpenInvoice: OpenInvoiceFactory,
        OpenBill: OpenBillFactory,
        OpenInvoiceCreditNote: OpenInvoiceCreditNoteFactory,
        OpenBillCreditNote: OpenBillCreditNoteFactory,
    }[model]
