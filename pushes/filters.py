"""Query filters of the records (invoices, bills, credit notes) and pushes API."""

from functools import cache

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from pushes import registry
from pushes.models import Invoice, PushableStatus, PushRequest
from pushes.selectors import PushState, records_in_push_state
from railzpush.api.filters import IdFilter
from refs.filters import connection_lookup


class RecordFilter(django_filters.FilterSet):
    """Filters every declared type shares; `record_filterset` adds its number and party."""

    connection = django_filters.CharFilter(
        method="filter_connection", help_text="The connection's id or connection_uuid."
    )
    status = django_filters.ChoiceFilter(choices=PushableStatus.choices)
    push_state = django_filters.ChoiceFilter(
        choices=[(state.key, state.label) for state in PushState],
        method="filter_push_state",
        help_text="draft, ready, pushed, or changed since its last push.",
    )
    posted_after = django_filters.DateFilter(field_name="posted_date", lookup_expr="gte")
    posted_before = django_filters.DateFilter(field_name="posted_date", lookup_expr="lte")

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_push_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return records_in_push_state(queryset, state=value)


@cache
def record_filterset(data_type: str) -> type[RecordFilter]:
    """The list filters of a declared type: the shared ones, its number and its party."""
    spec = registry.for_data_type(data_type).spec
    declared: dict = {
        spec.party: IdFilter(field_name=f"{spec.party}_id", help_text=f"The {spec.party}'s id.")
    }
    if spec.number:
        declared[spec.number] = django_filters.CharFilter()
    meta = type(
        "Meta",
        (),
        {
            "model": spec.model_class,
            "fields": ("connection", "status", *declared),
        },
    )
    name = spec.label.title().replace(" ", "")
    return type(f"{name}Filter", (RecordFilter,), {**declared, "Meta": meta})


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
