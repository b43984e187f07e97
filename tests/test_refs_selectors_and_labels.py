"""What the composers read: active rows of one connection, labelled as a bookkeeper knows them."""

from decimal import Decimal

import pytest
from django.utils import timezone

from refs.models import (
    Connection,
    Currency,
    Customer,
    Item,
    Location,
    PaymentMethod,
    Subsidiary,
    TaxRate,
    TrackingCategory,
    TrackingOption,
)
from refs.selectors import REF_MODELS, connections_pushable, refs_for_connection

NOW = timezone.now()


def make(model, connection, remote_id, **fields):
    return model.objects.create(
        connection=connection, remote_id=remote_id, content_hash="x", synced_at=NOW, **fields
    )


@pytest.fixture
def pair(db):
    return (
        Connection.objects.create(connection_uuid="CON-1", service_name="xero", status="active"),
        Connection.objects.create(connection_uuid="CON-2", service_name="xero", status="expired"),
    )


def test_only_active_connections_are_pushable(pair):
    active, expired = pair
    assert list(connections_pushable()) == [active]
    assert active.can_push and not expired.can_push and not expired.is_active


def test_refs_for_connection_gives_that_connections_choosable_rows(pair):
    one, two = pair
    make(Customer, one, "1", name="Beta")
    make(Customer, one, "2", name="Alpha")
    make(Customer, one, "3", name="Gone", archived_at=NOW)
    make(Customer, one, "4", name="Closed", status="archived")
    make(Customer, two, "5", name="Other")
    assert [c.remote_id for c in refs_for_connection(connection=one, model=Customer)] == ["2", "1"]
    assert Customer.objects.active().count() == 3
    assert list(Customer.objects.for_connection(two).values_list("remote_id", flat=True)) == ["5"]


def test_every_reference_model_has_the_shared_fields_and_manager(pair):
    one, _ = pair
    for model in REF_MODELS:
        row = make(model, one, "r1", name="Something", raw={"id": "r1"})
        assert row in model.objects.active()
        assert {
            "connection",
            "remote_id",
            "name",
            "status",
            "archived_at",
            "raw",
            "content_hash",
            "synced_at",
        } <= {f.name for f in model._meta.fields}


@pytest.mark.parametrize(
    ("model", "fields", "label"),
    [
        (
            Customer,
            {"name": "Acme Ltd", "email": "ap@acme.com", "currency": "CAD"},
            "Acme Ltd · ap@acme.com · CAD",
        ),
        (Customer, {"name": "No Email Co"}, "No Email Co"),
        (
            TaxRate,
            {"name": "GST on Income", "total_rate": Decimal("5.000000")},
            "GST on Income (5%)",
        ),
        (TaxRate, {"name": "HST", "effective_rate": Decimal("12.5")}, "HST (12.5%)"),
        (TaxRate, {"name": "Exempt"}, "Exempt"),
        (Item, {"name": "Espresso Beans 1kg", "code": "ESP-1"}, "ESP-1 · Espresso Beans 1kg"),
        (PaymentMethod, {"name": "Visa", "method_type": "creditCard"}, "Visa (creditCard)"),
        (Currency, {"name": "Canadian Dollar", "code": "CAD"}, "CAD · Canadian Dollar"),
        (Subsidiary, {"name": "Summit Canada"}, "Summit Canada"),
        (Location, {"name": ""}, "r1"),
    ],
)
def test_rows_read_as_a_bookkeeper_knows_them(pair, model, fields, label):
    assert str(make(model, pair[0], "r1", **fields)) == label


def test_tracking_option_reads_category_colon_option(pair):
    region = make(TrackingCategory, pair[0], "R", name="Region", category_type="class")
    option = make(TrackingOption, pair[0], "R1", name="East", category=region)
    assert str(option) == "Region: East"
