"""API tokens (stored hashed) and idempotency keys (the first answer to a retried POST)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "rzp"  # noqa: S105  (the public start of every token, not a secret)


def token_hash(secret: str) -> str:
    """SHA-256 of the secret part: the token itself is never stored, only what proves it."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """One integrator's credential, `rzp_<prefix>_<secret>`, acting as `user`.

    The prefix is stored in clear so a token can be found with one indexed lookup and
    recognised in the admin; the secret only as its SHA-256. The raw token is shown once, when
    it is created, and cannot be read back.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'ERP export'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({TOKEN_PREFIX}_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotencyKey(models.Model):
    """A POST claimed by its `Idempotency-Key`: in progress until its answer is stored.

    The row is inserted (and committed) before the view runs, so a concurrent request with the
    same key finds it and is refused instead of doing the work twice. `fingerprint` is the
    SHA-256 of method, path and canonical body: the same key with another request is refused.

    The answer is stored in the same transaction as the request's work, so a key without an
    answer did nothing. Its claim is a lease: past `lease_expires_at` the request is taken for
    dead and a retry takes the key over, bumping `attempt` so the old request, should it still
    be running, can no longer store an answer (its work is rolled back).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Null while the request runs.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Which claim of the key may answer: bumped each time a retry takes over a dead request.
    attempt = models.PositiveIntegerField(default=1)
    # Until then the request holding the key is presumed alive (null on keys claimed before
    # leases existed: created_at plus the lease).
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotencykey_unique"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="api_idempotencykey_expiry")]

    def __str__(self):
        return f"{self.method} {self.path} [{self.key}]"

    @property
    def is_completed(self) -> bool:
        return self.response_status is not None

    @property
    def lease_until(self):
        if self.lease_expires_at is not None:
            return self.lease_expires_at
        return self.created_at + timedelta(seconds=settings.API_IDEMPOTENCY_LEASE_SECONDS)


__all__ = ["TOKEN_PREFIX", "ApiToken", "IdempotencyKey", "token_hash"]
