"""Faults switched on per connection (or for all) make the emulator fail the ways Railz can."""

import time
from io import StringIO

import pytest
import requests
import time_machine
from django.core.management import call_command

from railzpush.railz import (
    RailzOutcomeUnknown,
    RailzRateLimited,
    RailzServerError,
)
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO, invoice_data


def _push(client, connection_uuid=DEMO_QUICKBOOKS, **overrides):
    return client.create(
        "invoices", connection_uuid=connection_uuid, data=invoice_data(connection_uuid, **overrides)
    )


def _statuses(client, connection_uuid=DEMO_QUICKBOOKS):
    return client.push_status(connection_uuid=connection_uuid)["data"]


def test_a_share_of_requests_answers_5xx_deterministically(emulator):
    emulator.set_faults(error_rate=0.5, error_status=502)
    token = emulator.token()

    codes = [emulator.get("/v2/connections", token=token).status_code for _ in range(6)]

    assert codes == [200, 502, 200, 502, 200, 502]


def test_reads_retry_through_5xx_but_a_write_reports_it(emulator, emulator_client):
    emulator_client.connections()
    emulator.set_faults(error_rate=1.0, error_status=503)

    with pytest.raises(RailzServerError):
        emulator_client.connections()
    emulator.set_faults(error_rate=0.5, error_status=503)
    assert emulator_client.connections()  # one 503, then the retry gets through


def test_a_500_on_a_write_leaves_the_outcome_unknown(emulator, emulator_client):
    emulator_client.connections()
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, error_rate=1.0, error_status=500)

    with pytest.raises(RailzOutcomeUnknown):
        _push(emulator_client)


def test_faults_of_one_connection_leave_the_others_alone(emulator, emulator_client):
    emulator.set_faults(connection_uuid=DEMO_XERO, error_rate=1.0, error_status=502)

    assert emulator.get("/v2/accounting/customers", connectionUuid=DEMO_XERO).status_code == 502
    assert emulator.get("/v2/accounting/customers", connectionUuid=DEMO_QUICKBOOKS).ok


def test_a_storm_answers_429_to_the_next_n_requests(emulator):
    emulator.set_faults(storm_requests=2)
    token = emulator.token()

    answers = [emulator.get("/v2/connections", token=token) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert "X-RateLimit-Limit" in answers[0].headers


def test_a_storm_for_some_seconds_ends_when_they_pass(emulator, emulator_client):
    emulator_client.connections()
    with time_machine.travel(time.time(), tick=True) as traveller:
        emulator.set_faults(storm_seconds=30)
        with pytest.raises(RailzRateLimited) as raised:
            emulator_client.connections()
        traveller.shift(31)
        still = emulator.get("/v2/connections")

    assert 1 <= raised.value.retry_after <= 31
    assert still.status_code == 200


def test_latency_delays_every_answer(emulator):
    exchanges = []
    emulator.set_faults(latency_ms=120)

    client = emulator.client(on_exchange=exchanges.append)
    client.connections()

    api_calls = [e for e in exchanges if e.path == "/v2/connections"]
    assert api_calls and api_calls[-1].duration_ms >= 120


def test_stay_pending_holds_pushes_until_lifted(emulator, emulator_client):
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, stay_pending=True)

    answer = _push(emulator_client)
    held = _statuses(emulator_client)[0]
    emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    done = _statuses(emulator_client)[0]

    assert held["pushCommunicationId"] == answer["pushCommunicationId"]
    assert held["status"] == "pending"
    assert done["status"] == "success"


def test_duplicated_webhooks_deliver_the_same_event_twice(
    emulator, emulator_client, webhook_receiver
):
    emulator.set_faults(duplicate_webhooks=True)

    _push(emulator_client)
    first, second = webhook_receiver.wait_for(2)
    emulator.wait_for_webhooks()

    assert first.body == second.body
    assert len(webhook_receiver.requests) == 2


def test_out_of_order_webhooks_deliver_a_later_state_before_an_earlier_one(
    emulator, emulator_client, webhook_receiver
):
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, out_of_order_webhooks=True)

    answer = _push(emulator_client)
    first, second = webhook_receiver.wait_for(2)

    assert [first.json["data"]["status"], second.json["data"]["status"]] == [
        "success",
        "pending",
    ]
    assert {
        first.json["data"]["pushCommunicationId"],
        second.json["data"]["pushCommunicationId"],
    } == {answer["pushCommunicationId"]}
    assert first.json["requestId"] != second.json["requestId"]


def _invoices(client, connection_uuid: str) -> list[dict]:
    pages = client.iter_pages("/v2/accounting/invoices", connection_uuid=connection_uuid)
    return [i for page in pages for i in page.items]


def _demo_invoice_ids(connection_uuid: str) -> set[str]:
    """The open invoices the demo business made itself (its payments have something to pay)."""
    from railzpush.emulator.demo_data import documents

    return {i["id"] for i in documents(connection_uuid, "invoices")}


def test_a_dropped_answer_leaves_the_push_recorded_and_completing(emulator, emulator_client):
    emulator_client.connections()
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")

    with pytest.raises(RailzOutcomeUnknown) as raised:
        _push(emulator_client, invoiceNumber="LOST-1")

    assert "connection to Railz dropped" in str(raised.value), repr(raised.value)

    emulator.clear_faults()
    statuses = _statuses(emulator_client)
    assert [s["status"] for s in statuses] == ["success"], statuses
    status = statuses[0]
    own = _demo_invoice_ids(DEMO_QUICKBOOKS)
    invoices = [i for i in _invoices(emulator_client, DEMO_QUICKBOOKS) if i["id"] not in own]
    assert [i["invoiceNumber"] for i in invoices] == ["LOST-1"]
    assert invoices[0]["id"] == status["sourceObjectIds"][0]


def test_a_stalled_answer_times_out_the_client_but_the_push_is_recorded(emulator):
    client = emulator.client(read_timeout=0.3)
    client.connections()
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="stall", stall_seconds=1)

    with pytest.raises(RailzOutcomeUnknown) as raised:
        _push(client)

    assert "no answer came back in time" in str(raised.value)

    emulator.clear_faults()
    assert [s["status"] for s in _statuses(client)] == ["success"]


def test_the_control_endpoint_needs_the_client_credentials(emulator):
    anonymous = requests.get(emulator.control_url, timeout=10)
    wrong = requests.post(
        emulator.control_url, json={"action": "reset"}, auth=("x", "y"), timeout=10
    )

    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")


def test_the_control_endpoint_refuses_unknown_actions_and_faults(emulator):
    auth = (emulator.client_id, emulator.secret_key)

    unknown = requests.post(emulator.control_url, json={"action": "explode"}, auth=auth, timeout=10)
    bad_fault = requests.post(
        emulator.control_url,
        json={"action": "set_faults", "meltdown": True, "error_rate": 3},
        auth=auth,
        timeout=10,
    )

    assert unknown.status_code == 400
    assert bad_fault.status_code == 400
    assert bad_fault.json()["error"]["message"] == ["meltdown is not a fault"]


def test_reset_forgets_pushes_created_records_and_faults(emulator, emulator_client):
    _push(emulator_client)
    emulator.set_faults(latency_ms=5)

    state = emulator.control("reset")

    assert state["faults"] == []
    assert state["pushes"] == {"pending": 0, "success": 0, "failed": 0}
    # What is left is the demo business's own open invoices, none of what was pushed.
    listed = {i["id"] for i in _invoices(emulator_client, DEMO_QUICKBOOKS)}
    assert listed == _demo_invoice_ids(DEMO_QUICKBOOKS)
    assert emulator.get("/v2/accounting/customers", connectionUuid=DEMO_QUICKBOOKS).ok


def test_the_management_command_switches_faults(emulator):
    out = StringIO()

    call_command(
        "emulator_fault",
        "--connection",
        DEMO_XERO,
        "--error-rate",
        "1",
        "--stay-pending",
        stdout=out,
    )
    faults = emulator.state()["faults"]
    call_command("emulator_fault", "--clear", stdout=out)

    assert faults[0]["scope"] == DEMO_XERO
    assert faults[0]["error_rate"] == 1
    assert faults[0]["stay_pending"] is True
    assert emulator.state()["faults"] == []
    assert emulator.get("/v2/accounting/customers", connectionUuid=DEMO_XERO).ok


def test_the_management_command_resets_the_emulator(emulator, emulator_client):
    _push(emulator_client)

    call_command("emulator_fault", "--reset", stdout=StringIO())

    assert emulator.state()["pushes"]["success"] == 0
