"""What every record railzpush pushes is, as abstract models the record types inherit.

`PushableRecord` is the contract the push pipeline, the plans, the dashboard and the generic
composer rely on: a connection, a draft/ready status, the provider's id once created, what was
last pushed and what would be pushed now, the push history, and who wrote it. It is a set of
columns, not attributes read with getattr, so a new type cannot forget one.

`Document` and `DocumentLine` are the family of records with lines (invoices, bills, credit
notes): the header fields Railz shares between them and a line's amounts and bookings. A type
adds only what is its own (a customer or a vendor, a number, a line's billable status). A line
whose amounts are of another kind (a journal entry's debit or credit) starts from
`RecordLine`: its place, description, account, tax rate and tracking.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

__all__ = ["Document", "DocumentLine", "PushableRecord", "PushableStatus", "RecordLine"]


class PushableStatus(models.TextChoices):
    # A draft may be incomplete; only a ready record is checked in full and can be pushed.
    DRAFT = "draft"
    READY = "ready"


class PushableRecord(models.Model):
    """A record composed for one connection and pushed to its accounting system."""

    connection = models.ForeignKey(
        "refs.Connection", on_delete=models.PROTECT, related_name="%(class)ss"
    )
    status = models.CharField(
        max_length=10, choices=PushableStatus.choices, default=PushableStatus.DRAFT
    )

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Hash of the `data` the record builds now (`pushes.payloads.payload_hash`), kept by the
    # services on every write so a list can tell "changed since push" without rebuilding
    # every payload.
    payload_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Written by the push pipeline when a push succeeds; read-only here.
    provider_record_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The record's id in the accounting system (Railz sourceObjectIds[0]).",
    )
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    last_pushed_hash = models.CharField(max_length=64, blank=True)

    # Push history, newest first. Deleting a record would delete it too: the admin and the
    # API refuse to delete a record that has any.
    push_requests = GenericRelation("pushes.PushRequest", related_query_name="%(class)s")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def changed_since_push(self) -> bool:
        """Whether the record now differs from what was last pushed successfully."""
        return bool(self.last_pushed_hash) and self.payload_hash != self.last_pushed_hash


class Document(PushableRecord):
    """A pushable record with lines and the header fields Railz's documents share."""

    posted_date = models.DateField("posted date", null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code, e.g. CAD.")
    currency_rate = models.DecimalField(
        "currency rate",
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        help_text="Units of the business's base currency for one unit of this currency.",
    )
    memo = models.TextField(max_length=4000, blank=True)
    subsidiaries = models.ManyToManyField("refs.Subsidiary", blank=True, related_name="+")

    # The field people call the document by ("invoice_number"); "" when it has none.
    number_field = ""

    class Meta(PushableRecord.Meta):
        abstract = True

    def __str__(self) -> str:
        number = getattr(self, self.number_field, "") if self.number_field else ""
        if number:
            return number
        label = self._meta.verbose_name
        return f"{label[:1].upper()}{label[1:]} #{self.pk}" if self.pk else f"New {label}"


class RecordLine(models.Model):
    """What every line of a record has: its place, what it is, and where it is booked.

    The concrete line declares the foreign key to its record, named after it, with
    `related_name="lines"`.
    """

    position = models.PositiveIntegerField(default=0)
    description = models.TextField(max_length=4000, blank=True)
    account = models.ForeignKey(
        "refs.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tax_rate = models.ForeignKey(
        "refs.TaxRate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="tax rate",
    )
    tracking_options = models.ManyToManyField(
        "refs.TrackingOption", blank=True, related_name="+", verbose_name="tracking"
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.description[:60] or f"Line {self.position + 1}"


class DocumentLine(RecordLine):
    """One line of a document: what, how many, at what price, booked where."""

    quantity = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    unit_amount = models.DecimalField(
        "unit amount", max_digits=18, decimal_places=4, null=True, blank=True
    )
    discount_percentage = models.DecimalField(
        "discount %", max_digits=7, decimal_places=4, null=True, blank=True
    )
    item = models.ForeignKey(
        "refs.Item",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="inventory item",
    )

    class Meta:
        abstract = True

    @property
    def amount(self) -> Decimal | None:
        if self.quantity is None or self.unit_amount is None:
            return None
        return self.quantity * self.unit_amount
