"""Writes go to the registry's path with Railz's envelope, and unsupported ones never leave."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from responses import matchers

from railzpush.railz import RailzNotSupported
from tests.fixtures.railz import RAILZ_API, RAILZ_CONNECTION, railz_push_answer

INVOICE = {
    "customerRef": {"id": "144"},
    "invoiceNumber": "INV-2025-0042",
    "postedDate": "2025-03-03",
    "dueDate": "2025-04-02",
    "currency": "CAD",
    "lines": [
        {
            "description": "Espresso beans, 5 kg",
            "quantity": 2,
            "unitAmount": 84.5,
            "accountRef": {"id": "200"},
            "taxRateRef": {"id": "INPUT2"},
        }
    ],
}


def _api_calls(mock):
    return [c for c in mock.calls if c.request.url.startswith(RAILZ_API)]


def test_create_posts_the_envelope_to_the_registry_path(railz_api, railz_client):
    answer = railz_push_answer(INVOICE, push_communication_id="65f1c0a2b3d4e5f601234567")
    railz_api.post(
        RAILZ_API + "/v2/accounting/invoices",
        json=answer,
        match=[matchers.json_params_matcher({"connectionUuid": RAILZ_CONNECTION, "data": INVOICE})],
    )

    result = railz_client().create(
        "invoices", connection_uuid=RAILZ_CONNECTION, data=INVOICE, service_name="xero"
    )

    assert result == answer
    assert result["status"] == "pending"


def test_update_puts_to_the_record_id_path_escaped(railz_api, railz_client):
    railz_api.put(
        RAILZ_API + "/v2/accounting/invoices/INV%2F2025%2042",
        json=railz_push_answer(INVOICE, push_communication_id="65f1c0a2b3d4e5f601234568"),
        match=[matchers.json_params_matcher({"connectionUuid": RAILZ_CONNECTION, "data": INVOICE})],
    )

    result = railz_client().update(
        "invoices",
        connection_uuid=RAILZ_CONNECTION,
        record_id="INV/2025 42",
        data=INVOICE,
        service_name="quickbooks",
    )

    assert result["pushCommunicationId"] == "65f1c0a2b3d4e5f601234568"


def test_delete_sends_the_connection_in_the_query_and_no_body(railz_api, railz_client):
    answer = {
        "connectionUuid": RAILZ_CONNECTION,
        "deleteCommunicationId": "65f1c0a2b3d4e5f601234569",
        "status": "pending",
    }
    railz_api.delete(RAILZ_API + "/v2/accounting/bills/payments/881", json=answer)

    result = railz_client().delete(
        "billPayments", connection_uuid=RAILZ_CONNECTION, record_id="881", service_name="xero"
    )

    assert result == answer
    (call,) = _api_calls(railz_api)
    assert parse_qs(urlsplit(call.request.url).query) == {"connectionUuid": [RAILZ_CONNECTION]}
    assert not call.request.body


def test_batch_create_and_update_send_the_batch_envelope(railz_api, railz_client):
    customers = [{"customerName": "Bean There"}, {"customerName": "Daily Grind"}]
    answer = {
        "connectionUuid": RAILZ_CONNECTION,
        "batchId": "65f1c0a2b3d4e5f6012345aa",
        "batch": [
            {"pushCommunicationId": "65f1c0a2b3d4e5f6012345ab", "status": "pending"},
            {"pushCommunicationId": "65f1c0a2b3d4e5f6012345ac", "status": "pending"},
        ],
    }
    railz_api.post(RAILZ_API + "/v2/accounting/customers/batch", json=answer)
    railz_api.put(RAILZ_API + "/v2/accounting/journalEntries/batch", json=answer)
    client = railz_client()

    created = client.batch_create("customers", connection_uuid=RAILZ_CONNECTION, items=customers)
    client.batch_update(
        "journalEntries",
        connection_uuid=RAILZ_CONNECTION,
        items=[{"journalEntryRef": "JE-7", "memo": "Accrual reversal"}],
    )

    assert created["batchId"] == "65f1c0a2b3d4e5f6012345aa"
    first, second = (json.loads(c.request.body) for c in _api_calls(railz_api))
    assert first == {"connectionUuid": RAILZ_CONNECTION, "batch": customers}
    assert second == {
        "connectionUuid": RAILZ_CONNECTION,
        "batch": [{"journalEntryRef": "JE-7", "memo": "Accrual reversal"}],
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.update(
                "invoices",
                connection_uuid=RAILZ_CONNECTION,
                record_id="144",
                data=INVOICE,
                service_name="wave",
            ),
            "Railz cannot update invoices in wave.",
        ),
        (
            lambda c: c.create(
                "invoices", connection_uuid=RAILZ_CONNECTION, data=INVOICE, service_name="myob"
            ),
            "Railz cannot create invoices in myob.",
        ),
        (
            lambda c: c.batch_create("invoices", connection_uuid=RAILZ_CONNECTION, items=[INVOICE]),
            "Railz cannot batch create invoices.",
        ),
        (
            lambda c: c.delete("customers", connection_uuid=RAILZ_CONNECTION, record_id="9"),
            "Railz cannot delete customers.",
        ),
        (
            lambda c: c.create("expenses", connection_uuid=RAILZ_CONNECTION, data={}),
            "Records of type 'expenses' cannot be sent to Railz by this application.",
        ),
    ],
    ids=["provider-update", "unknown-provider", "no-batch", "no-delete", "unknown-type"],
)
def test_unsupported_writes_are_refused_without_a_call(railz_api, railz_client, call, message):
    with pytest.raises(RailzNotSupported) as caught:
        call(railz_client())

    assert str(caught.value) == message
    assert not caught.value.retryable
    assert len(railz_api.calls) == 0


def test_an_empty_record_id_is_refused(railz_api, railz_client):
    with pytest.raises(ValueError, match="record_id"):
        railz_client().delete("invoices", connection_uuid=RAILZ_CONNECTION, record_id=" ")

    assert len(railz_api.calls) == 0


@pytest.mark.parametrize("status", [200, 201])
def test_fire_webhook_accepts_200_and_201(railz_api, railz_client, status):
    answer = {
        "webhookFired": True,
        "connectionUuid": RAILZ_CONNECTION,
        "businessUuid": "BIZ-9f1c2a4e-0001-4c5a-8b2e-7d1e3f5a0001",
    }
    railz_api.post(RAILZ_API + "/v2/sandbox/fireWebhooks", status=status, json=answer)

    result = railz_client().fire_webhook(
        connection_uuid=RAILZ_CONNECTION,
        event="push",
        push_communication_id="65f1c0a2b3d4e5f601234567",
    )

    assert result["webhookFired"] is True
    (call,) = _api_calls(railz_api)
    assert json.loads(call.request.body) == {
        "connection": {
            "connectionUuid": RAILZ_CONNECTION,
            "event": "push",
            "pushCommunicationId": "65f1c0a2b3d4e5f601234567",
        }
    }


def test_every_call_has_connect_and_read_timeouts(railz_api, railz_client):
    railz_api.post(RAILZ_API + "/v2/accounting/customers", json={"status": "pending"})

    railz_client(connect_timeout=2.0, read_timeout=9.0).create(
        "customers", connection_uuid=RAILZ_CONNECTION, data={"customerName": "Bean There"}
    )

    timeouts = [c.request.req_kwargs["timeout"] for c in railz_api.calls]
    assert timeouts == [(2.0, 9.0), (2.0, 9.0)]  # getAccess, then the push
