"""The client gets a token with HTTP Basic, shares it through the cache, and refreshes it."""

import base64
import json
import time

import pytest
import responses
from django.core.cache import cache

from railzpush.railz import RailzAuthError, RailzTransportError, get_client
from tests.fixtures.railz import (
    RAILZ_API,
    RAILZ_AUTH,
    RAILZ_CLIENT_ID,
    RAILZ_CONNECTION,
    RAILZ_SECRET,
    railz_error_body,
    railz_jwt,
)

BUSINESS_INFO = RAILZ_API + "/v2/businesses/info"


def _info_ok(mock):
    mock.get(BUSINESS_INFO, json={"meta": {"connectionUuid": RAILZ_CONNECTION}, "data": {}})


def _auth_calls(mock):
    return [c for c in mock.calls if c.request.url.startswith(RAILZ_AUTH)]


def _api_calls(mock):
    return [c for c in mock.calls if c.request.url.startswith(RAILZ_API)]


def _replace_auth(mock, *bodies):
    """Answer getAccess with `bodies` in turn: (status, json) pairs."""
    mock.remove(responses.GET, RAILZ_AUTH)
    for status, body in bodies:
        mock.get(RAILZ_AUTH, status=status, json=body)


def test_token_is_fetched_with_basic_auth_and_sent_as_bearer(railz_api, railz_client):
    _info_ok(railz_api)

    railz_client().business_info(connection_uuid=RAILZ_CONNECTION)

    (auth_call,) = _auth_calls(railz_api)
    expected = base64.b64encode(f"{RAILZ_CLIENT_ID}:{RAILZ_SECRET}".encode()).decode()
    assert auth_call.request.headers["Authorization"] == f"Basic {expected}"
    token = auth_call.response.json()["access_token"]
    (api_call,) = _api_calls(railz_api)
    assert api_call.request.headers["Authorization"] == f"Bearer {token}"


def test_two_clients_sharing_a_cache_fetch_one_token(railz_api, railz_client):
    _info_ok(railz_api)

    railz_client().business_info(connection_uuid=RAILZ_CONNECTION)
    railz_client().business_info(connection_uuid=RAILZ_CONNECTION)

    assert len(_auth_calls(railz_api)) == 1
    tokens = {c.request.headers["Authorization"] for c in _api_calls(railz_api)}
    assert len(tokens) == 1


def test_token_cache_key_is_derived_from_client_id_without_the_secret(railz_api, railz_client):
    _info_ok(railz_api)
    client = railz_client()

    client.business_info(connection_uuid=RAILZ_CONNECTION)

    assert cache.get(client.tokens.cache_key)["token"]
    assert RAILZ_SECRET not in client.tokens.cache_key
    other = railz_client(client_id="another-team")
    assert other.tokens.cache_key != client.tokens.cache_key


def test_token_is_reused_until_five_minutes_before_it_expires(railz_api, railz_client, railz_clock):
    _info_ok(railz_api)
    client = railz_client()
    client.business_info(connection_uuid=RAILZ_CONNECTION)

    railz_clock.advance(54 * 60)
    client.business_info(connection_uuid=RAILZ_CONNECTION)
    assert len(_auth_calls(railz_api)) == 1

    railz_clock.advance(2 * 60)  # 56 minutes: inside the 5-minute margin
    client.business_info(connection_uuid=RAILZ_CONNECTION)
    assert len(_auth_calls(railz_api)) == 2
    first, second = (c.request.headers["Authorization"] for c in _api_calls(railz_api)[1:])
    assert first != second


def test_token_without_exp_is_refreshed_55_minutes_after_it_was_issued(
    railz_api, railz_client, railz_clock
):
    _replace_auth(
        railz_api,
        (200, {"access_token": railz_jwt(iat=time.time())}),
        (200, {"access_token": railz_jwt(iat=time.time() + 3300)}),
    )
    _info_ok(railz_api)
    client = railz_client()
    client.business_info(connection_uuid=RAILZ_CONNECTION)

    railz_clock.advance(54 * 60 + 59)
    client.business_info(connection_uuid=RAILZ_CONNECTION)
    assert len(_auth_calls(railz_api)) == 1

    railz_clock.advance(2)
    client.business_info(connection_uuid=RAILZ_CONNECTION)
    assert len(_auth_calls(railz_api)) == 2


def test_a_401_fetches_a_new_token_once_and_resends(railz_api, railz_client):
    railz_api.get(
        BUSINESS_INFO, status=401, json=railz_error_body(401, ["Unauthorized"], "Unauthorized")
    )
    railz_api.get(BUSINESS_INFO, json={"meta": {}, "data": {"businessName": "Maple Leaf"}})

    info = railz_client().business_info(connection_uuid=RAILZ_CONNECTION)

    assert info == {"businessName": "Maple Leaf"}
    assert len(_auth_calls(railz_api)) == 2
    assert len(_api_calls(railz_api)) == 2


def test_a_second_401_gives_up_with_an_auth_error(railz_api, railz_client):
    unauthorized = railz_error_body(401, ["Unauthorized"], "Unauthorized")
    railz_api.get(BUSINESS_INFO, status=401, json=unauthorized)

    with pytest.raises(RailzAuthError) as caught:
        railz_client().business_info(connection_uuid=RAILZ_CONNECTION)

    assert caught.value.status_code == 401
    assert not caught.value.retryable
    assert len(_auth_calls(railz_api)) == 2
    assert len(_api_calls(railz_api)) == 2


def test_a_401_on_a_write_resends_it_once_with_a_fresh_token(railz_api, railz_client):
    url = RAILZ_API + "/v2/accounting/customers"
    railz_api.post(url, status=401, json=railz_error_body(401, ["Unauthorized"], "Unauthorized"))
    railz_api.post(
        url, json={"status": "pending", "pushCommunicationId": "65f1c0a2b3d4e5f601234567"}
    )

    answer = railz_client().create(
        "customers", connection_uuid=RAILZ_CONNECTION, data={"customerName": "Bean There"}
    )

    assert answer["pushCommunicationId"] == "65f1c0a2b3d4e5f601234567"
    assert len(_api_calls(railz_api)) == 2


def test_refused_keys_at_get_access_raise_a_readable_auth_error(railz_api, railz_client):
    _replace_auth(railz_api, (401, railz_error_body(401, ["Unauthorized"], "Unauthorized")))
    _info_ok(railz_api)

    with pytest.raises(RailzAuthError) as caught:
        railz_client().business_info(connection_uuid=RAILZ_CONNECTION)

    assert "Railz refused our API keys" in str(caught.value)
    assert RAILZ_SECRET not in str(caught.value)
    assert _api_calls(railz_api) == []


def test_get_access_without_a_token_is_an_auth_error(railz_api, railz_client):
    _replace_auth(railz_api, (200, {"message": "ok"}))

    with pytest.raises(RailzAuthError, match="without an access token"):
        railz_client().business_info(connection_uuid=RAILZ_CONNECTION)


def test_get_access_server_error_is_a_retryable_auth_error(railz_api, railz_client):
    _replace_auth(railz_api, *[(502, {"message": "Bad Gateway"})] * 4)

    with pytest.raises(RailzAuthError) as caught:
        railz_client(get_retries=0).business_info(connection_uuid=RAILZ_CONNECTION)

    assert caught.value.retryable
    assert caught.value.status_code == 502


def test_unreachable_get_access_is_a_transport_error(railz_api, railz_client):
    import requests

    railz_api.remove(responses.GET, RAILZ_AUTH)
    railz_api.get(RAILZ_AUTH, body=requests.ConnectionError("Connection refused"))

    with pytest.raises(RailzTransportError):
        railz_client(get_retries=0).business_info(connection_uuid=RAILZ_CONNECTION)


def test_get_client_reads_settings_and_shares_the_django_cache(settings, railz_api):
    settings.RAILZ_API_URL = RAILZ_API
    settings.RAILZ_AUTH_URL = RAILZ_AUTH
    settings.RAILZ_CLIENT_ID = RAILZ_CLIENT_ID
    settings.RAILZ_SECRET_KEY = RAILZ_SECRET
    settings.RAILZ_CONNECT_TIMEOUT = 2.5
    settings.RAILZ_READ_TIMEOUT = 12.0
    _info_ok(railz_api)

    first, second = get_client(), get_client()
    first.business_info(connection_uuid=RAILZ_CONNECTION)
    second.business_info(connection_uuid=RAILZ_CONNECTION)

    assert first.timeout == (2.5, 12.0)
    assert first.tokens.cache is cache
    assert len(_auth_calls(railz_api)) == 1
    assert json.loads(json.dumps(first.budget.provider_limits)) == settings.RAILZ_PROVIDER_LIMITS
