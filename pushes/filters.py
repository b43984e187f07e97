"""Query filters of the records (invoices, bills, credit notes) and pushes API."""

from functools import cache

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

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

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_push_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return records_in_push_state(queryset, state=value)


@cache
def record_filterset(data_type: str) -> type[RecordFilter]:
    """The list filters of a declared type: the shared ones, its number, its party and its
    posted date where it has them."""
    spec = registry.for_data_type(data_type).spec
    declared: dict = {}
    if spec.party:
        declared[spec.party] = IdFilter(
            field_name=f"{spec.party}_id", help_text=f"The {spec.party}'s id."
        )
    if spec.number:
        declared[spec.number] = django_filters.CharFilter()
    if spec.date_field:  # posted_after / posted_before: on the type's own date (a payment's `date`)
        for name, lookup in (("posted_after", "gte"), ("posted_before", "lte")):
            declared[name] = django_filters.DateFilter(
                field_name=spec.date_field, lookup_expr=lookup
            )
    fields = {f.name for f in spec.fields}
    meta = type(
        "Meta",
        (),
        {
            "model": spec.model_class,
            "fields": ("connection", "status", *(n for n in declared if n in fields)),
        },
    )
    name = spec.label.title().replace(" ", "")
    return type(f"{name}Filter", (RecordFilter,), {**declared, "Meta": meta})


def record_type_choices() -> list[tuple[str, str]]:
    """The names `record_type=` takes: each declared type's data type, as its REST resource is
    named (`bills`), and its model's name, as a push's `record_type` reads (`bill`)."""
    pushables = registry.pushables()
    return [
        *((p.data_type, p.spec.label_plural) for p in pushables),
        *((p.model._meta.model_name, p.spec.label) for p in pushables),
    ]


def _record_model(record_type: str):
    for pushable in registry.pushables():
        if record_type in (pushable.data_type, pushable.model._meta.model_name):
            return pushable.model
    raise LookupError(record_type)  # the choices let only declared types through


class PushRequestFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        # A record id alone is ambiguous: every type numbers its records from 1.
        named = cleaned.get("record_type") or "record_type" in self.errors  # refused already
        if cleaned.get("record_id") is not None and not named:
            self.add_error(
                "record_type",
                forms.ValidationError(
                    "record_id needs record_type: the records of each type have their own ids.",
                    code="required",
                ),
            )
        return cleaned


class PushRequestFilter(django_filters.FilterSet):
    connection = django_filters.CharFilter(
        method="filter_connection", help_text="The connection's id or connection_uuid."
    )
    state = django_filters.MultipleChoiceFilter(choices=PushRequest.State.choices)
    data_type = django_filters.CharFilter(help_text="Railz dataType, e.g. invoices.")
    operation = django_filters.ChoiceFilter(choices=PushRequest.Operation.choices)
    invoice = IdFilter(method="filter_invoice", help_text="Pushes of this invoice (its id).")
    record_type = django_filters.ChoiceFilter(
        choices=record_type_choices(),
        method="filter_record_type",
        help_text="Pushes of records of this type: its data type (bills, invoiceCreditNotes) or "
        "a push's record_type (bill, invoicecreditnote).",
    )
    record_id = IdFilter(
        method="filter_record_id",
        help_text="Pushes of this record (its id); needs record_type.",
    )
    held = django_filters.BooleanFilter(
        method="filter_held",
        help_text="true: only payments held for a person (a document they pay did not get to "
        "the accounting system); see held_reason.",
    )
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="On or after (YYYY-MM-DD)."
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="On or before (YYYY-MM-DD)."
    )

    class Meta:
        model = PushRequest
        form = PushRequestFilterForm
        fields = ("connection", "state", "data_type", "operation")

    def filter_held(self, queryset: QuerySet, name: str, value) -> QuerySet:
        held = Q(state=PushRequest.State.QUEUED) & ~Q(held_reason="")
        if value is None:
            return queryset
        return queryset.filter(held) if value else queryset.exclude(held)

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_invoice(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(
            content_type=ContentType.objects.get_for_model(Invoice), object_id=value
        )

    def filter_record_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(content_type=ContentType.objects.get_for_model(_record_model(value)))

    def filter_record_id(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        # The form made sure record_type came with it, and that filter narrows to the type.
        return queryset.filter(object_id=value)
