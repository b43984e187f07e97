"""The emulator's state. It lives in its own tables so the web process and every worker see
one emulator: connections, the records a connection's reads return, pushes and their outcome,
webhook deliveries, and the faults switched on for tests and demos.

Records keep their GET-shaped JSON as text: a page is built by joining stored strings, never by
decoding and re-encoding rows.
"""

from django.db import models
from django.db.models import Q


class EmuConnection(models.Model):
    connection_uuid = models.CharField(max_length=64, unique=True)
    business_uuid = models.CharField(max_length=64)
    business_name = models.CharField(max_length=255)
    service_name = models.CharField(max_length=40)
    status = models.CharField(max_length=20, default="active")
    # Reads answer 202 (data still being extracted) until this time.
    data_ready_at = models.DateTimeField(null=True, blank=True)
    # GET /v2/connections item, GET /v2/businesses item and GET /v2/businesses/info `data`.
    connection_json = models.TextField()
    business_json = models.TextField()
    info_json = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.business_name} ({self.service_name})"


class EmuRecord(models.Model):
    """One record of a connection, as GET /v2/accounting/<type> returns it."""

    connection = models.ForeignKey(EmuConnection, on_delete=models.CASCADE)
    data_type = models.CharField(max_length=40)
    remote_id = models.CharField(max_length=64)
    # Insertion order: the default page order, and the key of the page index.
    seq = models.BigIntegerField()
    # The type's display field (customerName, name, invoiceNumber...), for orderBy and the
    # duplicate-number rule.
    sort_name = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=20, blank=True, default="")
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "data_type", "remote_id"], name="emu_record_unique_id"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "data_type", "seq"], name="emu_record_page"),
            models.Index(fields=["connection", "data_type", "sort_name"], name="emu_record_name"),
        ]

    def __str__(self) -> str:
        return f"{self.data_type} {self.remote_id}"


class EmuTypeCount(models.Model):
    """Records per connection and type, kept up to date so pages never COUNT large sets."""

    connection = models.ForeignKey(EmuConnection, on_delete=models.CASCADE)
    data_type = models.CharField(max_length=40)
    count = models.IntegerField(default=0)
    next_seq = models.BigIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "data_type"], name="emu_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.data_type}: {self.count}"


class EmuPush(models.Model):
    """A push (create, update or delete) Railz accepted, and what became of it."""

    PENDING, SUCCESS, FAILED = "pending", "success", "failed"

    communication_id = models.CharField(max_length=24, unique=True)
    batch_id = models.CharField(max_length=24, blank=True, default="", db_index=True)
    connection = models.ForeignKey(EmuConnection, on_delete=models.CASCADE)
    data_type = models.CharField(max_length=40)
    operation = models.CharField(max_length=20)
    record_id = models.CharField(max_length=64, blank=True, default="")
    body = models.TextField(default="{}")  # the pushed `data` (or batch item)
    status = models.CharField(max_length=10, default=PENDING)
    requested_on = models.DateTimeField()
    # None: held pending by a fault until the fault is lifted.
    due_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateTimeField(null=True, blank=True)
    response_code = models.IntegerField(null=True, blank=True)
    errors = models.TextField(default="[]")
    source_object_ids = models.TextField(default="[]")

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="pending"), name="emu_push_pending_due"
            ),
            models.Index(fields=["connection", "-requested_on"], name="emu_push_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.data_type} {self.communication_id} ({self.status})"

    @property
    def is_delete(self) -> bool:
        return self.operation == "delete"


class EmuWebhookDelivery(models.Model):
    """One delivery attempt of a webhook event (the first try and each retry)."""

    request_id = models.CharField(max_length=64, db_index=True)
    event = models.CharField(max_length=40)
    communication_id = models.CharField(max_length=24, blank=True, default="", db_index=True)
    status = models.CharField(max_length=10, blank=True, default="")  # the event's status
    url = models.CharField(max_length=500)
    attempt = models.PositiveSmallIntegerField()
    response_status = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event} {self.request_id} attempt {self.attempt}"


class EmuFault(models.Model):
    """Faults switched on for one connection, or for every request (scope "")."""

    scope = models.CharField(max_length=64, unique=True, blank=True, default="")
    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0)  # share of requests answered with error_status
    error_status = models.PositiveSmallIntegerField(default=503)
    storm_requests = models.PositiveIntegerField(default=0)  # next N requests answer 429
    storm_until = models.DateTimeField(null=True, blank=True)  # ...or every request until then
    stay_pending = models.BooleanField(default=False)
    duplicate_webhooks = models.BooleanField(default=False)
    out_of_order_webhooks = models.BooleanField(default=False)
    lose_answer = models.CharField(max_length=10, blank=True, default="")  # "", drop, stall
    stall_seconds = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"faults for {self.scope or 'every connection'}"


class EmuControl(models.Model):
    """Emulator-wide settings changed at run time (a single row)."""

    webhook_url = models.CharField(max_length=500, blank=True, default="")
    webhook_secret = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return "emulator settings"
