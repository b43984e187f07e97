"""Push requests: one row per attempt to create, update or delete one record through Railz.

The row is a work log (healthchecks-style): it is written before anything is sent, claimed by
a worker with a conditional UPDATE (queued -> submitting), and every later change of state is
another conditional UPDATE from the states it may leave. Only
`pushes.services.push_requests` changes `state`; terminal states never change again.

`PushEvent` rows are the push's timeline: every HTTP exchange with Railz (secrets removed) and
every change of state with where it came from. `WebhookEvent` keeps each webhook Railz sent,
raw, unique on a key that makes a repeated delivery a no-op.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

__all__ = ["PushEvent", "PushHourCount", "PushRequest", "ReconcileReason", "WebhookEvent"]


class PushRequestQuerySet(models.QuerySet):
    def in_flight(self):
        return self.filter(state__in=PushRequest.IN_FLIGHT)

    def railz_pushes(self, *push_communication_ids: str):
        """The pushes Railz knows by these push ids. The query repeats the condition of the
        partial unique index on the id (pushes that have one): SQLite uses a partial index only
        then, and without it read the whole table for every webhook."""
        return self.filter(push_communication_id__in=push_communication_ids).exclude(
            push_communication_id=""
        )

    def for_record(self, record):
        return self.filter(
            content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
        )


class ReconcileReason(models.TextChoices):
    """Why reconciliation left a push unknown (or what it concluded), for counting."""

    SECOND_CHECK = "second_check", "waiting for the second check"
    SEVERAL = "several", "several Railz pushes could be theirs"
    NOT_LISTED = "not_listed", "never listed by Railz; not queued again automatically"


class PushRequest(models.Model):
    """One attempt to create, update or delete one record in the accounting system."""

    class State(models.TextChoices):
        QUEUED = "queued"
        SUBMITTING = "submitting"
        PENDING = "pending"
        SUCCESS = "success"
        FAILED = "failed"
        # Railz refused the request synchronously (a 400 and its messages): nothing was created.
        REJECTED = "rejected"
        # The request may have reached Railz but no answer came back: never resent blindly.
        UNKNOWN = "unknown"
        CANCELLED = "cancelled"

    class Operation(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    class Source(models.TextChoices):
        STAFF = "staff"
        API = "api"
        SYSTEM = "system"

    ReconcileReason = ReconcileReason

    IN_FLIGHT = (State.QUEUED, State.SUBMITTING, State.PENDING, State.UNKNOWN)
    TERMINAL = (State.SUCCESS, State.FAILED, State.REJECTED, State.CANCELLED)

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    connection = models.ForeignKey("refs.Connection", on_delete=models.PROTECT)
    data_type = models.CharField(max_length=40, help_text="Railz dataType, e.g. invoices.")
    operation = models.CharField(max_length=10, choices=Operation.choices)
    # The accounting system's id an update or delete targets (empty for a create).
    provider_record_id = models.CharField(max_length=255, blank=True)
    # Exactly what was (or will be) sent: the whole request envelope.
    body = models.JSONField(default=dict, blank=True)
    # Hash of `body["data"]`, stored on the record as `last_pushed_hash` once it succeeds.
    payload_hash = models.CharField(max_length=64, blank=True)

    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    push_communication_id = models.CharField(max_length=64, blank=True)
    # Railz's batchId when this push went out as one item of a batch call (with its siblings).
    batch_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    requested_on = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    # [{"field": ..., "message": ...}] from Railz (async failures) or its 400 messages.
    validation_errors = models.JSONField(default=list, blank=True)
    source_object_ids = models.JSONField(default=list, blank=True)

    # How many times the request was handed to Railz (rate-limit deferrals do not count).
    attempts = models.PositiveIntegerField(default=0)
    # When the dispatcher should (re)enqueue a queued row nobody has sent by then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the worker claimed the row to send it: the lease start and the reconcile window.
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # A queued payment held back for a person to decide: a document it pays failed or was
    # cancelled on its way to the accounting system. Says why; the push is not due while set,
    # and a person releases it (it waits for the document again, or goes if the document now
    # has its id) or cancels it. Empty otherwise.
    held_reason = models.TextField(blank=True, default="")
    # Why an unknown push still waits for a person (no match, several matches...).
    reconcile_note = models.TextField(blank=True)
    # Why it is still unknown, as a code the dashboard counts by (ReconcileReason).
    reconcile_reason = models.CharField(
        max_length=20, choices=ReconcileReason.choices, blank=True, default=""
    )
    # What the last reconciliation saw: its checks of Railz's push log, the candidates and,
    # where read, their records next to this push's body. Staff pages show it without asking
    # Railz again.
    reconcile_evidence = models.JSONField(default=dict, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PushRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("push_records", "Can push records to accounting systems")]
        constraints = [
            # One push in flight per record: two clicks, two workers or a retry racing a
            # pending push cannot produce a second record in the accounting system.
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(state__in=["queued", "submitting", "pending", "unknown"]),
                name="pushes_one_push_in_flight_per_record",
            ),
            # A Railz push belongs to one attempt: reconciliation cannot adopt it twice.
            models.UniqueConstraint(
                fields=["push_communication_id"],
                condition=~Q(push_communication_id=""),
                name="pushes_push_communication_id_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="queued"),
                name="pushes_queued_due",
            ),
            models.Index(
                fields=["connection", "next_poll_at"],
                condition=Q(state__in=["pending", "unknown", "submitting"]),
                name="pushes_waiting_by_connection",
            ),
            models.Index(fields=["content_type", "object_id", "-created_at"], name="pushes_record"),
            # The dashboard's counts and hourly chart read only these three columns of the
            # pushes created since a moment: a range of this index, never the table.
            models.Index(fields=["created_at", "connection", "state"], name="pushes_created"),
            # The failures a person must look at (failed, rejected, unknown) and the pushes
            # pending since too long: a few rows among millions that succeeded.
            models.Index(fields=["state", "sent_at"], name="pushes_state_sent"),
            # The same few (and the queued, some held for a person), newest first, for the
            # dashboard's list of what waits for a person.
            # Its queries repeat this condition word for word (`pushes.dashboard`): SQLite
            # reads a partial index only then, and its statistics cannot tell that these
            # states are rare among a million pushes.
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(state__in=["failed", "rejected", "unknown", "pending", "queued"]),
                name="pushes_needs_person",
            ),
        ]

    def __str__(self):
        return f"Push #{self.pk} ({self.operation} {self.data_type}, {self.state})"

    @property
    def is_terminal(self) -> bool:
        return self.state in self.TERMINAL

    @property
    def is_in_flight(self) -> bool:
        return self.state in self.IN_FLIGHT


class PushEvent(models.Model):
    """One line of a push's timeline: an HTTP exchange or a change of state."""

    class Kind(models.TextChoices):
        EXCHANGE = "exchange"
        STATE = "state"
        NOTE = "note"

    class Source(models.TextChoices):
        WORKER = "worker"
        POLL = "poll"
        WEBHOOK = "webhook"
        STAFF = "staff"
        API = "api"
        SYSTEM = "system"

    push_request = models.ForeignKey(PushRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    message = models.TextField(blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    query = models.JSONField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    request_body = models.JSONField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["push_request", "at"], name="pushes_event_timeline")]

    def __str__(self):
        if self.kind == self.Kind.EXCHANGE:
            return f"{self.method} {self.path} -> {self.status_code or 'no answer'}"
        if self.kind == self.Kind.STATE:
            return f"{self.from_state or '-'} -> {self.to_state} ({self.source})"
        return self.message[:80]


class WebhookEvent(models.Model):
    """A webhook Railz sent, stored raw before anything is done with it."""

    # (event, communication id, status) for push outcomes, else Railz's requestId, else a
    # hash of the body: a redelivery or replay of the same outcome is stored once.
    dedupe_key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=40, blank=True)
    connection_uuid = models.CharField(max_length=64, blank=True)
    push_communication_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=20, blank=True)
    raw_body = models.TextField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    # What applying it did ("applied", "no push known yet", "ignored: login event"...).
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(
                fields=["push_communication_id"],
                condition=Q(processed_at__isnull=True),
                name="pushes_webhook_waiting",
            ),
        ]

    def __str__(self):
        return f"{self.event} {self.push_communication_id or ''} {self.status}".strip()


class PushHourCount(models.Model):
    """How many pushes created in one UTC hour, on one connection, are in one count column
    (in progress, succeeded, failed, rejected, unknown, cancelled) now.

    A running total kept by the database: triggers on the push table add a push to its column
    when it is written and move it from column to column in the statement that changes its
    state (see `pushes.push_counts`), so the dashboard's counts and charts and the push list's
    date navigation read a few hundred rows, never the history of pushes.
    """

    hour = models.DateTimeField()
    connection = models.ForeignKey("refs.Connection", on_delete=models.CASCADE, related_name="+")
    column = models.CharField(max_length=12)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "connection", "column"], name="pushes_hour_count_unique"
            ),
        ]

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H}:00 {self.column}: {self.count}"
