"""Four eyes before money moves: a connection's approval policy and the approvals it asks for.

`ApprovalPolicy` is set by a superuser per connection: no approval, approval of every push
(deletes included), or approval above an amount in the business's currency (one amount, or one
per record type). Under a policy a record is submitted for approval instead of pushed; an
approver who did not prepare it approves (which queues the push) or rejects it with a comment.

`ApprovalRequest` is one submission and its outcome. Its submission and its decision are
written once: once decided (approved, rejected) who decided, when and the comment never change
(`save` refuses, the services update only the state from open states). A change to the record
voids an open submission or an unused approval; the push queued on approval is linked, which
uses the approval up.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

__all__ = ["ApprovalPolicy", "ApprovalRequest"]


class ApprovalPolicy(models.Model):
    class Rule(models.TextChoices):
        NONE = "none", "no approval"
        EVERY = "every", "approval of every push"
        ABOVE = "above", "approval above an amount"

    connection = models.OneToOneField(
        "refs.Connection", on_delete=models.CASCADE, related_name="approval_policy"
    )
    rule = models.CharField(max_length=10, choices=Rule.choices, default=Rule.NONE)
    threshold = models.DecimalField(
        "amount",
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="In the business's currency: a record whose total is above it needs approval.",
    )
    # {"bills": "5000"}: another amount for a record type (its Railz data type).
    thresholds_by_type = models.JSONField(
        "amount per record type",
        default=dict,
        blank=True,
        help_text='Optional, by record type: {"bills": "5000", "invoices": "20000"}.',
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "approval policy"
        verbose_name_plural = "approval policies"

    def __str__(self) -> str:
        return f"{self.connection}: {self.get_rule_display()}"

    def clean(self):
        if self.rule == self.Rule.ABOVE and self.threshold is None and not self.thresholds_by_type:
            raise ValidationError({"threshold": "Give the amount above which approval is needed."})
        if not isinstance(self.thresholds_by_type, dict):
            raise ValidationError({"thresholds_by_type": "Give an object of type: amount."})
        for data_type, amount in self.thresholds_by_type.items():
            try:
                Decimal(str(amount))
            except ArithmeticError:
                raise ValidationError(
                    {"thresholds_by_type": f"{data_type}: {amount!r} is not an amount."}
                ) from None

    def threshold_for(self, data_type: str) -> Decimal | None:
        amount = self.thresholds_by_type.get(data_type) if self.thresholds_by_type else None
        if amount is not None:
            return Decimal(str(amount))
        return self.threshold


class ApprovalRequest(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "waiting for approval"
        APPROVED = "approved"
        REJECTED = "rejected"
        VOIDED = "voided", "voided by a change"

    OPEN = (State.WAITING, State.APPROVED)

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    connection = models.ForeignKey("refs.Connection", on_delete=models.PROTECT)
    data_type = models.CharField(max_length=40)
    # create, update or delete: what approving queues.
    operation = models.CharField(max_length=10)
    # What will be sent, as submitted: its hash ties the approval to this content.
    body = models.JSONField(default=dict, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    label = models.CharField(max_length=300, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    # The push approving queued: the approval is used up.
    push = models.OneToOneField(
        "pushes.PushRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approval",
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        permissions = [("approve_pushes", "Can approve pushes someone else prepared")]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(state__in=["waiting", "approved"], push__isnull=True),
                name="pushes_one_open_approval_per_record",
            )
        ]
        indexes = [
            models.Index(fields=["state", "submitted_at"], name="pushes_approval_queue"),
            models.Index(fields=["content_type", "object_id"], name="pushes_approval_record"),
        ]

    def __str__(self) -> str:
        return f"{self.label or self.data_type} ({self.get_state_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None and (
            ApprovalRequest.objects.filter(pk=self.pk, decided_at__isnull=False).exists()
        ):
            raise ValueError("A decided approval is never edited.")
        super().save(*args, **kwargs)
