"""All processes share one request budget: they wait instead of provoking 429s."""

import os
import time
import uuid

import pytest

from railzpush.railz import RailzRateLimited
from tests.fixtures.railz import RAILZ_API, RAILZ_CONNECTION

PUSH_STATUS = RAILZ_API + "/v2/data/pushStatus"
CUSTOMERS = RAILZ_API + "/v2/accounting/customers"
OTHER_CONNECTION = "CON-9f1c2a4e-0002-4c5a-8b2e-7d1e3f5a0002"
# The frozen clock starts at 09:00:10, 50 seconds before the next one-minute window.
REST_OF_WINDOW = 50.0


def _api_calls(mock):
    return [c for c in mock.calls if c.request.url.startswith(RAILZ_API)]


def _push(client, connection_uuid=RAILZ_CONNECTION, service_name="xero"):
    return client.create(
        "customers",
        connection_uuid=connection_uuid,
        data={"customerName": "Bean There"},
        service_name=service_name,
    )


def test_the_team_limit_is_shared_and_waited_for(railz_api, railz_client, railz_clock):
    railz_api.get(PUSH_STATUS, json={"meta": {}, "data": []})
    web = railz_client(rate_limit_per_minute=3, max_wait=60)
    worker = railz_client(rate_limit_per_minute=3, max_wait=60)

    web.push_status(connection_uuid=RAILZ_CONNECTION)
    worker.push_status(connection_uuid=RAILZ_CONNECTION)
    web.push_status(connection_uuid=RAILZ_CONNECTION)
    assert railz_clock.sleeps == []

    worker.push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [REST_OF_WINDOW]
    assert len(_api_calls(railz_api)) == 4


def test_a_wait_beyond_the_maximum_raises_rate_limited_without_calling(
    railz_api, railz_client, railz_clock
):
    railz_api.get(PUSH_STATUS, json={"meta": {}, "data": []})
    client = railz_client(rate_limit_per_minute=1, max_wait=30)
    client.push_status(connection_uuid=RAILZ_CONNECTION)

    with pytest.raises(RailzRateLimited) as caught:
        client.push_status(connection_uuid=RAILZ_CONNECTION)

    assert caught.value.retry_after == REST_OF_WINDOW
    assert caught.value.retryable
    assert railz_clock.sleeps == []
    assert len(_api_calls(railz_api)) == 1


def test_writes_keep_each_connection_under_its_provider_limit(railz_api, railz_client, railz_clock):
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    client = railz_client(provider_limits={"xero": 2}, max_wait=60)

    _push(client)
    _push(client)
    _push(client, connection_uuid=OTHER_CONNECTION)  # its own provider budget
    assert railz_clock.sleeps == []

    _push(client)

    assert railz_clock.sleeps == [REST_OF_WINDOW]
    assert len(_api_calls(railz_api)) == 4


def test_providers_without_a_limit_and_reads_do_not_use_the_provider_budget(
    railz_api, railz_client, railz_clock
):
    railz_api.post(CUSTOMERS, json={"status": "pending"})
    railz_api.get(PUSH_STATUS, json={"meta": {}, "data": []})
    client = railz_client(provider_limits={"xero": 1})

    _push(client, service_name="quickbooks")
    _push(client, service_name="quickbooks")
    _push(client)
    client.push_status(connection_uuid=RAILZ_CONNECTION)
    client.push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == []


def test_remaining_zero_pauses_every_process_until_the_reset(railz_api, railz_client, railz_clock):
    railz_api.get(
        PUSH_STATUS,
        json={"meta": {}, "data": []},
        headers={
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "12",
        },
    )
    web, worker = railz_client(), railz_client()

    web.push_status(connection_uuid=RAILZ_CONNECTION)
    assert railz_clock.sleeps == []
    worker.push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [12.0]
    assert len(_api_calls(railz_api)) == 2


def test_remaining_above_zero_does_not_pause(railz_api, railz_client, railz_clock):
    railz_api.get(
        PUSH_STATUS,
        json={"meta": {}, "data": []},
        headers={
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "1",
            "X-RateLimit-Reset": "12",
        },
    )
    client = railz_client()

    client.push_status(connection_uuid=RAILZ_CONNECTION)
    client.push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == []


def test_a_429_with_retry_after_pauses_other_processes_too(railz_api, railz_client, railz_clock):
    railz_api.post(CUSTOMERS, status=429, headers={"Retry-After": "9"})
    railz_api.get(PUSH_STATUS, json={"meta": {}, "data": []})

    with pytest.raises(RailzRateLimited):
        _push(railz_client())
    railz_client().push_status(connection_uuid=RAILZ_CONNECTION)

    assert railz_clock.sleeps == [9.0]


def test_a_pause_longer_than_the_maximum_is_handed_back_to_the_caller(
    railz_api, railz_client, railz_clock
):
    railz_api.get(
        PUSH_STATUS,
        json={"meta": {}, "data": []},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "55"},
    )
    client = railz_client(max_wait=30)
    client.push_status(connection_uuid=RAILZ_CONNECTION)

    with pytest.raises(RailzRateLimited) as caught:
        _push(client)

    assert caught.value.retry_after == 55
    assert len(_api_calls(railz_api)) == 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_the_budget_and_pause_are_shared_through_redis(railz_clock):
    # The production cache: add + incr must count across separate cache clients (processes).
    from railzpush.cache import RedisCache
    from railzpush.railz.ratelimit import RateBudget

    def budget() -> RateBudget:
        redis_cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": prefix})
        return RateBudget(
            cache=redis_cache,
            scope="team",
            limit_per_minute=3,
            provider_limits={"xero": 60},
            clock=time.time,
            sleep=railz_clock.sleep,
            max_wait=60,
        )

    prefix = f"test-{uuid.uuid4()}"
    web, worker = budget(), budget()
    for shared in (web, worker, web):
        shared.acquire()
    assert railz_clock.sleeps == []

    worker.acquire()
    assert railz_clock.sleeps == [REST_OF_WINDOW]

    web.pause_for(7)
    worker.acquire()
    assert railz_clock.sleeps == [REST_OF_WINDOW, 7.0]


def test_a_process_takes_the_team_budget_a_few_requests_at_a_time_and_never_past_it(
    railz_api, railz_client, railz_clock
):
    from django.core.cache import cache

    railz_api.get(PUSH_STATUS, json={"meta": {}, "data": []})
    web = railz_client(rate_limit_per_minute=1000, max_wait=0)
    worker = railz_client(rate_limit_per_minute=1000, max_wait=0)
    window = int(time.time() // 60)
    team = f"{web.budget.prefix}:team:{window}"

    web.push_status(connection_uuid=RAILZ_CONNECTION)
    # The first request reserved ten for this process in the shared count...
    assert cache.get(team) == 10
    for _ in range(9):
        web.push_status(connection_uuid=RAILZ_CONNECTION)
    # ...which the next nine spent without counting again.
    assert cache.get(team) == 10
    worker.push_status(connection_uuid=RAILZ_CONNECTION)
    assert cache.get(team) == 20

    # Near the limit, a reservation gets only what is left; past it, everyone waits.
    cache.set(team, 995)
    for _ in range(9 + 5):  # the rest of its reservation, then the 5 the limit leaves
        worker.push_status(connection_uuid=RAILZ_CONNECTION)
    with pytest.raises(RailzRateLimited):
        worker.push_status(connection_uuid=RAILZ_CONNECTION)
    with pytest.raises(RailzRateLimited):
        web.push_status(connection_uuid=RAILZ_CONNECTION)
    # Every request answered was counted in the shared count before it went: the 20 reserved,
    # then the 5 the limit left (a reservation not spent is lost, never granted twice).
    assert len(_api_calls(railz_api)) == 10 + 10 + 5
