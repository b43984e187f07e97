"""Customers and vendors are reference data too: once a push of one succeeds, the mirror holds
it (every composer can choose it without a sync), and a changed one shows its new values."""

from __future__ import annotations

import pytest

from pushes.services.push_requests import (
    push_apply_status,
    push_request_create,
    push_request_submit,
)
from pushes.services.records import record_update
from pushes.spec import RecordData
from refs.models import Customer, Vendor
from tests.factories import ConnectionFactory
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, status_item

pytestmark = pytest.mark.django_db

MIRRORS = {"customers": Customer, "vendors": Vendor}


def _party(data_type: str, connection, **values):
    from pushes.services.records import record_create

    return record_create(
        data_type=data_type,
        data=RecordData(connection=connection, status="ready", **values),
    )


def _pushed(record, user, remote_id: str, client=None):
    push = push_request_create(record=record, user=user)
    push_request_submit(push_request_id=push.pk, client=client or FakePushClient())
    push.refresh_from_db()
    push_apply_status(
        push=push, item=status_item(push, "success", source_object_ids=(remote_id,)), source="poll"
    )
    record.refresh_from_db()
    return record


@pytest.mark.parametrize("data_type", ["customers", "vendors"])
def test_a_created_party_enters_the_mirror_and_an_edit_shows_its_new_values(data_type, push_staff):
    connection = ConnectionFactory(service_name="quickbooks")
    record = _party(
        data_type,
        connection,
        name="Maple Leaf Roasters",
        email="ap@maple.example",
        currency="CAD",
        billing_city="Ottawa",
        billing_country="CAN",
    )
    mirror = MIRRORS[data_type]
    assert not mirror.objects.filter(connection=connection).exists()

    client = FakePushClient()  # one client: each push gets its own communication id
    record = _pushed(record, push_staff, "7001", client)

    row = mirror.objects.active().get(connection=connection, remote_id="7001")
    assert (row.name, row.email, row.currency) == ("Maple Leaf Roasters", "ap@maple.example", "CAD")
    assert row.raw["billingAddress"] == {"city": "Ottawa", "country": "CAN"}

    data = RecordData.from_record(record, spec=_spec(data_type))
    data.name = "Maple Leaf Roasters Inc."
    record = record_update(record=record, data=data)
    _pushed(record, push_staff, "7001", client)

    row.refresh_from_db()
    assert row.name == "Maple Leaf Roasters Inc."
    assert mirror.objects.filter(connection=connection).count() == 1


def test_a_failed_push_leaves_the_mirror_alone(push_staff):
    connection = ConnectionFactory(service_name="quickbooks")
    record = _party("customers", connection, name="Never Created Ltd")
    push = push_request_create(record=record, user=push_staff)
    push_request_submit(push_request_id=push.pk, client=FakePushClient())
    push.refresh_from_db()

    push_apply_status(push=push, item=status_item(push, "failed"), source="poll")

    assert not Customer.objects.filter(connection=connection).exists()


def _spec(data_type: str):
    from pushes import registry

    return registry.for_data_type(data_type).spec
