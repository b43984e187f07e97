"""API tokens: hashed at rest, shown once, revocable, and the only way in besides the session."""

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from railzpush.api.models import ApiToken
from railzpush.api.services import api_token_create, api_token_revoke
from tests.fixtures.api import *  # noqa: F403

CONNECTIONS = "/api/v1/connections/"


def test_a_request_without_credentials_is_401_with_the_bearer_scheme(anonymous_api):
    response = anonymous_api.get(CONNECTIONS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "errors": [
            {
                "field": "",
                "rule": "notAuthenticated",
                "message": "Authentication credentials were not provided.",
            }
        ]
    }


@pytest.mark.parametrize(
    "header",
    [
        "Bearer rzp_nothere_secret",
        "Bearer not-a-token",
        "Bearer",
        "Bearer two parts",
        "Token rzp__",
    ],
)
def test_an_invalid_token_is_401(anonymous_api, api_staff, header):
    api_token_create(user=api_staff, name="real one")
    anonymous_api.credentials(HTTP_AUTHORIZATION=header)
    response = anonymous_api.get(CONNECTIONS)
    assert response.status_code == 401
    assert response.json()["errors"][0]["rule"] == "authenticationFailed"


def test_a_token_with_the_right_prefix_but_wrong_secret_is_401(anonymous_api, api_staff):
    _, raw = api_token_create(user=api_staff, name="t")
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw[:-2]}xx")
    assert anonymous_api.get(CONNECTIONS).status_code == 401


@pytest.mark.parametrize("keyword", ["Bearer", "Token"])
def test_a_staff_token_is_accepted_with_either_keyword(api_as, api_staff, keyword):
    response = api_as(api_staff, keyword=keyword).get(CONNECTIONS)
    assert response.status_code == 200


def test_the_token_is_stored_as_a_sha256_of_its_secret_with_a_visible_prefix(api_staff):
    token, raw = api_token_create(user=api_staff, name="ERP export")
    assert raw.startswith(f"rzp_{token.prefix}_")
    secret = raw.split("_", 2)[2]
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = ApiToken.objects.values_list("prefix", "secret_hash", "name").get()
    assert secret not in "".join(stored)


def test_use_is_recorded_on_the_token(api_as, api_staff):
    client = api_as(api_staff)
    assert client.token.last_used_at is None
    client.get(CONNECTIONS)
    client.token.refresh_from_db()
    assert client.token.last_used_at is not None


def test_a_revoked_token_is_refused(api_as, api_staff):
    client = api_as(api_staff)
    assert client.get(CONNECTIONS).status_code == 200
    assert api_token_revoke(token=client.token) is True
    assert api_token_revoke(token=client.token) is False
    response = client.get(CONNECTIONS)
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message"]


def test_a_token_of_a_deactivated_user_is_refused(api_as, api_staff):
    client = api_as(api_staff)
    api_staff.is_active = False
    api_staff.save()
    assert client.get(CONNECTIONS).status_code == 401


def test_a_token_of_a_user_who_is_not_staff_is_403(api_as, api_user):
    response = api_as(api_user).get(CONNECTIONS)
    assert response.status_code == 403
    assert response.json()["errors"][0]["rule"] == "permissionDenied"


def test_the_session_authenticates_staff_for_the_browsable_api(client, api_staff, api_user):
    client.force_login(api_staff)
    assert client.get(CONNECTIONS).status_code == 200
    client.force_login(api_user)
    assert client.get(CONNECTIONS).status_code == 403


def test_the_admin_shows_a_new_token_once_and_stores_only_its_hash(
    admin_client, api_staff, plain_static
):
    response = admin_client.post(
        reverse("admin:api_apitoken_add"),
        {"user": api_staff.pk, "name": "Nightly ERP export"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="Nightly ERP export")
    assert token.user == api_staff
    shown = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    assert len(shown) == 1 and "will not be shown again" in shown[0]
    raw = shown[0].split("<code>")[1].split("</code>")[0]
    assert raw.startswith(f"rzp_{token.prefix}_")
    assert token.secret_hash == hashlib.sha256(raw.split("_", 2)[2].encode()).hexdigest()
    # The change page shows the prefix only.
    page = admin_client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert raw not in page.content.decode()
    assert f"rzp_{token.prefix}_" in page.content.decode()
    # ...and the token works.
    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert anonymous.get(CONNECTIONS).status_code == 200


def test_the_admin_revokes_tokens_with_an_action(admin_client, api_as, api_staff, plain_static):
    client = api_as(api_staff)
    response = admin_client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [client.token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    client.token.refresh_from_db()
    assert client.token.revoked_at is not None
    assert client.get(CONNECTIONS).status_code == 401
