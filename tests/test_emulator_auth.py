"""The emulator issues Railz-style access tokens and refuses calls without a valid one."""

import base64
import json
import time

import pytest
import requests
import time_machine

from railzpush.railz import RailzAuthError
from tests.fixtures.emulator import DEMO_XERO


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_get_access_returns_an_hs256_jwt_valid_for_an_hour(emulator):
    response = requests.get(
        emulator.auth_url, auth=("emulator-client", "SB_emulator-secret"), timeout=10
    )

    assert response.status_code == 200
    token = response.json()["access_token"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    claims = _claims(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims["name"] == "access"
    assert claims["sandbox"] is True
    assert isinstance(claims["customerId"], int)
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    "auth", [("emulator-client", "wrong"), ("someone-else", "SB_emulator-secret"), None]
)
def test_get_access_refuses_wrong_credentials_with_railz_401(emulator, auth):
    response = requests.get(emulator.auth_url, auth=auth, timeout=10)

    assert response.status_code == 401
    assert response.json() == {
        "error": {"statusCode": 401, "message": ["Unauthorized"], "error": "Unauthorized"},
        "payload": {},
    }


def test_client_with_wrong_secret_raises_auth_error(emulator):
    client = emulator.client(secret_key="nope")

    with pytest.raises(RailzAuthError):
        client.connections()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not.a.jwt", "Basic ZW11bGF0b3ItY2xpZW50OlNCX2VtdWxhdG9yLXNlY3JldA=="],
)
def test_api_refuses_missing_or_malformed_bearer_token(emulator, header):
    headers = {"Authorization": header} if header else {}
    response = requests.get(f"{emulator.api_url}/v2/connections", headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == ["Unauthorized"]


def test_api_refuses_a_forged_token(emulator):
    token = emulator.token()
    head, _claims_b64, signature = token.split(".")
    forged_claims = _claims(token) | {"customerId": 999}
    forged = ".".join(
        [
            head,
            base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode(),
            signature,
        ]
    )

    assert emulator.get("/v2/connections", token=forged).status_code == 401
    assert emulator.get("/v2/connections", token=token).status_code == 200


def test_api_refuses_an_expired_token(emulator):
    token = emulator.token()

    with time_machine.travel(time.time() + 3601, tick=False):
        response = emulator.get("/v2/connections", token=token)

    assert response.status_code == 401


def test_client_fetches_a_token_and_reads_through_it(emulator_client):
    connections = emulator_client.connections()

    assert DEMO_XERO in {c["connectionUuid"] for c in connections}
