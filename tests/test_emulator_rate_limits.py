"""Every API answer carries Railz's rate-limit headers; past a budget the answer is 429."""

import pytest

from railzpush.emulator import faults
from railzpush.railz import RailzRateLimited
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO, invoice_data


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    """Each test's requests count in one minute's window, half a minute from its reset: the
    emulator's budgets are counted per clock minute, as Railz's are, and a test whose requests
    straddled a minute's end began a fresh budget halfway (a 200 where the 429 was due)."""
    window, _ = faults._window()
    monkeypatch.setattr(faults, "_window", lambda: (window, 30))


def _headers(response):
    return {k: response.headers.get(k) for k in ("X-RateLimit-Limit", "X-RateLimit-Remaining")}


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v2/connections", {}, 200),
        ("/v2/accounting/customers", {}, 400),
        ("/v2/accounting/customers", {"connectionUuid": "CON-unknown"}, 404),
        ("/v2/not-a-route", {}, 404),
    ],
)
def test_every_answer_carries_the_rate_limit_headers(emulator, path, params, status):
    response = emulator.get(path, **params)

    assert response.status_code == status
    assert response.headers["X-RateLimit-Limit"] == "1000"
    assert int(response.headers["X-RateLimit-Remaining"]) < 1000
    assert 1 <= int(response.headers["X-RateLimit-Reset"]) <= 60


def test_remaining_counts_down(emulator):
    token = emulator.token()

    first = emulator.get("/v2/connections", token=token)
    second = emulator.get("/v2/connections", token=token)

    assert int(second.headers["X-RateLimit-Remaining"]) == (
        int(first.headers["X-RateLimit-Remaining"]) - 1
    )


def test_past_the_team_budget_the_answer_is_429_with_retry_after(emulator, settings):
    settings.RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE = 3
    token = emulator.token()

    answers = [emulator.get("/v2/connections", token=token) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert _headers(answers[2]) == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0"}
    limited = answers[3]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]["statusCode"] == 429
    assert limited.json()["error"]["error"] == "Too Many Requests"


def test_the_client_sees_the_429_as_rate_limited(emulator, emulator_client, settings):
    emulator_client.connections()  # the token is fetched before the budget is spent
    settings.RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE = 1

    with pytest.raises(RailzRateLimited) as raised:
        emulator_client.connections()

    assert raised.value.retry_after is not None


def test_writes_past_the_providers_budget_are_429_for_that_connection(
    emulator, emulator_client, settings
):
    settings.RAILZ_EMULATOR_PROVIDER_LIMITS = {"xero": 2}
    token = emulator.token()

    def push(connection_uuid):
        return emulator.send(
            "POST",
            "/v2/accounting/invoices",
            token=token,
            json={"connectionUuid": connection_uuid, "data": invoice_data(connection_uuid)},
        )

    xero = [push(DEMO_XERO).status_code for _ in range(3)]

    assert xero == [200, 200, 429]
    # Reads and other providers' connections are not held back by Xero's budget.
    assert emulator.get("/v2/accounting/customers", token=token, connectionUuid=DEMO_XERO).ok
    assert push(DEMO_QUICKBOOKS).status_code == 200


def test_a_reset_gives_back_the_minutes_budget(emulator, settings):
    settings.RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE = 2
    token = emulator.token()
    [emulator.get("/v2/connections", token=token) for _ in range(3)]

    emulator.control("reset")

    assert emulator.get("/v2/connections", token=token).status_code == 200
