"""Every exchange is logged and recorded, and no token or key ever appears in either."""

import json
import logging

import pytest
import requests

from railzpush.railz import Exchange, RailzOutcomeUnknown, RailzRejected
from railzpush.railz.redact import REDACTED, redact
from tests.fixtures.railz import (
    RAILZ_API,
    RAILZ_AUTH,
    RAILZ_CONNECTION,
    RAILZ_SECRET,
    railz_error_body,
    railz_push_answer,
)

CUSTOMERS = RAILZ_API + "/v2/accounting/customers"
CUSTOMER = {"customerName": "Bean There", "email": "ap@beanthere.example"}


def _token(mock) -> str:
    (auth_call,) = [c for c in mock.calls if c.request.url.startswith(RAILZ_AUTH)]
    return auth_call.response.json()["access_token"]


def _everything(exchanges: list[Exchange]) -> str:
    return json.dumps([vars(e) for e in exchanges], default=str)


def test_every_exchange_is_recorded_including_the_token_fetch(railz_api, railz_client):
    answer = railz_push_answer(CUSTOMER, push_communication_id="65f1c0a2b3d4e5f601234567")
    railz_api.post(CUSTOMERS, json=answer)
    exchanges: list[Exchange] = []

    railz_client().create(
        "customers", connection_uuid=RAILZ_CONNECTION, data=CUSTOMER, on_exchange=exchanges.append
    )

    auth, push = exchanges
    assert (auth.method, auth.path, auth.status_code) == ("GET", "/getAccess", 200)
    assert auth.response_body == {"access_token": REDACTED}
    assert (push.method, push.path, push.status_code, push.error) == (
        "POST",
        "/v2/accounting/customers",
        200,
        None,
    )
    assert push.request_body == {"connectionUuid": RAILZ_CONNECTION, "data": CUSTOMER}
    assert push.response_body == answer
    assert push.duration_ms >= 0
    assert _token(railz_api) not in _everything(exchanges)
    assert RAILZ_SECRET not in _everything(exchanges)


def test_failed_exchanges_are_recorded_with_a_readable_error(railz_api, railz_client):
    railz_api.post(
        CUSTOMERS,
        status=400,
        json=railz_error_body(400, ["data.email must be an email"], "Bad Request"),
    )
    railz_api.post(CUSTOMERS, body=requests.ReadTimeout("read timed out"))
    exchanges: list[Exchange] = []
    client = railz_client(on_exchange=exchanges.append)

    with pytest.raises(RailzRejected):
        client.create("customers", connection_uuid=RAILZ_CONNECTION, data=CUSTOMER)
    with pytest.raises(RailzOutcomeUnknown):
        client.create("customers", connection_uuid=RAILZ_CONNECTION, data=CUSTOMER)

    rejected, lost = exchanges[1:]
    assert rejected.status_code == 400
    assert rejected.error == "Railz rejected the request. Railz said: data.email must be an email."
    assert lost.status_code is None
    assert lost.response_body is None
    assert lost.error == "ReadTimeout: read timed out"
    assert lost.request_body == {"connectionUuid": RAILZ_CONNECTION, "data": CUSTOMER}


def test_secret_looking_fields_are_redacted_in_exchanges(railz_api, railz_client):
    railz_api.post(CUSTOMERS, json={"status": "pending", "refreshToken": "leak-me"})
    exchanges: list[Exchange] = []
    data = {"customerName": "Bean There", "notes": [{"password": "hunter2"}]}

    railz_client().create(
        "customers", connection_uuid=RAILZ_CONNECTION, data=data, on_exchange=exchanges.append
    )

    push = exchanges[-1]
    assert push.request_body["data"]["notes"] == [{"password": REDACTED}]
    assert push.response_body == {"status": "pending", "refreshToken": REDACTED}
    assert "hunter2" not in _everything(exchanges) and "leak-me" not in _everything(exchanges)


def test_info_logs_name_method_path_status_and_duration_but_no_body(
    railz_api, railz_client, caplog
):
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    caplog.set_level(logging.INFO, logger="railzpush.railz")

    railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data=CUSTOMER)

    lines = [r.getMessage() for r in caplog.records if r.name == "railzpush.railz"]
    assert lines[-1].startswith("Railz POST /v2/accounting/customers -> 200 in ")
    assert lines[-1].endswith(" ms")
    assert "Bean There" not in caplog.text
    assert _token(railz_api) not in caplog.text
    assert RAILZ_SECRET not in caplog.text


def test_debug_logs_bodies_redacted_and_never_the_token_or_key(railz_api, railz_client, caplog):
    railz_api.post(CUSTOMERS, status=400, json=railz_error_body(400, ["bad"], "Bad Request"))
    railz_api.post(CUSTOMERS, body=requests.ConnectionError("Connection reset by peer"))
    caplog.set_level(logging.DEBUG)
    client = railz_client()

    with pytest.raises(RailzRejected):
        client.create("customers", connection_uuid=RAILZ_CONNECTION, data=CUSTOMER)
    with pytest.raises(RailzOutcomeUnknown):
        client.create("customers", connection_uuid=RAILZ_CONNECTION, data=CUSTOMER)

    assert "Bean There" in caplog.text  # bodies are there at DEBUG...
    assert _token(railz_api) not in caplog.text  # ...but never the token,
    assert RAILZ_SECRET not in caplog.text  # the key,
    assert "Bearer" not in caplog.text and "Basic" not in caplog.text  # or a header.
    assert f"{REDACTED}" in caplog.text  # getAccess's answer is logged redacted


def test_redact_catches_keys_in_any_case_and_depth():
    body = {
        "access_token": "a",
        "Authorization": "Bearer b",
        "secretKey": "c",
        "X-Api-Key": "d",
        "lines": [{"clientSecret": "e", "amount": 10}],
        "pushCommunicationId": "kept",
    }

    assert redact(body) == {
        "access_token": REDACTED,
        "Authorization": REDACTED,
        "secretKey": REDACTED,
        "X-Api-Key": REDACTED,
        "lines": [{"clientSecret": REDACTED, "amount": 10}],
        "pushCommunicationId": "kept",
    }
