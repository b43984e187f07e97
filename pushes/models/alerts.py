"""Telling people what needs them: who asked for a push hears when it failed, was refused or
stays unknown; approvers hear when something waits; chat tools get the same by webhook.

`PushAlert` is unique per push: however often the collecting job runs (or two run at once), a
push is told about once. `AlertPreference` is each person's choice: immediately, a daily digest
or nothing. `AlertWebhook` is an outgoing URL (one connection's, or every connection's) that
receives the same events, signed; `AlertDelivery` is one event to one URL, retried with backoff
by a job of its own, so a failing endpoint never holds anything up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["AlertDelivery", "AlertPreference", "AlertWebhook", "PushAlert"]


class AlertPreference(models.Model):
    class Delivery(models.TextChoices):
        IMMEDIATELY = "immediately", "immediately, one email a push"
        DIGEST = "digest", "a daily digest"
        NONE = "none", "no email"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    delivery = models.CharField(
        max_length=12, choices=Delivery.choices, default=Delivery.IMMEDIATELY
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.get_delivery_display()}"


class PushAlert(models.Model):
    class Kind(models.TextChoices):
        FAILED = "failed", "failed"
        REJECTED = "rejected", "refused"
        UNKNOWN = "unknown", "outcome still unknown"

    push = models.OneToOneField(
        "pushes.PushRequest", on_delete=models.CASCADE, related_name="alert"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    subject = models.CharField(max_length=300)
    message = models.TextField()
    created_at = models.DateTimeField()
    # How it goes to the person (their preference when it was raised) and when it went.
    delivery = models.CharField(max_length=12, choices=AlertPreference.Delivery.choices)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                condition=Q(emailed_at__isnull=True, delivery="digest"),
                name="pushes_alert_digest_due",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class AlertWebhook(models.Model):
    """An outgoing webhook: one connection's (or, without one, every connection's)."""

    connection = models.ForeignKey(
        "refs.Connection", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=200, help_text="Signs each delivery (header X-Railzpush-Signature)."
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.url} ({self.connection or 'every connection'})"


class AlertDelivery(models.Model):
    """One event to one URL, retried with backoff until it is answered 2xx or given up."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    event = models.CharField(max_length=40)
    # The event and the thing it is about, so a repeat of the same event is one delivery.
    key = models.CharField(max_length=120)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["url", "key"], name="pushes_alert_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True, gave_up_at__isnull=True),
                name="pushes_alert_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.url}"
