"""The push list filters by the record a push is of, whatever its type: `record_type` (the data
type, as the REST resource is named, or the push's own `record_type`) with `record_id`.
`invoice=` keeps working as before, and a bad value is a 400 naming the parameter and its rule."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from pushes import registry
from pushes.models import PushRequest
from tests.contract.conftest import RecordKit
from tests.factories import ConnectionFactory
from tests.fixtures.api import *  # noqa: F403

pytestmark = pytest.mark.django_db

PUSHES = "/api/v1/pushes/"


def _push(model, object_id: int, connection, data_type: str) -> int:
    return PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_id=object_id,
        connection=connection,
        data_type=data_type,
        operation="create",
        state="failed",
    ).pk


@pytest.fixture
def records():
    """A pushed record of every declared type, and one push of an invoice that shares the
    bill's id (each type numbers its records on its own)."""
    connection = ConnectionFactory()
    made = {}
    for pushable in registry.pushables():
        record = RecordKit(spec=pushable.spec).create(connection=connection)
        made[pushable.data_type] = (
            record,
            _push(type(record), record.pk, connection, pushable.data_type),
        )
    (invoice, invoice_push), (bill, _) = made["invoices"], made["bills"]
    if invoice.pk == bill.pk:
        sharing = invoice_push  # the ids met on their own
    else:
        sharing = _push(type(invoice), bill.pk, connection, "invoices")
    made["invoice sharing the bill's id"] = (None, sharing)
    return made


def listed(api, **params) -> list[int]:
    response = api.get(PUSHES, params)
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def errors_of(response) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


def test_each_record_s_pushes_are_found_by_its_type_and_id(api, records):
    for data_type in registry.PUSHABLE_TYPES:
        record, push = records[data_type]
        assert listed(api, record_type=data_type, record_id=record.pk) == [push], data_type
        # The same record named as a push names its type.
        model_name = type(record)._meta.model_name
        assert listed(api, record_type=model_name, record_id=record.pk) == [push], model_name


def test_the_type_keeps_records_with_the_same_id_apart(api, records):
    bill, bill_push = records["bills"]
    _, invoice_push = records["invoice sharing the bill's id"]

    assert listed(api, record_type="bills", record_id=bill.pk) == [bill_push]
    assert invoice_push in listed(api, record_type="invoices", record_id=bill.pk)
    assert bill_push not in listed(api, record_type="invoices", record_id=bill.pk)


def test_record_type_alone_lists_every_push_of_that_type(api, records):
    credit_note, push = records["invoiceCreditNotes"]
    assert listed(api, record_type="invoiceCreditNotes") == [push]
    # What a listed push says of its record is a value the filter takes back.
    row = api.get(PUSHES, {"record_type": "invoiceCreditNotes"}).json()["results"][0]
    again = listed(api, record_type=row["record_type"], record_id=row["record_id"])
    assert again == [push] and row["record_id"] == credit_note.pk


def test_invoice_still_filters_the_pushes_of_an_invoice(api, records):
    invoice, push = records["invoices"]
    _, sharing = records["invoice sharing the bill's id"]
    assert listed(api, invoice=invoice.pk) == [push]
    bill, _ = records["bills"]
    assert listed(api, invoice=bill.pk) == [sharing]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"record_type": "purchaseOrders", "record_id": "1"}, [("record_type", "enum")]),
        ({"record_type": "bills", "record_id": "twelve"}, [("record_id", "invalid")]),
        ({"record_type": "bills", "record_id": "-3"}, [("record_id", "invalid")]),
        ({"record_id": "12"}, [("record_type", "required")]),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter_and_rule(api, records, params, expected):
    response = api.get(PUSHES, params)

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert errors_of(response) == expected
