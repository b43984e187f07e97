"""Completed pushes are announced by signed webhooks, retried as Railz retries them."""

import time

import pytest
import time_machine

from railzpush.railz import RailzRejected
from railzpush.railz.signatures import verify
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO, invoice_data


def _push(client, connection_uuid=DEMO_QUICKBOOKS, **overrides):
    return client.create(
        "invoices", connection_uuid=connection_uuid, data=invoice_data(connection_uuid, **overrides)
    )


def test_a_completed_push_sends_a_signed_push_event(emulator, emulator_client, webhook_receiver):
    answer = _push(emulator_client)

    (delivery,) = webhook_receiver.wait_for(1)
    emulator.wait_for_webhooks()

    verify(delivery.body, delivery.headers.get("Railz-Signature"), "emulator-webhook-secret")
    event = delivery.json["data"]
    assert set(delivery.json) == {"data", "requestId"}
    assert event["event"] == "push"
    assert event["connectionId"] == DEMO_QUICKBOOKS
    assert event["pushCommunicationId"] == answer["pushCommunicationId"]
    assert event["status"] == "success"
    assert event["dataType"] == "invoices"
    assert event["responseCode"] == 201
    assert len(event["sourceObjectIds"]) == 1
    assert {"businessName", "serviceName", "requestedOn", "completedOn", "validation"} <= set(event)


def test_a_failed_push_event_carries_the_validation_errors(emulator_client, webhook_receiver):
    _push(emulator_client, customerRef={"id": "999999"})

    event = webhook_receiver.wait_for(1)[0].json["data"]

    assert event["status"] == "failed"
    assert event["responseCode"] == 400
    assert event["validation"]["errors"] == [
        {"field": "customerRef.id", "message": "Customer 999999 does not exist"}
    ]


def test_a_failing_receiver_gets_two_retries(emulator, emulator_client, webhook_receiver):
    webhook_receiver.answer_with(500, 500, 200)

    answer = _push(emulator_client)
    webhook_receiver.wait_for(3)
    emulator.wait_for_webhooks()

    attempts = emulator.deliveries(communication_id=answer["pushCommunicationId"])
    assert [(a.attempt, a.response_status) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert len({a.request_id for a in attempts}) == 1


def test_delivery_stops_after_three_attempts(emulator, emulator_client, webhook_receiver):
    webhook_receiver.default_status = 503

    _push(emulator_client)
    webhook_receiver.wait_for(3)
    emulator.wait_for_webhooks()

    assert len(webhook_receiver.requests) == 3
    assert [d.response_status for d in emulator.deliveries()] == [503, 503, 503]


def test_an_unreachable_receiver_is_recorded_as_an_error(emulator, emulator_client, settings):
    settings.RAILZ_EMULATOR_WEBHOOK_URL = "http://127.0.0.1:9/unreachable"

    _push(emulator_client)
    emulator.wait_for_webhooks()

    attempts = emulator.deliveries()
    assert len(attempts) == 3
    assert all(a.response_status is None and a.error for a in attempts)


def test_the_control_endpoint_can_redirect_webhooks(emulator, emulator_client, webhook_receiver):
    emulator.control("set_webhook", url=webhook_receiver.url + "/elsewhere", secret="other")

    _push(emulator_client)
    (delivery,) = webhook_receiver.wait_for(1)

    assert delivery.path == "/webhooks/railz/elsewhere"
    verify(delivery.body, delivery.headers["Railz-Signature"], "other")


def test_fire_webhooks_resends_the_event_of_a_push(emulator, emulator_client, webhook_receiver):
    answer = _push(emulator_client)
    webhook_receiver.wait_for(1)

    fired = emulator_client.fire_webhook(
        connection_uuid=DEMO_QUICKBOOKS,
        event="push",
        push_communication_id=answer["pushCommunicationId"],
    )

    assert fired["webhookFired"] is True
    assert fired["connectionUuid"] == DEMO_QUICKBOOKS
    assert fired["businessUuid"].startswith("BIZ-")
    first, again = webhook_receiver.wait_for(2)
    assert again.json["data"]["pushCommunicationId"] == answer["pushCommunicationId"]
    assert again.json["data"]["status"] == first.json["data"]["status"] == "success"


def test_fire_webhooks_answers_201(emulator, webhook_receiver):
    response = emulator.send(
        "POST",
        "/v2/sandbox/fireWebhooks",
        json={"connection": {"connectionUuid": DEMO_XERO, "event": "connectionStatus"}},
    )

    assert response.status_code == 201
    assert webhook_receiver.wait_for(1)[0].json["data"]["event"] == "connectionStatus"


def test_fire_webhooks_lists_every_problem_of_a_bad_body(emulator_client):
    with pytest.raises(RailzRejected) as raised:
        emulator_client.fire_webhook(connection_uuid="", event="party")

    assert raised.value.messages == [
        "connection.connectionUuid should not be empty",
        "connection.event must be one of the following values: login, auth, connectionStatus, "
        "customerRequest, data, dataPerType, push, batchPush, delete",
    ]


def test_fire_webhooks_for_an_unknown_push_is_refused(emulator_client):
    with pytest.raises(RailzRejected):
        emulator_client.fire_webhook(
            connection_uuid=DEMO_XERO, event="push", push_communication_id="0" * 24
        )


def test_a_batch_is_announced_once_as_batch_push(emulator_client, webhook_receiver):
    answer = emulator_client.batch_create(
        "customers",
        connection_uuid=DEMO_QUICKBOOKS,
        items=[{"customerName": "One"}, {"customerName": "Two"}],
    )

    (delivery,) = webhook_receiver.wait_for(1)

    event = delivery.json["data"]
    assert event["event"] == "batchPush"
    assert event["batchId"] == answer["batchId"]
    assert [item["pushCommunicationId"] for item in event["batch"]] == [
        entry["pushCommunicationId"] for entry in answer["batch"]
    ]


def test_a_delete_is_announced_as_a_delete_event(emulator_client, webhook_receiver):
    created = _push(emulator_client)
    invoice_id = webhook_receiver.wait_for(1)[0].json["data"]["sourceObjectIds"][0]

    deleted = emulator_client.delete(
        "invoices", connection_uuid=DEMO_QUICKBOOKS, record_id=invoice_id
    )

    event = webhook_receiver.wait_for(2)[1].json["data"]
    assert created["pushCommunicationId"] != deleted["deleteCommunicationId"]
    assert event["event"] == "delete"
    assert event["deleteCommunicationId"] == deleted["deleteCommunicationId"]


def test_with_a_delay_the_ticker_completes_and_announces_without_polling(
    emulator_client, webhook_receiver, settings
):
    settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS = 60
    with time_machine.travel(time.time(), tick=True) as traveller:
        answer = _push(emulator_client)
        assert webhook_receiver.requests == []
        traveller.shift(61)
        # Nobody calls the API now: the serving process's ticker completes the push.
        (delivery,) = webhook_receiver.wait_for(1)

    assert delivery.json["data"]["pushCommunicationId"] == answer["pushCommunicationId"]
    assert delivery.json["data"]["status"] == "success"
