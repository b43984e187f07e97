"""Each Railz answer becomes the right error, with `retryable` and `outcome_unknown` set."""

import pytest
import requests
from urllib3.connection import HTTPConnection
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from railzpush.railz import (
    RailzAuthError,
    RailzConflict,
    RailzDataNotReady,
    RailzError,
    RailzNotSupported,
    RailzOutcomeUnknown,
    RailzRateLimited,
    RailzRejected,
    RailzServerError,
    RailzTransportError,
)
from tests.fixtures.railz import RAILZ_API, RAILZ_CONNECTION, railz_error_body

CUSTOMERS = RAILZ_API + "/v2/accounting/customers"
PUSH_STATUS = RAILZ_API + "/v2/data/pushStatus"

READ_ANSWERS = [
    (400, ["connectionUuid should not be empty"], "Bad Request", RailzRejected, False),
    (401, ["Unauthorized"], "Unauthorized", RailzAuthError, False),
    (403, ["Forbidden resource"], "Forbidden", RailzAuthError, False),
    (404, ["Endpoint Not Allowed"], "Not Found", RailzNotSupported, False),
    (409, ["The request conflicts with another request."], "Conflict", RailzConflict, False),
    (429, ["Too Many Requests"], "Too Many Requests", RailzRateLimited, True),
    (500, ["INTERNAL_ERROR"], "Internal Server Error", RailzServerError, True),
    (502, ["Bad Gateway"], "Bad Gateway", RailzServerError, True),
    (503, ["Service Unavailable"], "Service Unavailable", RailzServerError, True),
    (504, ["Gateway Timeout"], "Gateway Timeout", RailzServerError, True),
]


@pytest.mark.parametrize(("status", "messages", "label", "error_class", "retryable"), READ_ANSWERS)
def test_read_answer_becomes_its_error(
    railz_api, railz_client, status, messages, label, error_class, retryable
):
    railz_api.get(PUSH_STATUS, status=status, json=railz_error_body(status, messages, label))

    with pytest.raises(error_class) as caught:
        railz_client(get_retries=0).push_status(connection_uuid=RAILZ_CONNECTION)

    error = caught.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.messages == messages
    assert error.retryable is retryable
    assert error.outcome_unknown is False


WRITE_ANSWERS = [
    (400, RailzRejected, False, False),
    (403, RailzAuthError, False, False),
    (404, RailzNotSupported, False, False),
    (409, RailzConflict, False, False),
    (429, RailzRateLimited, True, False),
    (500, RailzOutcomeUnknown, False, True),
    (502, RailzOutcomeUnknown, False, True),
    (503, RailzServerError, True, False),
    (504, RailzOutcomeUnknown, False, True),
]


@pytest.mark.parametrize(("status", "error_class", "retryable", "unknown"), WRITE_ANSWERS)
def test_write_answer_becomes_its_error(
    railz_api, railz_client, status, error_class, retryable, unknown
):
    messages = ["Endpoint Not Allowed"] if status == 404 else [f"answer {status}"]
    railz_api.post(CUSTOMERS, status=status, json=railz_error_body(status, messages, "Error"))

    with pytest.raises(error_class) as caught:
        railz_client().create(
            "customers", connection_uuid=RAILZ_CONNECTION, data={"customerName": "Bean There"}
        )

    assert type(caught.value) is error_class
    assert caught.value.retryable is retryable
    assert caught.value.outcome_unknown is unknown
    assert caught.value.status_code == status


def test_rejection_lists_every_railz_message_in_a_readable_sentence(railz_api, railz_client):
    messages = [
        "data.customerName must be shorter than or equal to 500 characters",
        "data.email must be an email",
    ]
    railz_api.post(CUSTOMERS, status=400, json=railz_error_body(400, messages, "Bad Request"))

    with pytest.raises(RailzRejected) as caught:
        railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data={})

    assert str(caught.value) == (
        "Railz rejected the request. Railz said: data.customerName must be shorter than or "
        "equal to 500 characters; data.email must be an email."
    )


def test_a_404_that_is_not_endpoint_not_allowed_is_a_rejection(railz_api, railz_client):
    url = RAILZ_API + "/v2/accounting/invoices/INV-404"
    railz_api.put(url, status=404, json=railz_error_body(404, ["Not Found"], "Not Found"))

    with pytest.raises(RailzRejected) as caught:
        railz_client().update(
            "invoices", connection_uuid=RAILZ_CONNECTION, record_id="INV-404", data={}
        )

    assert caught.value.status_code == 404
    assert "could not find" in str(caught.value)


def test_unwrapped_404_endpoint_not_allowed_is_not_supported(railz_api, railz_client):
    # Error404Dto is the one error Railz sends without the {error, payload} envelope.
    body = {"statusCode": 404, "message": ["Endpoint Not Allowed"], "error": "Not Found"}
    railz_api.get(PUSH_STATUS, status=404, json=body)

    with pytest.raises(RailzNotSupported):
        railz_client(get_retries=0).push_status(connection_uuid=RAILZ_CONNECTION)


def test_429_takes_its_wait_from_retry_after(railz_api, railz_client):
    railz_api.post(CUSTOMERS, status=429, headers={"Retry-After": "17"})

    with pytest.raises(RailzRateLimited) as caught:
        railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data={})

    assert caught.value.retry_after == 17
    assert str(caught.value) == "Too many requests were sent to Railz; try again in 17 seconds."


def test_429_takes_its_wait_from_x_ratelimit_reset(railz_api, railz_client):
    railz_api.post(
        CUSTOMERS,
        status=429,
        headers={
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "23",
        },
        json=railz_error_body(429, ["Too Many Requests"], "Too Many Requests"),
    )

    with pytest.raises(RailzRateLimited) as caught:
        railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data={})

    assert caught.value.retry_after == 23


def _refused() -> requests.ConnectionError:
    conn = HTTPConnection("api.railz.test")
    reason = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111] refused")
    return requests.ConnectionError(MaxRetryError(None, "/v2/accounting/customers", reason))


def _dropped() -> requests.ConnectionError:
    from http.client import RemoteDisconnected

    cause = RemoteDisconnected("Remote end closed connection without response")
    return requests.ConnectionError(ProtocolError("Connection aborted.", cause))


def _reset() -> requests.ConnectionError:
    cause = ConnectionResetError(104, "Connection reset by peer")
    return requests.ConnectionError(ProtocolError("Connection aborted.", cause))


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (_refused, RailzTransportError),
        (lambda: requests.ConnectTimeout("connect timed out"), RailzTransportError),
        (lambda: requests.ReadTimeout("read timed out"), RailzOutcomeUnknown),
        (_dropped, RailzOutcomeUnknown),
        (_reset, RailzOutcomeUnknown),
    ],
    ids=["refused", "connect-timeout", "read-timeout", "remote-disconnected", "reset"],
)
def test_lost_write_is_outcome_unknown_but_unsent_write_is_transport_error(
    railz_api, railz_client, failure, error_class
):
    railz_api.post(CUSTOMERS, body=failure())

    with pytest.raises(error_class) as caught:
        railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data={})

    error = caught.value
    if error_class is RailzOutcomeUnknown:
        assert error.outcome_unknown and not error.retryable
        assert "not known whether the accounting system received it" in str(error)
    else:
        assert error.retryable and not error.outcome_unknown
        assert "nothing was sent" in str(error)


def test_write_accepted_without_a_readable_answer_is_outcome_unknown(railz_api, railz_client):
    railz_api.post(CUSTOMERS, status=200, body="<html>upstream</html>")

    with pytest.raises(RailzOutcomeUnknown):
        railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data={})


def test_every_error_reads_as_a_sentence():
    for error in [
        RailzRejected(messages=["postedDate must be formatted as yyyy-mm-dd"]),
        RailzAuthError(),
        RailzNotSupported(),
        RailzConflict(),
        RailzRateLimited(retry_after=2.4),
        RailzServerError(),
        RailzTransportError(),
        RailzOutcomeUnknown(),
        RailzDataNotReady(),
    ]:
        text = str(error)
        assert isinstance(error, RailzError)
        assert text[0].isupper() and text.endswith("."), text
        assert "Traceback" not in text and "None" not in text
