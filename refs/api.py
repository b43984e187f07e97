"""REST API of connections and their mirrored reference data (read-only; the sync writes it)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from railzpush.api.idempotency import idempotent
from refs import filters, serializers
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
from refs.services import connections_sync_enqueue

MAX_ID_DIGITS = len(str(2**63 - 1))
CONNECTION_ID = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The connection's id, or its connection_uuid (CON-…).",
)


@extend_schema_view(retrieve=extend_schema(parameters=[CONNECTION_ID]))
class ConnectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Businesses' links to their accounting systems, as Railz last listed them."""

    queryset = Connection.objects.all()
    serializer_class = serializers.ConnectionSerializer
    filterset_class = filters.ConnectionFilter
    search_fields = ("business_name", "=connection_uuid", "service_name")
    # An id or a connection_uuid; anything else is looked up too, and is a 404.
    lookup_value_regex = "[^/]+"

    def get_object(self):
        connection = get_object_or_404(
            self.get_queryset(), **_connection_lookup_or_404(self.kwargs["pk"])
        )
        self.check_object_permissions(self.request, connection)
        return connection

    @extend_schema(
        parameters=[CONNECTION_ID],
        request=None,
        responses={202: serializers.SyncQueuedSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def sync(self, request, pk=None):
        """Queue a background sync of every reference type of this connection."""
        connection = self.get_object()
        connections_sync_enqueue(connections=[connection])
        body = {
            "connection": connection.pk,
            "queued": True,
            "detail": f"A sync of the reference data of {connection} is queued.",
        }
        return Response(
            serializers.SyncQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED
        )


def _connection_lookup_or_404(value: str) -> dict:
    if value.isdigit():
        # No id has more digits than a bigint; int() of thousands of them is a ValueError.
        if len(value) > MAX_ID_DIGITS:
            raise Http404(f"There is no connection {value[:40]}….")
        return {"pk": int(value)}
    return {"connection_uuid": value}


class RefViewSet(viewsets.ReadOnlyModelViewSet):
    """One reference type: `?connection=`, `?include_archived=true`, `?search=`, paged."""

    model = None
    select_related: tuple[str, ...] = ()

    def get_queryset(self):
        queryset = self.model.objects.all()
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset


def _ref_viewset(model, serializer, *, search_fields, select_related=(), extra=None):
    name = f"{model.__name__}ViewSet"
    doc = f"{model._meta.verbose_name_plural.capitalize()} mirrored from each connection."
    attrs = {
        "__doc__": doc,
        "__module__": __name__,
        "model": model,
        "queryset": model.objects.all(),
        "serializer_class": serializer,
        "filterset_class": filters.ref_filter(model),
        "search_fields": search_fields,
        "select_related": select_related,
        **(extra or {}),
    }
    return type(name, (RefViewSet,), attrs)


class TrackingCategoryViewSet(RefViewSet):
    """Tracking categories (classes, departments…) with their options nested."""

    model = TrackingCategory
    queryset = TrackingCategory.objects.all()
    serializer_class = serializers.TrackingCategorySerializer
    filterset_class = filters.ref_filter(TrackingCategory)
    search_fields = ("name", "=remote_id")

    def get_queryset(self):
        options = TrackingOption.objects.all()
        if self.request.query_params.get("include_archived", "").lower() not in {"true", "1"}:
            options = options.active()
        return super().get_queryset().prefetch_related(Prefetch("options", queryset=options))


NAME_SEARCH = ("name", "=remote_id")
PARTY_SEARCH = ("name", "=remote_id", "email")
CODE_SEARCH = ("name", "=remote_id", "code")

CustomerViewSet = _ref_viewset(Customer, serializers.CustomerSerializer, search_fields=PARTY_SEARCH)
VendorViewSet = _ref_viewset(Vendor, serializers.VendorSerializer, search_fields=PARTY_SEARCH)
AccountViewSet = _ref_viewset(
    Account,
    serializers.AccountSerializer,
    search_fields=(*CODE_SEARCH, "fully_qualified_name"),
)
TaxRateViewSet = _ref_viewset(TaxRate, serializers.TaxRateSerializer, search_fields=CODE_SEARCH)
ItemViewSet = _ref_viewset(Item, serializers.ItemSerializer, search_fields=CODE_SEARCH)
TrackingOptionViewSet = _ref_viewset(
    TrackingOption,
    serializers.TrackingOptionSerializer,
    search_fields=NAME_SEARCH,
    select_related=("category",),
)
PaymentMethodViewSet = _ref_viewset(
    PaymentMethod, serializers.PaymentMethodSerializer, search_fields=NAME_SEARCH
)
SubsidiaryViewSet = _ref_viewset(
    Subsidiary, serializers.SubsidiarySerializer, search_fields=NAME_SEARCH
)
LocationViewSet = _ref_viewset(Location, serializers.LocationSerializer, search_fields=NAME_SEARCH)
CurrencyViewSet = _ref_viewset(Currency, serializers.CurrencySerializer, search_fields=CODE_SEARCH)


def _open_document_viewset(model, serializer):
    """What a payment can apply to, oldest first (`?party=<remote id>&open=true` for one
    party's)."""
    return _ref_viewset(
        model,
        serializer,
        search_fields=NAME_SEARCH,
        extra={
            "filterset_class": filters.open_document_filter(model),
            "queryset": model.objects.order_by("posted_date", "remote_id"),
        },
    )


OpenInvoiceViewSet = _open_document_viewset(OpenInvoice, serializers.OpenInvoiceSerializer)
OpenBillViewSet = _open_document_viewset(OpenBill, serializers.OpenBillSerializer)
OpenInvoiceCreditNoteViewSet = _open_document_viewset(
    OpenInvoiceCreditNote, serializers.OpenInvoiceCreditNoteSerializer
)
OpenBillCreditNoteViewSet = _open_document_viewset(
    OpenBillCreditNote, serializers.OpenBillCreditNoteSerializer
)

# (url prefix, viewset) in the order the API root lists them.
ROUTES = (
    ("connections", ConnectionViewSet),
    ("customers", CustomerViewSet),
    ("vendors", VendorViewSet),
    ("accounts", AccountViewSet),
    ("tax-rates", TaxRateViewSet),
    ("items", ItemViewSet),
    ("tracking-categories", TrackingCategoryViewSet),
    ("tracking-options", TrackingOptionViewSet),
    ("payment-methods", PaymentMethodViewSet),
    ("subsidiaries", SubsidiaryViewSet),
    ("locations", LocationViewSet),
    ("currencies", CurrencyViewSet),
    ("open-invoices", OpenInvoiceViewSet),
    ("open-bills", OpenBillViewSet),
    ("open-invoice-credit-notes", OpenInvoiceCreditNoteViewSet),
    ("open-bill-credit-notes", OpenBillCreditNoteViewSet),
)
