"""Railz-Signature: t=<ms>,v=hex(HMAC-SHA256(secret, t + "." + body)), checked in constant time."""

import hashlib
import hmac
import json

import pytest

from railzpush.railz.errors import RailzError, RailzSignatureError
from railzpush.railz.signatures import sign, verify

SECRET = "emulator-webhook-secret"
NOW_MS = 1_741_000_000_000  # 2025-03-03T11:06:40Z
NOW = NOW_MS / 1000
BODY = json.dumps(
    {
        "data": {
            "event": "push",
            "connectionId": "CON-9f1c2a4e-0001-4c5a-8b2e-7d1e3f5a0001",
            "businessName": "Maple Leaf Coffee Roasters",
            "serviceName": "xero",
            "pushCommunicationId": "65f1c0a2b3d4e5f601234567",
            "sourceObjectIds": ["6f3c2b1a-1b2c-4d5e-8f90-0a1b2c3d4e5f"],
            "dataType": "invoices",
            "requestedOn": "2025-03-03T11:06:30.112Z",
            "completedOn": "2025-03-03T11:06:38.901Z",
            "status": "success",
            "responseCode": 200,
        },
        "requestId": "a3b4fc83-3e24-41aa-ba99-13cab09b0b7a",
    }
).encode()


def test_sign_follows_the_documented_recipe():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS)

    expected = hmac.new(SECRET.encode(), f"{NOW_MS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW_MS},v={expected}"


def test_a_signed_body_verifies():
    verify(BODY, sign(BODY, SECRET, timestamp_ms=NOW_MS), SECRET, now=NOW + 5)


def test_the_docs_example_header_shape_is_read():
    # Spaces after commas and an upper-case digest are tolerated.
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS).replace(",", ", ").upper().replace("T=", "t=")
    header = header.replace("V=", "v=")

    verify(BODY, header, SECRET, now=NOW)


def test_a_rotated_secret_is_accepted_when_one_of_several_signatures_matches():
    old = sign(BODY, "old-secret", timestamp_ms=NOW_MS)
    new = sign(BODY, SECRET, timestamp_ms=NOW_MS)
    header = f"{old},{new.split(',')[1]}"

    verify(BODY, header, SECRET, now=NOW)


def _reason(body, header, secret=SECRET, **kwargs):
    with pytest.raises(RailzSignatureError) as caught:
        verify(body, header, secret, **kwargs)
    assert isinstance(caught.value, RailzError)
    assert not caught.value.retryable
    return caught.value.reason


def test_a_tampered_body_is_refused():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS)

    reason = _reason(BODY.replace(b'"success"', b'"failed"'), header, now=NOW)

    assert reason == "the signature does not match the body"


def test_a_wrong_secret_is_refused():
    header = sign(BODY, "someone-elses-secret", timestamp_ms=NOW_MS)

    assert _reason(BODY, header, now=NOW) == "the signature does not match the body"


def test_a_replayed_timestamp_with_the_old_signature_is_refused():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS)
    moved = header.replace(f"t={NOW_MS}", f"t={NOW_MS + 1000}")

    assert _reason(BODY, moved, now=NOW) == "the signature does not match the body"


def test_a_stale_timestamp_is_refused():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS)

    reason = _reason(BODY, header, now=NOW + 301)

    assert reason == "it was signed 301 seconds ago, more than the 300 seconds allowed"


def test_a_timestamp_inside_the_tolerance_is_accepted_on_both_sides():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS)

    verify(BODY, header, SECRET, now=NOW + 300)
    verify(BODY, header, SECRET, now=NOW - 300)


def test_a_future_timestamp_is_refused():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS + 400_000)

    reason = _reason(BODY, header, now=NOW)

    assert reason == "its timestamp is 400 seconds in the future, more than the 300 seconds allowed"


def test_the_tolerance_is_configurable():
    header = sign(BODY, SECRET, timestamp_ms=NOW_MS)

    verify(BODY, header, SECRET, now=NOW + 500, tolerance_seconds=600)
    assert "more than the 60 seconds allowed" in _reason(
        BODY, header, now=NOW + 61, tolerance_seconds=60
    )


def test_default_now_is_the_current_time(railz_clock):
    import time

    header = sign(BODY, SECRET)  # signed now

    assert header.startswith(f"t={int(time.time() * 1000)},")
    verify(BODY, header, SECRET)
    railz_clock.advance(301)
    with pytest.raises(RailzSignatureError):
        verify(BODY, header, SECRET)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "the Railz-Signature header is missing"),
        ("", "the Railz-Signature header is missing"),
        ("garbage", "the header part 'garbage' is not key=value"),
        (f"v={'a' * 64}", "the timestamp t= is missing"),
        (f"t={NOW_MS}", "the signature v= is missing"),
        (f"t=soon,v={'a' * 64}", "the timestamp t= is missing or not a whole number"),
        (f"t={NOW_MS},v=abc", "the signature v= is not 64 hexadecimal characters"),
        (
            f"t={NOW_MS},t={NOW_MS},v={'a' * 64}",
            "the timestamp t= is missing or not a whole number",
        ),
    ],
    ids=["none", "empty", "no-equals", "no-t", "no-v", "t-not-number", "v-short", "two-t"],
)
def test_a_malformed_header_is_refused_with_its_reason(header, reason):
    assert _reason(BODY, header, now=NOW) == reason


def test_no_configured_secret_refuses_everything():
    header = sign(BODY, "", timestamp_ms=NOW_MS)

    assert _reason(BODY, header, secret="", now=NOW) == "no webhook secret is configured"


def test_the_error_reads_as_a_sentence():
    error = RailzSignatureError("the signature does not match the body")

    assert str(error) == (
        "The webhook was refused because its signature is not valid: the signature does not "
        "match the body."
    )
