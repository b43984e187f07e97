"""Railz webhook signatures: `Railz-Signature: t=<ms>,v=<hex>`.

v = hex(HMAC-SHA256(webhook secret, f"{t}." + raw body)), t in milliseconds since the epoch.
The emulator signs with `sign`; the webhook endpoint checks with `verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from railzpush.railz.errors import RailzSignatureError

HEADER = "Railz-Signature"
DEFAULT_TOLERANCE_SECONDS = 300

_TIMESTAMP = re.compile(r"^\d{1,16}$")
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")


def _digest(body: bytes, secret: str, timestamp: str) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, *, timestamp_ms: int | None = None) -> str:
    """The `Railz-Signature` header value for `body`, signed now or at `timestamp_ms`."""
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    return f"t={timestamp_ms},v={_digest(body, secret, str(timestamp_ms))}"


def _parse(header: str) -> tuple[str, list[str]]:
    timestamp: str | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise RailzSignatureError(f"the header part {part.strip()[:20]!r} is not key=value")
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.match(value):
                raise RailzSignatureError("the timestamp t= is missing or not a whole number")
            timestamp = value
        elif key == "v":
            if not _SIGNATURE.match(value):
                raise RailzSignatureError("the signature v= is not 64 hexadecimal characters")
            signatures.append(value.lower())
        # Unknown keys are ignored so Railz can add fields without breaking us.
    if timestamp is None:
        raise RailzSignatureError("the timestamp t= is missing")
    if not signatures:
        raise RailzSignatureError("the signature v= is missing")
    return timestamp, signatures


def verify(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Check a webhook's `Railz-Signature` header against its raw body.

    Returns None when the signature is right and fresh; raises RailzSignatureError naming the
    reason otherwise. `now` is seconds since the epoch (defaults to the current time).
    Several `v=` values are accepted (any one may match) so a secret can be rotated.
    """
    if not secret:
        raise RailzSignatureError("no webhook secret is configured")
    if header is None or not header.strip():
        raise RailzSignatureError(f"the {HEADER} header is missing")
    timestamp, signatures = _parse(header)
    expected = _digest(body, secret, timestamp)
    # Check every candidate so the time taken does not depend on which one matched.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise RailzSignatureError("the signature does not match the body")
    current = time.time() if now is None else now
    age = current - int(timestamp) / 1000
    if age > tolerance_seconds:
        raise RailzSignatureError(
            f"it was signed {int(age)} seconds ago, more than the {int(tolerance_seconds)} "
            "seconds allowed"
        )
    if -age > tolerance_seconds:
        raise RailzSignatureError(
            f"its timestamp is {int(-age)} seconds in the future, more than the "
            f"{int(tolerance_seconds)} seconds allowed"
        )
