"""GETs are retried with backoff on 429, 5xx and transport errors; writes never are."""

import pytest
import requests

from railzpush.railz import (
    RailzError,
    RailzRateLimited,
    RailzRejected,
    RailzServerError,
    RailzTransportError,
)
from tests.fixtures.railz import RAILZ_API, RAILZ_CONNECTION, railz_error_body

PUSH_STATUS = RAILZ_API + "/v2/data/pushStatus"
CUSTOMERS = RAILZ_API + "/v2/accounting/customers"
STATUS_BODY = {
    "meta": {
        "connectionUuid": RAILZ_CONNECTION,
        "businessName": "Maple Leaf Coffee Roasters",
        "serviceName": "xero",
        "count": 1,
    },
    "data": [
        {
            "serviceName": "xero",
            "dataType": "invoices",
            "requestedOn": "2025-03-03T08:58:39.781Z",
            "completedOn": "2025-03-03T08:58:41.002Z",
            "status": "success",
            "responseCode": 200,
            "pushCommunicationId": "65f1c0a2b3d4e5f601234567",
            "sourceObjectIds": ["6f3c2b1a-1b2c-4d5e-8f90-0a1b2c3d4e5f"],
        }
    ],
}
SERVER_ERROR = railz_error_body(500, ["INTERNAL_ERROR"], "Internal Server Error")


def _api_calls(mock, url):
    return [c for c in mock.calls if c.request.url.startswith(url)]


def test_get_is_retried_after_server_errors_and_succeeds(railz_api, railz_client, railz_clock):
    railz_api.get(PUSH_STATUS, status=500, json=SERVER_ERROR)
    railz_api.get(PUSH_STATUS, status=502, body="Bad Gateway")
    railz_api.get(PUSH_STATUS, json=STATUS_BODY)

    body = railz_client().push_status(connection_uuid=RAILZ_CONNECTION)

    assert body["data"][0]["sourceObjectIds"] == ["6f3c2b1a-1b2c-4d5e-8f90-0a1b2c3d4e5f"]
    assert len(_api_calls(railz_api, PUSH_STATUS)) == 3
    # Exponential: the ceiling doubles each time (jitter is pinned to its maximum).
    assert railz_clock.sleeps == [1.0, 2.0]


def test_backoff_uses_full_jitter(railz_api, railz_client, railz_clock):
    railz_api.get(PUSH_STATUS, status=503, json=SERVER_ERROR)
    railz_api.get(PUSH_STATUS, status=503, json=SERVER_ERROR)
    railz_api.get(PUSH_STATUS, status=503, json=SERVER_ERROR)
    railz_api.get(PUSH_STATUS, json=STATUS_BODY)

    railz_client(jitter=lambda: 0.25).push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [0.25, 0.5, 1.0]


def test_get_gives_up_after_its_retries(railz_api, railz_client, railz_clock):
    railz_api.get(PUSH_STATUS, status=500, json=SERVER_ERROR)

    with pytest.raises(RailzServerError):
        railz_client(get_retries=2).push_status(connection_uuid=RAILZ_CONNECTION)

    assert len(_api_calls(railz_api, PUSH_STATUS)) == 3
    assert railz_clock.sleeps == [1.0, 2.0]


def test_get_is_retried_after_a_transport_error(railz_api, railz_client):
    railz_api.get(PUSH_STATUS, body=requests.ConnectionError("Connection reset by peer"))
    railz_api.get(PUSH_STATUS, body=requests.ReadTimeout("read timed out"))
    railz_api.get(PUSH_STATUS, json=STATUS_BODY)

    body = railz_client().push_status(connection_uuid=RAILZ_CONNECTION)

    assert body["meta"]["count"] == 1


def test_get_transport_errors_end_as_a_retryable_transport_error(railz_api, railz_client):
    railz_api.get(PUSH_STATUS, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(RailzTransportError) as caught:
        railz_client(get_retries=1).push_status(connection_uuid=RAILZ_CONNECTION)

    assert caught.value.retryable and not caught.value.outcome_unknown
    assert len(_api_calls(railz_api, PUSH_STATUS)) == 2


def test_rejections_are_not_retried(railz_api, railz_client, railz_clock):
    railz_api.get(
        PUSH_STATUS,
        status=400,
        json=railz_error_body(400, ["connectionUuid should not be empty"], "Bad Request"),
    )

    with pytest.raises(RailzRejected):
        railz_client().push_status(connection_uuid="")

    assert len(_api_calls(railz_api, PUSH_STATUS)) == 1
    assert railz_clock.sleeps == []


def test_retry_after_is_honoured_before_the_retry(railz_api, railz_client, railz_clock):
    railz_api.get(PUSH_STATUS, status=429, headers={"Retry-After": "7"})
    railz_api.get(PUSH_STATUS, json=STATUS_BODY)

    railz_client().push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [7.0]
    assert len(_api_calls(railz_api, PUSH_STATUS)) == 2


def test_x_ratelimit_reset_is_honoured_before_the_retry(railz_api, railz_client, railz_clock):
    railz_api.get(
        PUSH_STATUS,
        status=429,
        headers={
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "12",
        },
    )
    railz_api.get(PUSH_STATUS, json=STATUS_BODY)

    railz_client().push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [12.0]


def test_429_without_a_wait_backs_off_exponentially(railz_api, railz_client, railz_clock):
    railz_api.get(PUSH_STATUS, status=429)
    railz_api.get(PUSH_STATUS, status=429)
    railz_api.get(PUSH_STATUS, json=STATUS_BODY)

    railz_client().push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [1.0, 2.0]


def test_a_wait_longer_than_the_maximum_is_raised_instead_of_slept(
    railz_api, railz_client, railz_clock
):
    railz_api.get(PUSH_STATUS, status=429, headers={"Retry-After": "45"})

    with pytest.raises(RailzRateLimited) as caught:
        railz_client(max_wait=30).push_status(connection_uuid=RAILZ_CONNECTION)

    assert caught.value.retry_after == 45
    assert railz_clock.sleeps == []
    assert len(_api_calls(railz_api, PUSH_STATUS)) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": SERVER_ERROR},
        {"status": 503, "json": SERVER_ERROR},
        {"status": 429, "headers": {"Retry-After": "1"}},
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectTimeout("connect timed out")},
    ],
    ids=["500", "503", "429", "read-timeout", "connect-timeout"],
)
def test_writes_are_never_retried(railz_api, railz_client, railz_clock, answer):
    railz_api.post(CUSTOMERS, **answer)
    railz_api.post(CUSTOMERS, json={"status": "pending"})

    with pytest.raises(RailzError):
        railz_client().create("customers", connection_uuid=RAILZ_CONNECTION, data={})

    assert len(_api_calls(railz_api, CUSTOMERS)) == 1
    assert railz_clock.sleeps == []
