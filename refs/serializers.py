"""How connections and the mirrored reference data read in the REST API (read-only)."""

from rest_framework import serializers

from refs.models import (
    Account,
    Connection,
    Currency,
    Customer,
    Item,
    Location,
    OpenBill,
    OpenBillCreditNote,
    OpenInvoice,
    OpenInvoiceCreditNote,
    PaymentMethod,
    Subsidiary,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    Vendor,
)


class ConnectionSerializer(serializers.ModelSerializer):
    can_push = serializers.BooleanField(
        read_only=True, help_text="Railz reaches the accounting system: records can be pushed."
    )

    class Meta:
        model = Connection
        fields = (
            "id",
            "connection_uuid",
            "business_uuid",
            "business_name",
            "service_name",
            "status",
            "disconnect_reason",
            "base_currency",
            "can_push",
            "discovered_at",
            "updated_at",
            "last_synced_at",
        )
        read_only_fields = fields


class SyncQueuedSerializer(serializers.Serializer):
    connection = serializers.IntegerField(help_text="The connection's id.")
    queued = serializers.BooleanField()
    detail = serializers.CharField()


REF_FIELDS = (
    "id",
    "connection",
    "remote_id",
    "name",
    "status",
    "is_archived",
    "archived_at",
    "synced_at",
)


class RefSerializer(serializers.ModelSerializer):
    """The fields every reference row has; `remote_id` is what pushes send as the Ref's id."""

    is_archived = serializers.BooleanField(read_only=True)

    class Meta:
        fields = REF_FIELDS
        read_only_fields = fields


def _meta(model, *extra: str):
    return type("Meta", (), {"model": model, "fields": (*REF_FIELDS, *extra)})


PARTY_FIELDS = ("contact_name", "email", "phone", "currency", "parent", "parent_remote_id")


class CustomerSerializer(RefSerializer):
    Meta = _meta(Customer, *PARTY_FIELDS)


class VendorSerializer(RefSerializer):
    Meta = _meta(Vendor, *PARTY_FIELDS)


OPEN_DOCUMENT_FIELDS = (
    "party_remote_id",
    "posted_date",
    "due_date",
    "currency",
    "total_amount",
    "amount_due",
    "amount_due_is_local",
    "document_status",
)


class OpenInvoiceSerializer(RefSerializer):
    Meta = _meta(OpenInvoice, *OPEN_DOCUMENT_FIELDS, "customer")


class OpenBillSerializer(RefSerializer):
    Meta = _meta(OpenBill, *OPEN_DOCUMENT_FIELDS, "vendor")


class OpenCreditNoteSerializer(RefSerializer):
    """A credit note says what is still open on it as Railz does: `remaining_credit`."""

    remaining_credit = serializers.DecimalField(
        source="amount_due", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    remaining_credit_is_local = serializers.BooleanField(
        source="amount_due_is_local", read_only=True
    )


_CREDIT_NOTE_FIELDS = tuple(
    f"remaining_credit{name[len('amount_due') :]}" if name.startswith("amount_due") else name
    for name in OPEN_DOCUMENT_FIELDS
)


class OpenInvoiceCreditNoteSerializer(OpenCreditNoteSerializer):
    Meta = _meta(OpenInvoiceCreditNote, *_CREDIT_NOTE_FIELDS, "customer")


class OpenBillCreditNoteSerializer(OpenCreditNoteSerializer):
    Meta = _meta(OpenBillCreditNote, *_CREDIT_NOTE_FIELDS, "vendor")


class AccountSerializer(RefSerializer):
    Meta = _meta(
        Account,
        "code",
        "account_type",
        "classification",
        "section",
        "fully_qualified_name",
        "currency",
        "is_bank_account",
        "is_posting",
        "parent",
        "parent_remote_id",
        "tax_rate",
        "tax_rate_remote_id",
    )


class TaxRateSerializer(RefSerializer):
    Meta = _meta(
        TaxRate, "code", "effective_rate", "total_rate", "is_sales_tax", "is_purchases_tax"
    )


class ItemSerializer(RefSerializer):
    Meta = _meta(
        Item,
        "code",
        "item_type",
        "is_invoice_item",
        "is_bill_item",
        "description",
        "unit_price",
        "account",
        "account_remote_id",
        "tax_rate",
        "tax_rate_remote_id",
    )


class TrackingOptionSerializer(RefSerializer):
    Meta = _meta(TrackingOption, "category_type", "category", "category_remote_id")


class NestedTrackingOptionSerializer(RefSerializer):
    Meta = _meta(TrackingOption, "category_type")


class TrackingCategorySerializer(RefSerializer):
    options = NestedTrackingOptionSerializer(many=True, read_only=True)

    Meta = _meta(TrackingCategory, "category_type", "options")


class PaymentMethodSerializer(RefSerializer):
    Meta = _meta(PaymentMethod, "method_type")


class SubsidiarySerializer(RefSerializer):
    Meta = _meta(Subsidiary, "parent", "parent_remote_id")


class LocationSerializer(RefSerializer):
    Meta = _meta(Location, "subsidiary", "subsidiary_remote_id")


class CurrencySerializer(RefSerializer):
    Meta = _meta(Currency, "code", "is_base_currency")
