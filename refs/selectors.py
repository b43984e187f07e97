"""Reads of the reference-data mirror, for the composers, the admin and the push pipeline."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet, Value

from refs.filters import open_documents
from refs.mapping import REF_TYPES
from refs.models import (
    Account,
    Connection,
    Currency,
    Customer,
    Item,
    Location,
    OpenDocument,
    PaymentMethod,
    RefRecord,
    Subsidiary,
    SyncRun,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    Vendor,
)

REF_MODELS: tuple[type[RefRecord], ...] = (
    Customer,
    Vendor,
    Account,
    TaxRate,
    Item,
    TrackingCategory,
    TrackingOption,
    PaymentMethod,
    Subsidiary,
    Location,
    Currency,
)


def connections_pushable() -> QuerySet[Connection]:
    """Connections a record may be pushed to: Railz says they are active."""
    return Connection.objects.active()


def refs_for_connection(*, connection: Connection | int, model: type[RefRecord]) -> QuerySet:
    """One connection's rows of `model` that a person may choose, in dropdown order."""
    queryset = model.objects.active().filter(connection=connection)
    if model is TrackingOption:
        queryset = queryset.select_related("category")
    return queryset


def sync_runs_latest(*, connection: Connection) -> list[SyncRun]:
    """The newest run of each type for one connection (one query), in sync order."""
    latest_ids = (
        SyncRun.objects.filter(connection=connection)
        .values("data_type")
        .annotate(latest=Max("pk"))
        .values("latest")
    )
    runs = {run.data_type: run for run in SyncRun.objects.filter(pk__in=latest_ids)}
    order = list(REF_TYPES)
    return sorted(
        runs.values(), key=lambda r: order.index(r.data_type) if r.data_type in order else 99
    )


def connection_ref_counts(*, connection: Connection) -> list[tuple[str, int, int]]:
    """(model verbose name, active rows, archived rows) for each reference model, one query."""
    parts = [
        model.objects.filter(connection=connection)
        .order_by()
        .values("connection")
        .annotate(
            kind=Value(str(model._meta.verbose_name_plural)),
            active=Count("pk", filter=Q(archived_at__isnull=True)),
            archived=Count("pk", filter=Q(archived_at__isnull=False)),
        )
        .values_list("kind", "active", "archived")
        for model in REF_MODELS
    ]
    found = {
        kind: (active, archived) for kind, active, archived in parts[0].union(*parts[1:], all=True)
    }
    return [
        (
            str(model._meta.verbose_name_plural),
            *found.get(str(model._meta.verbose_name_plural), (0, 0)),
        )
        for model in REF_MODELS
    ]


def open_documents_of_party(
    *, model: type[OpenDocument], connection: Connection | int, party_id: int
) -> QuerySet:
    """The documents one customer (or vendor, by its row id) still owes in one connection,
    oldest first: what a payment of theirs can apply to. An unknown party has none."""
    party_model = model._meta.get_field(model.party_field).related_model
    remote_id = (
        party_model.objects.filter(pk=party_id, connection=connection)
        .values_list("remote_id", flat=True)
        .first()
    )
    if not remote_id:
        return model.objects.none()
    return (
        model.objects.active()
        .filter(connection=connection, party_remote_id=remote_id)
        .filter(open_documents())
        .order_by("posted_date", "remote_id")
    )
