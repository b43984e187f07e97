"""Every Railz request reads the shared pause and the shared token: one cache round trip."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.railz import RAILZ_API, RAILZ_AUTH, RAILZ_CONNECTION, railz_error_body

CUSTOMERS = RAILZ_API + "/v2/accounting/customers"


class CountingCache:
    """Django's test cache, with each call it receives written down (one per round trip on
    Redis)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._cache, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def counted(railz_client):
    from django.core.cache import cache

    cache.clear()
    counting = CountingCache(cache)
    return counting, railz_client(cache=counting, max_wait=120)


def _push(client) -> dict:
    return client.create(
        "customers",
        connection_uuid=RAILZ_CONNECTION,
        data={"customerName": "Bean There"},
        service_name="quickbooks",
    )


def _auth_calls(mock) -> int:
    return sum(1 for c in mock.calls if c.request.url.startswith(RAILZ_AUTH))


def test_a_request_with_a_kept_token_costs_one_cache_read(railz_api, counted):
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    cache, client = counted
    _push(client)  # fetches and keeps the token
    cache.calls.clear()

    _push(client)
    _push(client)

    assert [c for c in cache.calls if c.startswith("get")] == ["get_many", "get_many"]
    assert _auth_calls(railz_api) == 1


def test_a_pause_read_in_that_round_trip_is_waited_out_then_read_again(
    railz_api, counted, railz_client, railz_clock
):
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    cache, client = counted
    _push(client)
    railz_client().budget.pause_for(30)  # another process saw Railz's budget spent
    cache.calls.clear()

    _push(client)

    assert railz_clock.sleeps == [30]
    # After the wait the pause and the token are read again, not taken from before it.
    assert [c for c in cache.calls if c.startswith("get")] == ["get_many", "get", "get"]
    assert _auth_calls(railz_api) == 1


def test_a_refused_token_is_not_taken_from_that_round_trip_again(railz_api, counted):
    unauthorized = railz_error_body(401, ["Unauthorized"], "Unauthorized")
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    railz_api.post(CUSTOMERS, status=401, json=unauthorized)
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    _cache, client = counted
    _push(client)  # keeps a token
    assert _auth_calls(railz_api) == 1

    assert _push(client) == {"status": "pending"}

    # Railz refused the kept token read in the first round trip: the resend fetched a new one
    # instead of taking the refused one from that read again.
    assert _auth_calls(railz_api) == 2
    assert len([c for c in railz_api.calls if c.request.url.startswith(CUSTOMERS)]) == 3
