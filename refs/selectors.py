"""Reads of the reference-data mirror, for the composers, the admin and the push pipeline."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Value

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


def open_documents() -> Q:
    """Documents a payment can still apply to: an amount due, neither paid nor void."""
    return Q(amount_due__gt=0) & ~Q(document_status__in=("paid", "void", "notPushed"))


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


# A sync run's status as a bookkeeper reads it on the connection's page.
_PROGRESS_STATE = {
    SyncRun.Status.RUNNING: "syncing",
    SyncRun.Status.SUCCEEDED: "done",
    SyncRun.Status.FAILED: "failed",
    SyncRun.Status.NOT_READY: "failed",
    SyncRun.Status.UNSUPPORTED: "not offered",
}


def connection_sync_progress(*, connection: Connection, since=None) -> list[dict]:
    """Each reference type's state in the newest sync of one connection, in sync order.

    With `since` (when a sync was asked for), a type with no run started since then is still
    waiting its turn; without it, each type shows its last run.
    """
    runs = SyncRun.objects.filter(connection=connection, data_type__in=list(REF_TYPES))
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    latest = {}
    for run in runs.order_by("data_type", "-started_at", "-pk"):
        latest.setdefault(run.data_type, run)
    progress = []
    for data_type, ref_type in REF_TYPES.items():
        run = latest.get(data_type)
        row = {"type": data_type, "label": ref_type.label, "state": "waiting", "reason": ""}
        if run is not None:
            row["state"] = _PROGRESS_STATE.get(run.status, run.status)
            row["counts"] = {
                name: getattr(run, name)
                for name in ("created", "updated", "unchanged", "archived", "skipped")
            }
            if run.status == SyncRun.Status.NOT_READY:
                row["reason"] = f"{run.error or 'not ready'}; a retry is scheduled".lstrip("; ")
            elif run.status == SyncRun.Status.FAILED:
                row["reason"] = run.error or "the accounting system refused"
        elif since is None:
            row["state"] = "never synced"
        progress.append(row)
    return progress


def item_line_defaults(*, item: Item, side: str) -> dict:
    """What choosing `item` puts on a line, from the mirror: its description, unit price,
    account and tax rate on the `side` the document takes ("sales" for what is sold, the
    item's invoiceItem; "purchase" for what is bought, its billItem). A reference the mirror
    no longer offers (archived, never synced) is left out rather than filled."""
    if side == "sales":
        return {
            "description": item.description,
            "unit_price": item.unit_price,
            "account": item.account if item.account and not item.account.is_archived else None,
            "tax_rate": item.tax_rate if item.tax_rate and not item.tax_rate.is_archived else None,
        }
    if side != "purchase":
        raise ValueError(f"side must be sales or purchase; got {side!r}")
    # The mirror keeps the purchase side as Railz sent it, in the row's raw record.
    bought = (item.raw or {}).get("billItem") or {}
    if not isinstance(bought, dict):
        bought = {}

    def ref(model: type[RefRecord], key: str):
        remote = bought.get(key) or {}
        remote_id = remote.get("id") if isinstance(remote, dict) else None
        if not remote_id:
            return None
        return (
            refs_for_connection(connection=item.connection_id, model=model)
            .filter(remote_id=str(remote_id))
            .first()
        )

    price = bought.get("unitPrice")
    try:
        unit_price = Decimal(str(price)) if price not in (None, "") else None
    except ArithmeticError:
        unit_price = None
    description = bought.get("description")
    return {
        "description": description if isinstance(description, str) else "",
        "unit_price": unit_price,
        "account": ref(Account, "accountRef"),
        "tax_rate": ref(TaxRate, "taxRateRef"),
    }
