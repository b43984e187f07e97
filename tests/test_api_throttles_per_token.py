"""Each token has its own request budget (API_THROTTLE_RATE); a 429 says when to come back."""

import pytest

from tests.fixtures.api import *  # noqa: F403


@pytest.fixture
def two_a_minute(settings):
    settings.API_THROTTLE_RATE = "2/min"


def test_a_token_over_its_budget_gets_429_with_retry_after(two_a_minute, api):
    assert api.get("/api/v1/connections/").status_code == 200
    assert api.get("/api/v1/connections/").status_code == 200
    response = api.get("/api/v1/connections/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    [error] = response.json()["errors"]
    assert error["rule"] == "throttled"
    assert "available in" in error["message"]


def test_the_budget_is_per_token_not_per_user(two_a_minute, api_as, api_staff):
    first, second = api_as(api_staff), api_as(api_staff)
    for _ in range(2):
        assert first.get("/api/v1/connections/").status_code == 200
    assert first.get("/api/v1/connections/").status_code == 429
    assert second.get("/api/v1/connections/").status_code == 200


def test_the_budget_comes_back_after_the_period(two_a_minute, api):
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(2):
            api.get("/api/v1/connections/")
        assert api.get("/api/v1/connections/").status_code == 429
        traveller.shift(61)
        assert api.get("/api/v1/connections/").status_code == 200
