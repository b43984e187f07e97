"""The client reads one accounting record back by its id (a list filtered on `id`, as Railz
filters) and asks Railz to refresh a data type (POST /v2/data/sync); the emulator answers both
as Railz does, including for an id it does not have and a provider that cannot sync."""

import pytest

from railzpush.railz import RailzError
from tests.fixtures.emulator import DEMO_QUICKBOOKS, demo_ref, invoice_data


def test_a_created_invoice_is_read_back_by_its_id_and_nothing_else(emulator, emulator_client):
    first = emulator_client.create(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        data=invoice_data(DEMO_QUICKBOOKS, invoiceNumber="INV-READ-1"),
    )
    emulator_client.create(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        data=invoice_data(DEMO_QUICKBOOKS, invoiceNumber="INV-READ-2"),
    )
    status = emulator_client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, push_communication_id=first["pushCommunicationId"]
    )
    record_id = status["data"][0]["sourceObjectIds"][0]

    record = emulator_client.record_read(
        "invoices", connection_uuid=DEMO_QUICKBOOKS, record_id=record_id
    )

    assert record["id"] == record_id and record["invoiceNumber"] == "INV-READ-1"
    assert record["customerRef"]["id"] == demo_ref(DEMO_QUICKBOOKS, "customers")
    assert record["totalAmount"] == 301.0
    missing = emulator_client.record_read(
        "invoices", connection_uuid=DEMO_QUICKBOOKS, record_id="no-such-id"
    )
    assert missing is None
    response = emulator.get(
        "/v2/accounting/invoices", connectionUuid=DEMO_QUICKBOOKS, id="no-such-id"
    )
    assert response.status_code == 200 and response.json()["data"] == []


def test_a_sync_of_one_data_type_is_queued(emulator, emulator_client):
    answer = emulator_client.data_sync(connection_uuid=DEMO_QUICKBOOKS, data_type="invoices")
    assert answer["connectionUuid"] == DEMO_QUICKBOOKS and answer["dataType"] == "invoices"
    assert answer["requestId"] and answer["requestedOn"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"dataType": "invoices"}, 400, "connectionUuid should not be empty"),
        ({"connectionUuid": DEMO_QUICKBOOKS}, 400, "dataType or dataTypes should not be empty"),
        (
            {"connectionUuid": DEMO_QUICKBOOKS, "dataType": "spaceships"},
            400,
            "'spaceships' is not a data type that can be synced",
        ),
    ],
)
def test_a_sync_request_railz_would_refuse_is_refused(emulator, body, status, message):
    response = emulator.send("POST", "/v2/data/sync", json=body)
    assert response.status_code == status
    assert message in " ".join(response.json()["error"]["message"])


def test_a_provider_that_cannot_sync_answers_endpoint_not_allowed(emulator, emulator_client):
    from railzpush.emulator.models import EmuConnection

    # QuickBooks Desktop is not among the providers POST /v2/data/sync supports.
    EmuConnection.objects.filter(connection_uuid=DEMO_QUICKBOOKS).update(
        service_name="quickbooksDesktop"
    )
    with pytest.raises(RailzError) as caught:
        emulator_client.data_sync(connection_uuid=DEMO_QUICKBOOKS, data_type="invoices")
    assert caught.value.status_code == 404
