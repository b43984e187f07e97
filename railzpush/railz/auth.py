"""Railz access tokens: fetched with HTTP Basic, shared between processes through the cache.

A token is valid 60 minutes. Every web process and worker reads the same cache entry, so one
fetch serves them all; it is refreshed a few minutes before it expires, and thrown away when
Railz answers 401 to it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import requests

from railzpush.railz.errors import RailzAuthError, RailzTransportError
from railzpush.railz.exchange import ExchangeCallback, decode_body, perform
from railzpush.railz.ratelimit import UNREAD

TOKEN_LIFETIME_SECONDS = 60 * 60
REFRESH_MARGIN_SECONDS = 5 * 60


def jwt_claims(token: str) -> dict[str, Any]:
    """The JWT payload, decoded without checking the signature (only Railz can check it)."""
    try:
        payload = token.split(".")[1]
        padded = payload + "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_expires_at(token: str, *, fetched_at: float) -> float:
    """When the token stops working: its `exp` claim, else 60 minutes after issue."""
    claims = jwt_claims(token)
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    iat = claims.get("iat")
    if isinstance(iat, int | float) and not isinstance(iat, bool) and iat <= fetched_at:
        return float(iat) + TOKEN_LIFETIME_SECONDS
    return fetched_at + TOKEN_LIFETIME_SECONDS


class AccessTokens:
    """Hands out a valid Railz access token, fetching a new one only when needed."""

    def __init__(
        self,
        *,
        auth_url: str,
        client_id: str,
        secret_key: str,
        cache: Any,
        session: requests.Session,
        timeout: tuple[float, float],
        clock: Callable[[], float],
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.auth_url = auth_url
        self.client_id = client_id
        self._secret_key = secret_key
        self.cache = cache
        self.session = session
        self.timeout = timeout
        self.clock = clock
        self.refresh_margin = refresh_margin
        # Derived from the client id (and auth host) only: the secret never reaches the cache
        # key, which may show up in Redis tooling.
        digest = hashlib.sha256(f"{auth_url}|{client_id}".encode()).hexdigest()[:24]
        self.cache_key = f"railz:access-token:{digest}"

    def get(self, *, callbacks: Iterable[ExchangeCallback | None] = (), entry: Any = UNREAD) -> str:
        """A token that is good for at least `refresh_margin` more seconds.

        `entry` is the cache key's value if the caller has just read it (with others in one
        round trip).
        """
        if entry is UNREAD:
            entry = self.cache.get(self.cache_key)
        now = self.clock()
        if isinstance(entry, dict) and entry.get("refresh_at", 0) > now:
            return entry["token"]
        return self._fetch(callbacks=callbacks)

    def discard(self, token: str) -> None:
        """Forget `token` after Railz refused it, unless another process already replaced it."""
        entry = self.cache.get(self.cache_key)
        if isinstance(entry, dict) and entry.get("token") == token:
            self.cache.delete(self.cache_key)

    def _fetch(self, *, callbacks: Iterable[ExchangeCallback | None]) -> str:
        path = urlsplit(self.auth_url).path or "/getAccess"
        try:
            response = perform(
                self.session,
                "GET",
                self.auth_url,
                path=path,
                headers={"Accept": "application/json"},
                auth=(self.client_id, self._secret_key),
                timeout=self.timeout,
                callbacks=callbacks,
                secrets=[self._secret_key],
                describe=_describe_auth_answer,
            )
        except requests.RequestException as exc:
            raise RailzTransportError(
                "Railz's sign-in service could not be reached, so nothing was sent. "
                "Try again later."
            ) from exc
        error = _auth_error(response)
        if error is not None:
            raise error
        token = decode_body(response)["access_token"]
        fetched_at = self.clock()
        refresh_at = token_expires_at(token, fetched_at=fetched_at) - self.refresh_margin
        if refresh_at > fetched_at:
            self.cache.set(
                self.cache_key,
                {"token": token, "refresh_at": refresh_at},
                timeout=int(refresh_at - fetched_at) + 1,
            )
        return token


def _auth_error(response: requests.Response) -> RailzAuthError | None:
    if response.status_code == 200:
        body = decode_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if isinstance(token, str) and token:
            return None
        return RailzAuthError(
            "Railz's sign-in service answered without an access token. Check the Railz API "
            "keys in the settings.",
            status_code=response.status_code,
        )
    if response.status_code in (401, 403):
        return RailzAuthError(
            "Railz refused our API keys. Check RAILZ_CLIENT_ID and RAILZ_SECRET_KEY.",
            status_code=response.status_code,
        )
    # 429/5xx: the keys may be fine; the sign-in service is busy or down.
    retryable = response.status_code == 429 or response.status_code >= 500
    return RailzAuthError(
        f"Railz's sign-in service answered with an error (HTTP {response.status_code}), so "
        "no access token could be obtained."
        + (" Try again later." if retryable else " Check the Railz API settings."),
        status_code=response.status_code,
        retryable=retryable,
    )


def _describe_auth_answer(response: requests.Response) -> str | None:
    error = _auth_error(response)
    return str(error) if error is not None else None
