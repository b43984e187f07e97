"""The accounting system's own push rules, as Railz last described them (GET /v2/data/pushOptions).

Railz's request schemas are provider-agnostic; pushOptions is the only machine-readable source
of what a provider needs on top (NetSuite: a subsidiary on every invoice). A copy is kept per
connection, data type and operation, fetched when the connection is discovered, refreshed
daily and on demand; validation reads this copy and never calls Railz on a form save.
"""

from __future__ import annotations

from django.db import models

__all__ = ["ProviderPushOptions"]


class ProviderPushOptions(models.Model):
    """A connection's pushOptions for one data type and one operation, as last fetched.

    `options` holds the `data[]` entries Railz returned for that data type whose `method` is
    the operation's (POST for create, PUT for update); an empty list means Railz was asked
    and described nothing, which is not the same as never having asked (no row).
    """

    class Operation(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"

    connection = models.ForeignKey(
        "refs.Connection", on_delete=models.CASCADE, related_name="push_options"
    )
    data_type = models.CharField(max_length=40)
    operation = models.CharField(max_length=10, choices=Operation.choices, default=Operation.CREATE)
    options = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = "provider push options"
        verbose_name_plural = "provider push options"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "data_type", "operation"], name="pushes_pushoptions_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_type} {self.operation} push options of {self.connection}"
