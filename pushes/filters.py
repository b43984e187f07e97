"""Query filters of the invoices and pushes API."""

import django_filters
from django.db.models import QuerySet

from pushes.models import Invoice, PushableStatus
from pushes.selectors import PushState, invoices_in_push_state
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
    customer = django_filters.NumberFilter(field_name="customer_id")
    posted_after = django_filters.DateFilter(field_name="posted_date", lookup_expr="gte")
    posted_before = django_filters.DateFilter(field_name="posted_date", lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = ("connection", "status", "invoice_number", "customer")

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_push_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return invoices_in_push_state(queryset, state=value)
