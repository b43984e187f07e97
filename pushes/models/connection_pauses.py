"""Pauses of a connection's pushes while the connection itself is broken.

A revoked or expired authorisation, a business that disconnected its books, repeated server
errors from one accounting system or its daily cap would fail every push of the connection one
by one. Instead the connection is paused: its queued pushes wait (the worker does not claim
them, the dispatcher does not enqueue them), new pushes queue behind them, and a person resumes
it (or it resumes by itself at `resume_at` for causes that clear). One open pause at most per
connection; a resumed pause stays as history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["ConnectionPause"]


class ConnectionPauseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resumed_at__isnull=True)


class ConnectionPause(models.Model):
    class Cause(models.TextChoices):
        AUTHORISATION = "authorisation", "authorisation revoked or expired"
        DISCONNECTED = "disconnected", "business disconnected"
        PROVIDER_ERRORS = "provider_errors", "repeated server errors"
        DAILY_CAP = "daily_cap", "daily limit reached"

    connection = models.ForeignKey(
        "refs.Connection", on_delete=models.CASCADE, related_name="pauses"
    )
    cause = models.CharField(max_length=20, choices=Cause.choices)
    # In words, as staff see it after "Paused: ".
    reason = models.TextField()
    paused_at = models.DateTimeField()
    # The push whose answer showed the connection broken, if one did.
    paused_by_push = models.ForeignKey(
        "pushes.PushRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When it resumes by itself (transient causes); None: a person resumes it.
    resume_at = models.DateTimeField(null=True, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ConnectionPauseQuerySet.as_manager()

    class Meta:
        ordering = ["-paused_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(resumed_at__isnull=True),
                name="pushes_one_open_pause_per_connection",
            )
        ]

    def __str__(self) -> str:
        return f"Paused: {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.resumed_at is None
