"""Access tokens as Railz issues them: HS256 JWTs valid for an hour.

Written with hmac/base64/json rather than a JWT library: the emulator needs only HS256, and the
key is derived from Django's SECRET_KEY so tokens survive restarts but never equal the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings

TOKEN_LIFETIME_SECONDS = 3600
_HEADER = {"alg": "HS256", "typ": "JWT"}


class InvalidToken(Exception):
    """The bearer token is malformed, forged or expired."""


def _key() -> bytes:
    return hashlib.sha256(b"railz-emulator-jwt:" + settings.SECRET_KEY.encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _segment(obj: dict) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def token_issue(*, customer_id: int, sandbox: bool, now: float | None = None) -> str:
    """A signed access token with Railz's claims (customerId, sandbox, name, beta, iat, exp)."""
    iat = int(time.time() if now is None else now)
    claims = {
        "customerId": customer_id,
        "sandbox": sandbox,
        "name": "access",
        "beta": False,
        "iat": iat,
        "exp": iat + TOKEN_LIFETIME_SECONDS,
    }
    signing_input = f"{_segment(_HEADER)}.{_segment(claims)}"
    signature = hmac.new(_key(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def token_verify(token: str, *, now: float | None = None) -> dict:
    """The token's claims, or InvalidToken saying what is wrong with it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed token")
    header_b64, claims_b64, signature_b64 = parts
    expected = hmac.new(_key(), f"{header_b64}.{claims_b64}".encode(), hashlib.sha256).digest()
    try:
        signature = _unb64(signature_b64)
        header = json.loads(_unb64(header_b64))
        claims = json.loads(_unb64(claims_b64))
    except (ValueError, TypeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not hmac.compare_digest(signature, expected):
        raise InvalidToken("bad signature")
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidToken("unsupported algorithm")
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise InvalidToken("malformed claims")
    if claims["exp"] <= (time.time() if now is None else now):
        raise InvalidToken("expired")
    return claims
