"""Writes of the API's own records: issuing and revoking tokens, claiming idempotency keys."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from railzpush.api.models import TOKEN_PREFIX, ApiToken, IdempotencyKey, token_hash

# How long a stored answer is replayed; after that the key is free again.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# A token's last use is written at most this often, so a busy integrator costs no write per
# request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
PREFIX_BYTES = 4  # 8 hex characters: enough to find a token, useless to guess one


# --- tokens ---------------------------------------------------------------------------------


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Issue a token acting as `user`; returns it with the raw `rzp_<prefix>_<secret>`.

    The raw value exists only in this return value: the row keeps its SHA-256, so whoever
    created the token must copy it now.
    """
    secret = secrets.token_urlsafe(32)
    for _ in range(5):
        prefix = secrets.token_hex(PREFIX_BYTES)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, name=name, prefix=prefix, secret_hash=token_hash(secret)
                )
        except IntegrityError:
            continue  # the prefix is taken (about one chance in four billion per token)
        return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"
    raise RuntimeError("could not find a free token prefix")


def api_token_revoke(*, token: ApiToken) -> bool:
    """Stop accepting `token` from now on; False if it was already revoked."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
    return bool(revoked)


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The usable token `raw` stands for (its user loaded), or None; records the use."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    token = ApiToken.objects.usable().select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, token_hash(parts[2])):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- idempotency keys -----------------------------------------------------------------------


class IdempotencyKeyReused(Exception):
    """The key was first used for another request (another method, path or body)."""


class IdempotencyKeyInProgress(Exception):
    """A request with this key is still running (its lease has not run out)."""


class IdempotencyKeyTakenOver(Exception):
    """This request outlived its lease and a retry took the key over: its work must not stay."""


@dataclass(frozen=True)
class Claim:
    """Either a fresh claim (`replay` is None: run the request) or the stored first answer.

    `attempt` is the claim's number on its key: only the request holding the latest attempt
    may store an answer (see `idempotency_key_complete`).
    """

    key: IdempotencyKey
    replay: tuple[int, Any] | None = None
    attempt: int = 1


def _lease() -> timedelta:
    return timedelta(seconds=settings.API_IDEMPOTENCY_LEASE_SECONDS)


def _in_progress() -> IdempotencyKeyInProgress:
    return IdempotencyKeyInProgress(
        "A request with this Idempotency-Key is in progress; retry once it has finished."
    )


def idempotency_key_claim(
    *, user: AbstractBaseUser, key: str, fingerprint: str, method: str, path: str
) -> Claim:
    """Claim `key` for this request before it runs, or find the answer it already has.

    The claim is an INSERT committed in its own transaction, so a concurrent request with the
    same key sees the row at once. An expired row is removed and the key claimed afresh. A row
    still without an answer after API_IDEMPOTENCY_LEASE_SECONDS belongs to a request that died
    (or outlived the web server's timeout): a retry takes it over with a conditional UPDATE of
    its attempt number, so of several retries exactly one runs. Nothing the dead request did
    can be lost by that: its work and its answer were committed together or not at all (see
    `idempotent`), so a key without an answer created nothing.
    Raises IdempotencyKeyReused or IdempotencyKeyInProgress.
    """
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    method=method,
                    path=path[:500],
                    created_at=now,
                    expires_at=now + IDEMPOTENCY_KEY_TTL,
                    lease_expires_at=now + _lease(),
                )
            return Claim(key=row, attempt=row.attempt)
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(user=user, key=key).first()
        if row is None:
            continue  # released or purged in between: claim again
        if row.expires_at <= now:
            IdempotencyKey.objects.filter(pk=row.pk, expires_at__lte=now).delete()
            continue
        if not hmac.compare_digest(row.fingerprint, fingerprint):
            raise IdempotencyKeyReused(
                f"This Idempotency-Key was already used for another request ({row.method} "
                f"{row.path} with a different body); use a new key for a new request."
            )
        if row.is_completed:
            return Claim(key=row, replay=(row.response_status, row.response_body))
        if row.lease_until > now:
            raise _in_progress()
        # The request holding the key died: take it over, unless another retry just did or
        # the request answered after all (then the next round replays its answer).
        taken = IdempotencyKey.objects.filter(
            pk=row.pk, attempt=row.attempt, response_status__isnull=True
        ).update(attempt=F("attempt") + 1, lease_expires_at=now + _lease())
        if taken:
            row.attempt += 1
            row.lease_expires_at = now + _lease()
            return Claim(key=row, attempt=row.attempt)
    raise _in_progress()


def idempotency_key_complete(*, claim: Claim, status: int, body: Any) -> None:
    """Store the answer the claimed request gave, to be replayed to its retries.

    Called inside the request's own transaction, so its work and its answer are committed
    together. Raises IdempotencyKeyTakenOver when a retry took the key over meanwhile (the
    caller must roll back: that retry does the work, once).
    """
    stored = IdempotencyKey.objects.filter(
        pk=claim.key.pk, attempt=claim.attempt, response_status__isnull=True
    ).update(response_status=status, response_body=body, completed_at=timezone.now())
    if not stored:
        raise IdempotencyKeyTakenOver(
            "This request took longer than its Idempotency-Key's lease and a retry with the "
            "same key took over; retry again to get that request's answer."
        )


def idempotency_key_release(*, claim: Claim) -> None:
    """Forget a claim whose request did nothing (it failed): a retry may run it again.

    Only this attempt's claim: a retry that took the key over keeps it.
    """
    IdempotencyKey.objects.filter(
        pk=claim.key.pk, attempt=claim.attempt, response_status__isnull=True
    ).delete()


def idempotency_keys_purge() -> int:
    """Delete every expired key; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
