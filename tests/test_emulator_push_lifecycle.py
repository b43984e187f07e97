"""Pushes are accepted as pending, then succeed (and show in reads) or fail as providers do."""

import re
import time

import pytest
import time_machine

from railzpush.railz import RailzNotSupported, RailzRejected
from tests.fixtures.emulator import (
    DEMO_NETSUITE,
    DEMO_OLD_MILL,
    DEMO_QUICKBOOKS,
    DEMO_XERO,
    demo_ref,
    invoice_data,
    minimal_push_data,
)


def _status(client, connection_uuid, push_communication_id):
    answer = client.push_status(
        connection_uuid=connection_uuid, push_communication_id=push_communication_id
    )
    assert answer["meta"]["count"] == 1
    return answer["data"][0]


def _seeded(connection_uuid, data_type="invoices") -> set[str]:
    """The open documents the demo business's accounting system made itself."""
    from railzpush.emulator.demo_data import documents

    return {item["id"] for item in documents(connection_uuid, data_type)}


def _invoices(client, connection_uuid):
    """The invoices pushed here (the demo business's own open invoices left out)."""
    seeded = _seeded(connection_uuid)
    return {
        item["id"]: item
        for page in client.iter_pages("/v2/accounting/invoices", connection_uuid=connection_uuid)
        for item in page.items
        if item["id"] not in seeded
    }


def _create_invoice(client, connection_uuid, **overrides):
    answer = client.create(
        "invoices", connection_uuid=connection_uuid, data=invoice_data(connection_uuid, **overrides)
    )
    status = _status(client, connection_uuid, answer["pushCommunicationId"])
    assert status["status"] == "success", status
    return status["sourceObjectIds"][0]


def test_create_answers_pending_with_a_push_id_and_echo(emulator_client):
    data = invoice_data(DEMO_QUICKBOOKS)

    answer = emulator_client.create("invoices", connection_uuid=DEMO_QUICKBOOKS, data=data)

    assert answer["status"] == "pending"
    assert re.fullmatch(r"[0-9a-f]{24}", answer["pushCommunicationId"])
    assert answer["data"] == data
    assert answer["connectionUuid"] == DEMO_QUICKBOOKS
    assert answer["serviceName"] == "quickbooks"
    assert answer["businessName"] == "Harbor Freight Logistics"


def test_a_created_invoice_succeeds_and_shows_in_reads(emulator_client):
    answer = emulator_client.create(
        "invoices", connection_uuid=DEMO_QUICKBOOKS, data=invoice_data(DEMO_QUICKBOOKS)
    )

    status = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])
    assert status["status"] == "success"
    assert status["responseCode"] == 201
    (invoice_id,) = status["sourceObjectIds"]
    invoice = _invoices(emulator_client, DEMO_QUICKBOOKS)[invoice_id]
    assert invoice["status"] == "open"
    assert invoice["totalAmount"] == 301.0
    assert invoice["postedDate"] == "2024-11-01T00:00:00.000Z"
    assert invoice["customerRef"] == {"id": demo_ref(DEMO_QUICKBOOKS, "customers")}


def test_xero_ids_look_like_xero_ids(emulator_client):
    invoice_id = _create_invoice(emulator_client, DEMO_XERO)

    assert re.fullmatch(r"[0-9a-f-]{36}", invoice_id)


def test_push_status_lists_a_connections_pushes_newest_first(emulator_client):
    first = emulator_client.create(
        "invoices", connection_uuid=DEMO_QUICKBOOKS, data=invoice_data(DEMO_QUICKBOOKS)
    )
    second = emulator_client.create(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        data=invoice_data(DEMO_QUICKBOOKS, invoiceNumber="INV-2"),
    )

    answer = emulator_client.push_status(connection_uuid=DEMO_QUICKBOOKS)

    assert answer["meta"]["count"] == 2
    assert [p["pushCommunicationId"] for p in answer["data"]] == [
        second["pushCommunicationId"],
        first["pushCommunicationId"],
    ]
    assert emulator_client.push_status(connection_uuid=DEMO_XERO)["meta"]["count"] == 0


def test_an_update_changes_the_record(emulator_client):
    invoice_id = _create_invoice(emulator_client, DEMO_QUICKBOOKS)

    answer = emulator_client.update(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        record_id=invoice_id,
        data=invoice_data(DEMO_QUICKBOOKS, memo="Corrected memo"),
    )

    status = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])
    assert status["status"] == "success"
    assert status["sourceObjectIds"] == [invoice_id]
    assert _invoices(emulator_client, DEMO_QUICKBOOKS)[invoice_id]["memo"] == "Corrected memo"


def test_a_delete_removes_the_record(emulator_client):
    keep = _create_invoice(emulator_client, DEMO_QUICKBOOKS, invoiceNumber="KEEP-1")
    gone = _create_invoice(emulator_client, DEMO_QUICKBOOKS, invoiceNumber="GONE-1")

    answer = emulator_client.delete("invoices", connection_uuid=DEMO_QUICKBOOKS, record_id=gone)

    assert answer["status"] == "pending"
    assert re.fullmatch(r"[0-9a-f]{24}", answer["deleteCommunicationId"])
    status = emulator_client.delete_status(
        connection_uuid=DEMO_QUICKBOOKS, delete_communication_id=answer["deleteCommunicationId"]
    )
    assert status["data"][0]["status"] == "success"
    assert set(_invoices(emulator_client, DEMO_QUICKBOOKS)) == {keep}
    # Deletes are not pushes: pushStatus lists the two creates only.
    assert emulator_client.push_status(connection_uuid=DEMO_QUICKBOOKS)["meta"]["count"] == 2


@pytest.mark.parametrize("paid_status", ["paid", "void"])
def test_a_paid_or_voided_invoice_cannot_be_updated_or_deleted(
    emulator, emulator_client, paid_status
):
    invoice_id = _create_invoice(emulator_client, DEMO_QUICKBOOKS)
    emulator.mark(connection_uuid=DEMO_QUICKBOOKS, record_id=invoice_id, status=paid_status)

    update = emulator_client.update(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        record_id=invoice_id,
        data=invoice_data(DEMO_QUICKBOOKS, memo="Too late"),
    )
    delete = emulator_client.delete(
        "invoices", connection_uuid=DEMO_QUICKBOOKS, record_id=invoice_id
    )

    update_status = _status(emulator_client, DEMO_QUICKBOOKS, update["pushCommunicationId"])
    assert update_status["status"] == "failed"
    assert update_status["responseCode"] == 400
    assert "cannot be updated" in update_status["validation"]["errors"][0]["message"]
    delete_status = emulator_client.delete_status(
        connection_uuid=DEMO_QUICKBOOKS, delete_communication_id=delete["deleteCommunicationId"]
    )["data"][0]
    assert delete_status["status"] == "failed"
    assert invoice_id in _invoices(emulator_client, DEMO_QUICKBOOKS)


def test_updating_a_record_that_does_not_exist_fails_with_404(emulator_client):
    answer = emulator_client.update(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        record_id="424242",
        data=invoice_data(DEMO_QUICKBOOKS),
    )

    status = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])
    assert status["status"] == "failed"
    assert status["responseCode"] == 404
    assert status["validation"]["errors"] == [
        {"field": "id", "message": "Invoice 424242 does not exist"}
    ]


def test_a_duplicate_invoice_number_for_the_same_customer_fails(emulator_client):
    _create_invoice(emulator_client, DEMO_QUICKBOOKS, invoiceNumber="INV-1001")

    answer = emulator_client.create(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        data=invoice_data(DEMO_QUICKBOOKS, invoiceNumber="INV-1001"),
    )

    status = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])
    assert status["status"] == "failed"
    assert status["validation"]["errors"][0]["field"] == "invoiceNumber"
    # Another customer may use the same number.
    other = {"id": demo_ref(DEMO_QUICKBOOKS, "customers", 1)}
    _create_invoice(emulator_client, DEMO_QUICKBOOKS, invoiceNumber="INV-1001", customerRef=other)


def test_xero_refuses_an_invoice_line_without_account_or_item(emulator_client):
    data = invoice_data(DEMO_XERO)
    data["lines"].append({"description": "No account", "quantity": 1, "unitAmount": 5})

    answer = emulator_client.create("invoices", connection_uuid=DEMO_XERO, data=data)

    status = _status(emulator_client, DEMO_XERO, answer["pushCommunicationId"])
    assert status["status"] == "failed"
    assert status["responseCode"] == 400
    assert [e["field"] for e in status["validation"]["errors"]] == ["lines[1].accountRef"]


def test_a_line_with_an_item_instead_of_an_account_is_fine_for_xero(emulator_client):
    item = {"id": demo_ref(DEMO_XERO, "inventory")}
    line = {"quantity": 1, "unitAmount": 12.0, "inventoryRef": item}

    _create_invoice(emulator_client, DEMO_XERO, lines=[line])


def test_references_that_do_not_exist_fail_the_push_naming_each(emulator_client):
    data = invoice_data(DEMO_QUICKBOOKS, customerRef={"id": "999999"})
    data["lines"][0]["taxRateRef"] = {"id": "nope"}
    data["lines"][0]["trackingCategoryRefs"] = [{"id": "t-missing", "type": "class"}]

    answer = emulator_client.create("invoices", connection_uuid=DEMO_QUICKBOOKS, data=data)

    status = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])
    assert status["status"] == "failed"
    assert status["validation"]["errors"] == [
        {"field": "customerRef.id", "message": "Customer 999999 does not exist"},
        {"field": "lines[0].taxRateRef.id", "message": "Tax rate nope does not exist"},
        {
            "field": "lines[0].trackingCategoryRefs[0].id",
            "message": "Tracking category t-missing does not exist",
        },
    ]
    assert status["sourceObjectIds"] == []


def test_netsuite_needs_a_subsidiary_that_exists(emulator_client):
    without = invoice_data(DEMO_NETSUITE)
    del without["subsidiaryRefs"]
    unknown = invoice_data(DEMO_NETSUITE, subsidiaryRefs=[{"id": "77"}])

    answers = [
        emulator_client.create("invoices", connection_uuid=DEMO_NETSUITE, data=data)
        for data in (without, unknown)
    ]

    statuses = [_status(emulator_client, DEMO_NETSUITE, a["pushCommunicationId"]) for a in answers]
    assert [s["status"] for s in statuses] == ["failed", "failed"]
    assert statuses[0]["validation"]["errors"][0]["field"] == "subsidiaryRefs"
    assert statuses[1]["validation"]["errors"][0]["message"] == "Subsidiary 77 does not exist"
    _create_invoice(emulator_client, DEMO_NETSUITE)


def test_an_operation_the_provider_lacks_is_endpoint_not_allowed(emulator, emulator_client):
    # NetSuite invoices cannot be deleted through Railz.
    with pytest.raises(RailzNotSupported) as raised:
        emulator_client.delete("invoices", connection_uuid=DEMO_NETSUITE, record_id="1")

    assert raised.value.status_code == 404
    response = emulator.send(
        "DELETE", "/v2/accounting/invoices/1", params={"connectionUuid": DEMO_NETSUITE}
    )
    assert response.json()["error"]["message"] == ["Endpoint Not Allowed"]


def test_a_disconnected_connection_is_refused(emulator_client):
    with pytest.raises(RailzRejected) as raised:
        emulator_client.create(
            "invoices",
            connection_uuid=DEMO_OLD_MILL,
            data={"customerRef": {"id": "1"}, "lines": [{"unitAmount": 1}]},
        )

    assert raised.value.status_code == 400
    assert "is not active" in raised.value.messages[0]


def test_a_bad_body_is_refused_with_every_problem(emulator_client):
    with pytest.raises(RailzRejected) as raised:
        emulator_client.create(
            "invoices",
            connection_uuid=DEMO_QUICKBOOKS,
            data={"invoiceNumber": "X" * 30, "postedDate": "01/11/2024"},
        )

    assert raised.value.messages == [
        "data.invoiceNumber must be shorter than or equal to 21 characters",
        "data.postedDate must be formatted as yyyy-mm-dd",
        "data.customerRef should not be empty",
        "data.lines should not be empty",
    ]


def test_bills_are_created_updated_and_deleted(emulator_client):
    vendor = {"id": demo_ref(DEMO_QUICKBOOKS, "vendors")}
    line = {
        "quantity": 3,
        "unitAmount": 40.0,
        "accountRef": {"id": demo_ref(DEMO_QUICKBOOKS, "accounts", 20)},
    }
    created = emulator_client.create(
        "bills",
        connection_uuid=DEMO_QUICKBOOKS,
        data={"vendorRef": vendor, "lines": [line], "postedDate": "2024-11-02"},
    )
    bill_id = _status(emulator_client, DEMO_QUICKBOOKS, created["pushCommunicationId"])[
        "sourceObjectIds"
    ][0]

    updated = emulator_client.update(
        "bills",
        connection_uuid=DEMO_QUICKBOOKS,
        record_id=bill_id,
        data={"vendorRef": vendor, "lines": [line, line], "memo": "two lines"},
    )
    assert (
        _status(emulator_client, DEMO_QUICKBOOKS, updated["pushCommunicationId"])["status"]
        == "success"
    )
    bills = {
        b["id"]: b
        for page in emulator_client.iter_pages(
            "/v2/accounting/bills", connection_uuid=DEMO_QUICKBOOKS
        )
        for b in page.items
    }
    assert bills[bill_id]["totalAmount"] == 240.0

    emulator_client.delete("bills", connection_uuid=DEMO_QUICKBOOKS, record_id=bill_id)
    left = {
        b["id"]
        for page in emulator_client.iter_pages(
            "/v2/accounting/bills", connection_uuid=DEMO_QUICKBOOKS
        )
        for b in page.items
    }
    assert left == _seeded(DEMO_QUICKBOOKS, "bills")


def test_batch_create_gives_a_batch_id_and_one_push_per_item(emulator_client):
    items = [{"customerName": f"Batch Customer {n}"} for n in range(3)]

    answer = emulator_client.batch_create("customers", connection_uuid=DEMO_QUICKBOOKS, items=items)

    assert re.fullmatch(r"[0-9a-f]{24}", answer["batchId"])
    assert [entry["data"] for entry in answer["batch"]] == items
    statuses = emulator_client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, batch_id=answer["batchId"]
    )
    assert statuses["meta"]["count"] == 3
    assert {s["status"] for s in statuses["data"]} == {"success"}
    names = {
        c["customerName"]
        for page in emulator_client.iter_pages(
            "/v2/accounting/customers", connection_uuid=DEMO_QUICKBOOKS, limit=500
        )
        for c in page.items
    }
    assert {"Batch Customer 0", "Batch Customer 2"} <= names


def test_batch_update_names_its_targets_with_plain_strings(emulator_client):
    target = demo_ref(DEMO_QUICKBOOKS, "customers", 5)

    answer = emulator_client.batch_update(
        "customers",
        connection_uuid=DEMO_QUICKBOOKS,
        items=[{"customerRef": target, "customerName": "Renamed Customer"}],
    )

    status = emulator_client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, batch_id=answer["batchId"]
    )["data"][0]
    assert status["status"] == "success"
    assert status["sourceObjectIds"] == [target]


def test_with_a_delay_a_push_completes_lazily_once_due(emulator_client, settings):
    settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS = 30
    with time_machine.travel(time.time(), tick=True) as traveller:
        answer = emulator_client.create(
            "invoices", connection_uuid=DEMO_QUICKBOOKS, data=invoice_data(DEMO_QUICKBOOKS)
        )
        pending = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])
        traveller.shift(31)
        done = _status(emulator_client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])

    assert pending["status"] == "pending"
    assert pending["sourceObjectIds"] == []
    assert done["status"] == "success"


def _create_cases():
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
                    yield pytest.param(name, connection_uuid, id=f"{name}-{service}")
                    break


@pytest.mark.parametrize(("data_type", "connection_uuid"), list(_create_cases()))
def test_every_registry_data_type_can_be_created(emulator_client, data_type, connection_uuid):

    data = minimal_push_data(data_type, connection_uuid)

    answer = emulator_client.create(data_type, connection_uuid=connection_uuid, data=data)

    status = _status(emulator_client, connection_uuid, answer["pushCommunicationId"])
    assert status["status"] == "success", status
    assert status["dataType"] == data_type


def test_completing_a_push_twice_applies_it_once(emulator, settings):
    from railzpush.emulator import pushes
    from railzpush.emulator.models import EmuConnection, EmuPush, EmuRecord

    settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS = 60
    connection = EmuConnection.objects.get(connection_uuid=DEMO_QUICKBOOKS)
    (push,) = pushes.pushes_accept(
        connection=connection,
        data_type="invoices",
        operation="create",
        items=[invoice_data(DEMO_QUICKBOOKS)],
        record_ids=[""],
        batch=False,
        hold=False,
    )
    stale_copy = EmuPush.objects.get(pk=push.pk)

    first = pushes.push_complete(push=push)
    second = pushes.push_complete(push=stale_copy)

    assert (first, second) == (True, False)
    made = EmuRecord.objects.filter(connection=connection, data_type="invoices")
    assert made.exclude(remote_id__in=_seeded(DEMO_QUICKBOOKS)).count() == 1
