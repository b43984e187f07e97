"""The local mirror of each connection's reference data, as Railz last returned it.

The rows belong to the accounting system: they are written only by the sync services and read
by the composers' dropdowns. A row Railz stops returning is archived (`archived_at`), never
deleted, because drafts may point at it: it leaves the dropdowns but keeps displaying where it
is used.

How the Railz reference types (https://docs.railz.ai "Reference Types") map onto these models;
on push every Ref is sent as `{"id": <remote_id>}`:

    AccountRef            -> Account.remote_id
    CustomerRef           -> Customer.remote_id
    VendorRef             -> Vendor.remote_id
    EntityRef             -> Customer or Vendor, chosen by entityRef.type ("customer"/"vendor")
    TaxRateRef            -> TaxRate.remote_id
    InventoryRef          -> Item.remote_id
    trackingCategoryRefs  -> TrackingOption, one per Railz tracking row, parent or child:
                             pushed as {"id": remote_id, "type": category_type}, the v2 push
                             schema's whole ref (it has no optionId); rows with no parentRef
                             are also TrackingCategory rows, which group their children
    SubsidiaryRef         -> Subsidiary.remote_id
    LocationRef           -> Location.remote_id
    CurrencyRef           -> Currency.code (pushes send the plain string `currency`)
    ParentRef             -> the `parent` foreign key of Account, Customer, Vendor, Subsidiary
                             (and TrackingOption.category for tracking categories)
    Address, Contact      -> not modelled separately: kept in `raw` (billingAddress,
                             shippingAddress, contacts[]) of Customer and Vendor
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q


class ConnectionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Connection.Status.ACTIVE)


class Connection(models.Model):
    """A business's link to one accounting system, from GET /v2/connections + /v2/businesses."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        DISCONNECTED = "disconnected"
        EXPIRED = "expired"
        INVALID = "invalid"
        # No longer listed by GET /v2/connections.
        REMOVED = "removed"

    # What Railz reports of a connection the business can bring back (it disconnected its
    # books, or their authorisation expired): its pushes wait behind a pause until it is
    # active again, instead of being refused. Pending (never connected) and removed (Railz no
    # longer lists it) connections still refuse pushes: nothing would ever send them.
    PAUSING_STATUSES = frozenset({Status.DISCONNECTED, Status.EXPIRED})

    connection_uuid = models.CharField(max_length=64, unique=True)
    business_uuid = models.CharField(max_length=64, blank=True)
    business_name = models.CharField(max_length=500, blank=True)
    service_name = models.CharField(max_length=40)
    # Kept as Railz sends it: an unknown future status must not break discovery.
    status = models.CharField(max_length=20)
    disconnect_reason = models.CharField(max_length=200, blank=True)
    base_currency = models.CharField(max_length=10, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    discovered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When a sync of this connection last finished without error.
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Pushes of types Railz takes in batches go out together (PUSH_BATCH_ENABLED permitting);
    # off, each record is one call, e.g. for a provider that handles batches badly.
    batch_pushes = models.BooleanField(
        default=True,
        help_text="Send customers, vendors and journal entries to this connection in batches.",
    )

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["business_name", "connection_uuid"]

    def __str__(self):
        name = self.business_name or self.connection_uuid
        return f"{name} ({self.service_name})" if self.service_name else name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def can_push(self) -> bool:
        # Railz only reaches the accounting system through an active connection; anything
        # pushed to another would fail later and far from the person who composed it.
        return self.is_active

    @property
    def can_queue(self) -> bool:
        """Pushes may be queued: it is active, or paused until the business reconnects it."""
        return self.is_active or self.status in self.PAUSING_STATUSES


class RefQuerySet(models.QuerySet):
    def active(self):
        """Rows a person may still choose: Railz still returns them and does not archive them."""
        return self.filter(archived_at__isnull=True).exclude(status=RefRecord.Status.ARCHIVED)

    def for_connection(self, connection):
        return self.filter(connection=connection)


class RefRecord(models.Model):
    """What every mirrored reference row has: where it came from and how it was last seen."""

    class Status(models.TextChoices):
        # Railz's own record status (accounts map isActive onto it); `unknown` when absent.
        ACTIVE = "active"
        ARCHIVED = "archived"
        UNKNOWN = "unknown"

    # No index of its own: the (connection, remote_id) unique index starts with it.
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, db_index=False)
    remote_id = models.CharField(max_length=255, help_text="The record's id in Railz.")
    name = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNKNOWN)
    # Set when a complete sync no longer returned the row; cleared if it comes back.
    archived_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # Hash of the Railz record, so a re-sync skips unchanged rows without rewriting them.
    content_hash = models.CharField(max_length=32)
    synced_at = models.DateTimeField()

    objects = RefQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name", "remote_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "remote_id"], name="%(app_label)s_%(class)s_unique_remote"
            ),
        ]
        indexes = [
            # Dropdowns: one connection's live rows in name order, searched by name.
            models.Index(
                fields=["connection", "name"],
                condition=Q(archived_at__isnull=True),
                name="%(app_label)s_%(class)s_pick",
            ),
        ]

    def __str__(self):
        return self.name or self.remote_id

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None or self.status == self.Status.ARCHIVED


class Party(RefRecord):
    """Customers and vendors share Railz's shape (GetCustomerDataV2 / GetVendorDataV2)."""

    contact_name = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    parent_remote_id = models.CharField(max_length=255, blank=True)

    class Meta(RefRecord.Meta):
        abstract = True
        indexes = [
            # Dropdown search reads name, email, remote id and status from the index alone:
            # a 100,000-customer connection is scanned without touching its wide rows.
            models.Index(
                fields=["connection", "name", "email", "remote_id", "status"],
                condition=Q(archived_at__isnull=True),
                name="%(app_label)s_%(class)s_pick",
            ),
        ]

    def __str__(self):
        return " · ".join(
            part for part in (self.name or self.remote_id, self.email, self.currency) if part
        )


class Customer(Party):
    """CustomerRef (and EntityRef of type "customer"); `parent` is the ParentRef (sub-customer)."""

    # Unindexed: rows are archived, never deleted, so nothing looks children up by parent, and
    # an index of mostly NULLs would slow every write of a 100,000-customer sync.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_index=False,
    )

    class Meta(Party.Meta):
        pass


class Vendor(Party):
    """VendorRef (and EntityRef with type "vendor"); `parent` is the ParentRef."""

    parent = models.ForeignKey(  # unindexed, as Customer.parent
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_index=False,
    )

    class Meta(Party.Meta):
        pass


def _open_of_party(name: str) -> models.Index:
    """The composer's read: one party's open documents, oldest first."""
    return models.Index(
        fields=["connection", "party_remote_id", "posted_date"],
        condition=Q(archived_at__isnull=True),
        name=name,
    )


class OpenDocument(RefRecord):
    """A document payments apply to (GetInvoicesV2 / GetBillsV2, and the credit notes of
    GetInvoiceCreditNotesV2 / GetBillCreditNotesV2), as the accounting system has it.

    `name` holds the document's number. `amount_due` is what is still open on it: Railz's
    `amountDue` of an invoice or bill, `remainingCredit` of a credit note. Once a payment
    pushed from here succeeds it is lowered at once and `amount_due_is_local` says so, until
    the next sync brings the accounting system's own figure (a sync writes every column, the
    flag included, so it is cleared then).
    """

    class DocumentStatus(models.TextChoices):
        # Railz's document statuses (GetInvoicesV2.status); `unknown` when absent.
        DRAFT = "draft"
        OPEN = "open"
        PARTIALLY_PAID = "partiallyPaid"
        PAID = "paid"
        VOID = "void"
        UNKNOWN = "unknown"
        # A document composed in railzpush: its push is on its way, or failed or cancelled.
        PUSHING = "pushing"
        NOT_PUSHED = "notPushed"

    party_remote_id = models.CharField(max_length=255, blank=True)
    posted_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    total_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    amount_due = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    document_status = models.CharField(
        max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.UNKNOWN
    )
    amount_due_is_local = models.BooleanField(
        default=False,
        help_text="The amount due was lowered here by a payment; the next sync confirms it.",
    )

    # The link type a payment line names it by (Railz `links[].type`).
    link_type = ""

    class Meta(RefRecord.Meta):
        abstract = True
        ordering = ["posted_date", "remote_id"]
        indexes = [_open_of_party("%(app_label)s_%(class)s_open")]

    def __str__(self):
        number = self.name or self.remote_id
        due = f"{self.amount_due:,.2f}" if self.amount_due is not None else "?"
        return f"{number} · {due} {self.currency} due".replace("  ", " ")

    @property
    def is_open(self) -> bool:
        return (
            not self.is_archived
            and self.document_status not in (self.DocumentStatus.PAID, self.DocumentStatus.VOID)
            and (self.amount_due or 0) > 0
        )


class OpenInvoice(OpenDocument):
    """An invoice of the accounting system (GET /v2/accounting/invoices)."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    link_type = "invoice"
    party_field = "customer"

    class Meta(OpenDocument.Meta):
        verbose_name = "open invoice"


class OpenBill(OpenDocument):
    """A bill of the accounting system (GET /v2/accounting/bills)."""

    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    link_type = "bill"
    party_field = "vendor"

    class Meta(OpenDocument.Meta):
        verbose_name = "open bill"


class OpenInvoiceCreditNote(OpenDocument):
    """An invoice credit note of the accounting system (GET /v2/accounting/invoices/creditNotes):
    credit owed to a customer, which an invoice payment can apply. `amount_due` is its
    remaining credit."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    link_type = "creditNote"
    party_field = "customer"

    class Meta(OpenDocument.Meta):
        verbose_name = "open invoice credit note"
        indexes = [_open_of_party("refs_openinvoicecn_open")]


class OpenBillCreditNote(OpenDocument):
    """A bill credit note of the accounting system (GET /v2/accounting/bills/creditNotes):
    credit a vendor owes, which a bill payment can apply. `amount_due` is its remaining
    credit."""

    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    link_type = "creditNote"
    party_field = "vendor"

    class Meta(OpenDocument.Meta):
        verbose_name = "open bill credit note"
        indexes = [_open_of_party("refs_openbillcn_open")]


class Account(RefRecord):
    """AccountRef: the chart of accounts; `parent` is the ParentRef (parent account)."""

    code = models.CharField(max_length=100, blank=True, help_text="Railz nominalCode.")
    account_type = models.CharField(max_length=100, blank=True, help_text="Railz type.")
    classification = models.CharField(max_length=100, blank=True)
    section = models.CharField(max_length=100, blank=True)
    fully_qualified_name = models.CharField(max_length=1000, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    is_bank_account = models.BooleanField(default=False)
    is_posting = models.BooleanField(default=True)
    parent_remote_id = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    tax_rate_remote_id = models.CharField(max_length=255, blank=True)
    tax_rate = models.ForeignKey(
        "TaxRate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The account's default tax rate (taxRateRef).",
    )

    class Meta(RefRecord.Meta):
        ordering = ["code", "name", "remote_id"]
        indexes = [
            *RefRecord.Meta.indexes,
            models.Index(fields=["connection", "code"], name="%(app_label)s_%(class)s_code"),
        ]

    def __str__(self):
        kind = self.account_type or self.classification
        return " · ".join(part for part in (self.code, self.name or self.remote_id, kind) if part)


def format_rate(rate: Decimal | None) -> str:
    """5.000000 -> "5", 12.500000 -> "12.5": rates read the way a bookkeeper writes them."""
    if rate is None:
        return ""
    return format(rate.normalize(), "f")


class TaxRate(RefRecord):
    """TaxRateRef. Railz tax rates have no status: they stay active until Railz drops them."""

    code = models.CharField(max_length=100, blank=True)
    # Percentages as Railz sends them (13 means 13 %).
    effective_rate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    total_rate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    is_sales_tax = models.BooleanField(null=True, blank=True)
    is_purchases_tax = models.BooleanField(null=True, blank=True)

    class Meta(RefRecord.Meta):
        pass

    def __str__(self):
        label = self.name or self.code or self.remote_id
        rate = format_rate(self.rate)
        return f"{label} ({rate}%)" if rate else label

    @property
    def rate(self) -> Decimal | None:
        return self.total_rate if self.total_rate is not None else self.effective_rate


class Item(RefRecord):
    """InventoryRef: products and services (GET /v2/accounting/inventory)."""

    code = models.CharField(max_length=100, blank=True)
    item_type = models.CharField(
        max_length=40, blank=True, help_text="inventory, nonInventory, service"
    )
    is_invoice_item = models.BooleanField(default=True)
    is_bill_item = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    # Invoice line defaults (invoiceItem.*); the accounts and tax rates are other syncs' rows.
    unit_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    account_remote_id = models.CharField(max_length=255, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tax_rate_remote_id = models.CharField(max_length=255, blank=True)
    tax_rate = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(RefRecord.Meta):
        indexes = [
            *RefRecord.Meta.indexes,
            models.Index(fields=["connection", "code"], name="%(app_label)s_%(class)s_code"),
        ]

    def __str__(self):
        return " · ".join(part for part in (self.code, self.name or self.remote_id) if part)


class TrackingCategory(RefRecord):
    """A Railz tracking row with no parentRef, as the group of the rows under it.

    The same row is also a TrackingOption: a line books rows, never this grouping.
    """

    class Type(models.TextChoices):
        CLASS = "class"
        DEPARTMENT = "department"
        LOCATION = "location"
        UNKNOWN = "unknown"

    category_type = models.CharField(max_length=20, choices=Type.choices, default=Type.UNKNOWN)

    class Meta(RefRecord.Meta):
        verbose_name_plural = "tracking categories"


class TrackingOption(RefRecord):
    """One tracking row a line can be booked to: every row Railz lists, parent or child.

    Railz lists a category's options as tracking categories whose parentRef is the category,
    and a provider may book to either: a QuickBooks class with sub-classes, a NetSuite
    department, a Xero option. `category` is the parent, None for a top-level row. A line
    sends the row itself, `{"id": remote_id, "type": category_type}`, so the provider books
    exactly the row that was chosen.
    """

    # The row's own Railz `type` (class, department, location, unknown): pushed with its id.
    category_type = models.CharField(
        max_length=20,
        choices=TrackingCategory.Type.choices,
        default=TrackingCategory.Type.UNKNOWN,
    )
    category_remote_id = models.CharField(max_length=255, blank=True)
    category = models.ForeignKey(
        TrackingCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="options"
    )

    class Meta(RefRecord.Meta):
        pass

    def __str__(self):
        option = self.name or self.remote_id
        if self.category_id is None:
            return option
        return f"{self.category.name or self.category.remote_id}: {option}"


class PaymentMethod(RefRecord):
    """paymentMethodRef (GET /v2/accounting/paymentMethods)."""

    method_type = models.CharField(max_length=40, blank=True)

    class Meta(RefRecord.Meta):
        pass

    def __str__(self):
        name = self.name or self.remote_id
        return f"{name} ({self.method_type})" if self.method_type else name


class Subsidiary(RefRecord):
    """SubsidiaryRef, from GET /v2/businesses/info `subsidiaryRefs[]` (ParentRef -> parent)."""

    parent_remote_id = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    class Meta(RefRecord.Meta):
        verbose_name_plural = "subsidiaries"


class Location(RefRecord):
    """LocationRef, from `subsidiaryRefs[].locations[]` of GET /v2/businesses/info."""

    subsidiary_remote_id = models.CharField(max_length=255, blank=True)
    subsidiary = models.ForeignKey(
        Subsidiary, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations"
    )

    class Meta(RefRecord.Meta):
        pass


class Currency(RefRecord):
    """CurrencyRef, from GET /v2/businesses/info `currencyRefs[]`; pushes send `code`."""

    code = models.CharField(max_length=10, blank=True, help_text="ISO code (Railz symbol).")
    is_base_currency = models.BooleanField(default=False)

    class Meta(RefRecord.Meta):
        verbose_name_plural = "currencies"
        ordering = ["code", "remote_id"]

    def __str__(self):
        code = self.code or self.remote_id
        return f"{code} · {self.name}" if self.name and self.name != code else code


class SyncRun(models.Model):
    """One attempt to mirror one reference type of one connection: the work log of syncs."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        NOT_READY = "not_ready", "not ready, retry scheduled"
        UNSUPPORTED = "unsupported", "not offered by this accounting system"

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="sync_runs"
    )
    # A Railz dataType ("customers", "accounts", ...), "businessInfo" or "connections".
    data_type = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # [{"id": "<remote id or null>", "reason": "..."}] for each record that was not stored.
    skipped_records = models.JSONField(default=list, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["connection", "data_type", "-started_at"], name="refs_syncrun_latest"
            ),
        ]

    def __str__(self):
        return f"{self.data_type} {self.get_status_display()} at {self.started_at:%Y-%m-%d %H:%M}"
