"""Reads about records (invoices, bills, credit notes): totals, push state, and which
connections a record can be composed for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round

from pushes.models import CURRENCY_MINOR_UNITS, PushableStatus
from refs.models import Connection

__all__ = [
    "ConnectionChoice",
    "InvoiceTotals",
    "PushState",
    "connections_for_invoice",
    "invoice_push_state",
    "invoice_totals",
    "invoices_in_push_state",
    "invoices_with_push_state",
    "line_amounts",
    "record_push_state",
    "records_in_push_state",
    "records_total_by_currency",
    "records_with_push_state",
    "records_with_totals",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineAmounts:
    amount: Decimal  # quantity times unit amount, rounded to the currency
    discount: Decimal
    tax: Decimal | None  # None when the line's tax rate has no known percentage


@dataclass(frozen=True)
class InvoiceTotals:
    """What the invoice comes to, rounded the way the accounting system rounds: per line."""

    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal  # of the lines whose tax rate is known
    total: Decimal
    # False when a line has a tax rate whose percentage is unknown: its tax is not included.
    tax_complete: bool


def _places(currency: str) -> Decimal:
    return Decimal(1).scaleb(-CURRENCY_MINOR_UNITS.get((currency or "").upper(), 2))


def line_amounts(
    *,
    quantity: Decimal | None,
    unit_amount: Decimal | None,
    discount_percentage: Decimal | None,
    tax_rate: Any,
    currency: str,
) -> LineAmounts:
    """One line's amount, discount and tax (amounts exclusive of tax), rounded half up."""
    places = _places(currency)
    gross = (quantity or ZERO) * (unit_amount or ZERO)
    amount = gross.quantize(places, ROUND_HALF_UP)
    discount = (gross * (discount_percentage or ZERO) / HUNDRED).quantize(places, ROUND_HALF_UP)
    tax: Decimal | None = ZERO
    if tax_rate is not None:
        rate = tax_rate.rate
        tax = (
            None
            if rate is None
            else ((amount - discount) * rate / HUNDRED).quantize(places, ROUND_HALF_UP)
        )
    return LineAmounts(amount=amount, discount=discount, tax=tax)


def invoice_totals(*, lines: Iterable[Any], currency: str) -> InvoiceTotals:
    """Subtotal, discount, tax and total of `lines` (InvoiceLine rows or anything shaped so)."""
    subtotal = discount = tax = ZERO
    complete = True
    for line in lines:
        amounts = line_amounts(
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            discount_percentage=line.discount_percentage,
            tax_rate=line.tax_rate,
            currency=currency,
        )
        subtotal += amounts.amount
        discount += amounts.discount
        if amounts.tax is None:
            complete = False
        else:
            tax += amounts.tax
    return InvoiceTotals(
        currency=currency,
        subtotal=subtotal,
        discount=discount,
        tax=tax,
        total=subtotal - discount + tax,
        tax_complete=complete,
    )


class PushState(Enum):
    """Where an invoice stands with the accounting system. Label first: never colour alone."""

    DRAFT = ("draft", "Draft", "grey")
    READY = ("ready", "Ready to push", "blue")
    PUSHING = ("pushing", "Pushing", "blue")
    UNKNOWN = ("unknown", "Outcome unknown", "red")
    FAILED = ("failed", "Push failed", "red")
    PUSHED = ("pushed", "Pushed", "green")
    CHANGED = ("changed", "Changed since push", "orange")
    DELETED = ("deleted", "Deleted in the accounting system", "grey")

    def __init__(self, key: str, label: str, colour: str) -> None:
        self.key = key
        self.label = label
        self.colour = colour


# What the invoice's latest push request says, when it says more than the invoice's fields.
_IN_FLIGHT = ("queued", "submitting", "pending")
_FAILED = ("failed", "rejected")


def records_with_push_state(queryset: QuerySet) -> QuerySet:
    """`queryset` (of any pushable record) with the state and operation of each record's
    latest push request.

    Lists call it once so that `record_push_state` reads no more rows per record.
    """
    from pushes.models import PushRequest

    latest = PushRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(queryset.model), object_id=OuterRef("pk")
    ).order_by("-created_at", "-pk")
    return queryset.annotate(
        latest_push_state=Subquery(latest.values("state")[:1]),
        latest_push_operation=Subquery(latest.values("operation")[:1]),
        latest_push_by=Subquery(latest.values("requested_by__username")[:1]),
        latest_push_at=Subquery(latest.values("created_at")[:1]),
    )


def _latest_push(invoice: Any) -> tuple[str | None, str | None]:
    if hasattr(invoice, "latest_push_state"):
        return invoice.latest_push_state, invoice.latest_push_operation
    if invoice.pk is None:
        return None, None
    latest = invoice.push_requests.order_by("-created_at", "-pk").values("state", "operation")
    row = latest.first()
    return (row["state"], row["operation"]) if row else (None, None)


def record_push_state(invoice: Any) -> PushState:
    """The one place that decides a record's push state.

    The latest push request speaks first (pushing, outcome unknown, failed, deleted); without
    one, or after a success or a cancellation, the record's own fields decide. Reads one row
    unless the record came through `records_with_push_state`.
    """
    state, operation = _latest_push(invoice)
    if state in _IN_FLIGHT:
        return PushState.PUSHING
    if state == "unknown":
        return PushState.UNKNOWN
    if state in _FAILED:
        return PushState.FAILED
    if state == "success" and operation == "delete":
        return PushState.DELETED
    if invoice.last_pushed_at is not None:
        return PushState.CHANGED if invoice.changed_since_push else PushState.PUSHED
    if invoice.status == PushableStatus.READY:
        return PushState.READY
    return PushState.DRAFT


def records_in_push_state(queryset: QuerySet, *, state: str) -> QuerySet:
    """The records of `queryset` whose `record_push_state` has the key `state`, in SQL."""
    queryset = records_with_push_state(queryset)
    latest = "latest_push_state"
    deleted = Q(**{latest: "success", "latest_push_operation": "delete"})
    # No request, or one that leaves the decision to the invoice's own fields. Written without
    # negating the annotations: NOT over a NULL subquery would drop invoices never pushed.
    own = (
        Q(**{f"{latest}__isnull": True})
        | Q(**{latest: "cancelled"})
        | (Q(**{latest: "success"}) & ~Q(latest_push_operation="delete"))
    )
    pushed = Q(last_pushed_at__isnull=False)
    changed = pushed & ~Q(last_pushed_hash="") & ~Q(payload_hash=F("last_pushed_hash"))
    conditions = {
        PushState.DRAFT.key: own & ~pushed & ~Q(status=PushableStatus.READY),
        PushState.READY.key: own & ~pushed & Q(status=PushableStatus.READY),
        PushState.PUSHING.key: Q(**{f"{latest}__in": _IN_FLIGHT}),
        PushState.UNKNOWN.key: Q(**{latest: "unknown"}),
        PushState.FAILED.key: Q(**{f"{latest}__in": _FAILED}),
        PushState.DELETED.key: deleted,
        PushState.PUSHED.key: own & pushed & ~changed,
        PushState.CHANGED.key: own & changed,
    }
    if state not in conditions:
        return queryset.none()
    return queryset.filter(conditions[state])


_MONEY = DecimalField(max_digits=24, decimal_places=6)


def _line_total(parent: str):
    """One line's total in SQL, rounded per line to its record's currency as
    `line_amounts` rounds it (amount and discount, then tax on what is left); a tax rate
    without a known percentage adds no tax, as in `invoice_totals`."""
    currency = f"{parent}__currency"
    by_places: dict[int, list[str]] = {}
    for code, places in CURRENCY_MINOR_UNITS.items():
        if places != 2:
            by_places.setdefault(places, []).append(code)
    places = Case(
        *(
            When(**{f"{currency}__in": codes}, then=Value(n))
            for n, codes in sorted(by_places.items())
        ),
        default=Value(2),
        output_field=IntegerField(),
    )
    zero = Value(ZERO, output_field=_MONEY)
    gross = ExpressionWrapper(
        Coalesce(F("quantity"), zero) * Coalesce(F("unit_amount"), zero), output_field=_MONEY
    )
    amount = Round(gross, places)
    discount = Round(gross * Coalesce(F("discount_percentage"), zero) / HUNDRED, places)
    rate = Coalesce(F("tax_rate__total_rate"), F("tax_rate__effective_rate"), zero)
    tax = Round((amount - discount) * rate / HUNDRED, places)
    return ExpressionWrapper(amount - discount + tax, output_field=_MONEY)


def _quantized(amount: Decimal | float | None, currency: str) -> Decimal:
    # SQLite sums decimals as floats: back to the currency's places.
    return Decimal(str(amount or 0)).quantize(_places(currency), ROUND_HALF_UP)


def records_with_totals(queryset: QuerySet, *, spec: Any) -> QuerySet:
    """`queryset` with each record's `list_total` (its lines' total, rounded as the
    composer rounds it), in the same query: a list stays one query however long."""
    parent = spec.line_parent
    lines = (
        spec.line_model_class.objects.filter(**{parent: OuterRef("pk")})
        .values(parent)
        .annotate(total=Sum(_line_total(parent)))
        .values("total")
    )
    return queryset.annotate(list_total=Subquery(lines[:1], output_field=_MONEY))


def record_list_total(record: Any) -> Decimal:
    """The `list_total` of a record from `records_with_totals`, in its currency's places."""
    return _quantized(record.list_total, record.currency)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    # None: too many records to sum on each visit (LIST_TOTALS_MAX_RECORDS).
    total: Decimal | None

    @property
    def shown(self) -> str:
        if self.total is None:
            return "not summed"
        return f"{self.currency} {self.total:,}".strip()


# A list of more records than this is counted per currency but not summed: adding up every
# line of a hundred thousand records is a scan of all their lines on each visit of the list.
LIST_TOTALS_MAX_RECORDS = 10_000


def records_total_by_currency(
    queryset: QuerySet, *, spec: Any, max_records: int = LIST_TOTALS_MAX_RECORDS
) -> list[CurrencyTotal]:
    """What the records of `queryset` come to, per currency: two queries, whatever the
    number of records; past `max_records` records, their count per currency only (one query,
    each total None)."""
    parent = spec.line_parent
    counts = dict(
        queryset.order_by()
        .values_list("currency")
        .annotate(n=Count("pk"))
        .values_list("currency", "n")
    )
    if sum(counts.values()) > max_records:
        return [
            CurrencyTotal(currency=currency or "", count=count, total=None)
            for currency, count in sorted(counts.items(), key=lambda pair: pair[0] or "")
        ]
    totals = dict(
        spec.line_model_class.objects.filter(**{f"{parent}__in": queryset.order_by().values("pk")})
        .order_by()
        .values_list(f"{parent}__currency")
        .annotate(total=Sum(_line_total(parent)))
        .values_list(f"{parent}__currency", "total")
    )
    return [
        CurrencyTotal(
            currency=currency or "", count=count, total=_quantized(totals.get(currency), currency)
        )
        for currency, count in sorted(counts.items(), key=lambda pair: pair[0] or "")
    ]


# The invoice's names, kept for the callers that speak of invoices.
invoices_with_push_state = records_with_push_state
invoice_push_state = record_push_state
invoices_in_push_state = records_in_push_state


@dataclass(frozen=True)
class ConnectionChoice:
    connection: Connection
    # Why an invoice cannot be composed for it now; "" when it can.
    reason: str

    @property
    def choosable(self) -> bool:
        return not self.reason


def connections_for_invoice() -> list[ConnectionChoice]:
    """Every connection, each with why it cannot take an invoice (blank when it can)."""
    choices = []
    for connection in Connection.objects.exclude(status=Connection.Status.REMOVED):
        reason = ""
        if not connection.can_queue:  # a disconnected one pauses: its records still queue
            detail = f" ({connection.disconnect_reason})" if connection.disconnect_reason else ""
            reason = (
                f"{connection.status}{detail}: Railz reaches the accounting system only "
                "through an active connection"
            )
        choices.append(ConnectionChoice(connection=connection, reason=reason))
    return choices
