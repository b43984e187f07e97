"""Query filters of the invoices and pushes API."""

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from pushes.models import Invoice, PushableStatus, PushRequest
from pushes.selectors import PushState, invoices_in_push_state
from railzpush.api.filters import IdFilter
from refs.filters import connection_lookup


class InvoiceFilter(django_filters.FilterSet):
    connection = django_filters.CharFilter(
        method="filter_connection", help_text="The connection's id or connection_uuid."
    )
    status = django_filters.ChoiceFilter(choices=PushableStatus.choices)
    push_state = django_filters.ChoiceFilter(
        choices=[(state.key, state.label) for state in PushState],
        method="filter_push_state",
        help_text="draft, ready, pushed, or changed since its last push.",
    )
    invoice_number = django_filters.CharFilter()
    customer = IdFilter(field_name="customer_id", help_text="The customer's id.")
    posted_after = django_filters.DateFilter(field_name="posted_date", lookup_expr="gte")
    posted_before = django_filters.DateFilter(field_name="posted_date", lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = ("connection", "status", "invoice_number", "customer")

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_push_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return invoices_in_push_state(queryset, state=value)


class PushRequestFilter(django_filters.FilterSet):
    connection = django_filters.CharFilter(
        method="filter_connection", help_text="The connection's id or connection_uuid."
    )
    state = django_filters.MultipleChoiceFilter(choices=PushRequest.State.choices)
    data_type = django_filters.CharFilter(help_text="Railz dataType, e.g. invoices.")
    operation = django_filters.ChoiceFilter(choices=PushRequest.Operation.choices)
    invoice = IdFilter(method="filter_invoice", help_text="Pushes of this invoice (its id).")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="On or after (YYYY-MM-DD)."
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="On or before (YYYY-MM-DD)."
    )

    class Meta:
        model = PushRequest
        fields = ("connection", "state", "data_type", "operation")

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_invoice(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(
            content_type=ContentType.objects.get_for_model(Invoice), object_id=value
        )
