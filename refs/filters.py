"""Query filters of the reference-data API: by connection, and archived rows on request."""

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from refs.models import Connection
from refs.selectors import open_documents


def connection_lookup(value: str, *, prefix: str = "") -> dict:
    """`?connection=` takes a connection's id or its connection_uuid (CON-…)."""
    value = value.strip()
    if value.isdigit():
        return {f"{prefix}pk": int(value)}
    if value.upper().startswith("CON-"):
        return {f"{prefix}connection_uuid": value}
    raise ValidationError(
        {"connection": ["Must be a connection id (a whole number) or a connection_uuid (CON-…)."]},
        code="invalid",
    )


class ConnectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Connection.Status.choices)
    service_name = django_filters.CharFilter()

    class Meta:
        model = Connection
        fields = ("status", "service_name")


class RefFilter(django_filters.FilterSet):
    """Base of each reference type's filter: active rows only unless `include_archived`."""

    connection = django_filters.CharFilter(
        method="filter_connection", help_text="The connection's id or connection_uuid."
    )
    include_archived = django_filters.BooleanFilter(
        method="filter_include_archived",
        help_text="true to list archived rows too (by default only rows that can be chosen).",
    )
    remote_id = django_filters.CharFilter()

    def filter_connection(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**connection_lookup(value, prefix="connection__"))

    def filter_include_archived(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # applied in filter_queryset, which also sees the parameter's absence

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_archived"):
            queryset = queryset.active()
        return queryset


def ref_filter(model) -> type[RefFilter]:
    meta = type("Meta", (), {"model": model, "fields": ("connection", "remote_id")})
    return type(f"{model.__name__}Filter", (RefFilter,), {"Meta": meta})


class OpenDocumentFilter(RefFilter):
    """Open invoices or bills: of one party (its row id or remote id), only those still owing."""

    party = django_filters.CharFilter(
        method="filter_party", help_text="The customer's (or vendor's) remote id."
    )
    open = django_filters.BooleanFilter(
        method="filter_open", help_text="true: only documents with an amount still due."
    )

    def filter_party(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(party_remote_id=value)

    def filter_open(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(open_documents()) if value else queryset


def open_document_filter(model) -> type[RefFilter]:
    meta = type("Meta", (), {"model": model, "fields": ("connection", "remote_id")})
    return type(f"{model.__name__}Filter", (OpenDocumentFilter,), {"Meta": meta})
