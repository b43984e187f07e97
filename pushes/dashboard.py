"""Reads behind the staff pages: the admin's home dashboard and an invoice's live push state.

Every read here is a fixed number of queries whatever the volume: counts are one GROUP BY over
push requests, the chart another, the sync freshness two over the sync log, and the failures
list a bounded slice. The dashboard's JSON refresh endpoint calls the same functions, so the
page and its self-refresh can never disagree.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Window,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pushes.models import PushEvent, PushHourCount, PushRequest
from pushes.push_counts import COUNT_COLUMNS, hour_of
from pushes.push_selectors import PUSH_PERMISSION, PausedConnection, connections_paused
from pushes.refusals import Refusal, refusals_by_push, refusals_in_words
from railzpush.railz.datatypes import DATA_TYPES
from refs.mapping import REF_TYPES
from refs.models import Connection, SyncRun

State = PushRequest.State

# How many failures the dashboard lists (the total is counted separately).
FAILURES_LISTED = 10
# A reference type is stale when its last good sync is older than this many sync intervals.
STALE_AFTER_INTERVALS = 2


# --- badges -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """A state as people read it: words first, an icon that differs by shape, then a colour."""

    key: str
    label: str
    icon: str
    tone: str


# The words of the records' own states (pushes.selectors.PushState), so a push and its record
# read alike everywhere; the step in brackets says where a push in progress is.
BADGES: dict[str, Badge] = {
    State.QUEUED: Badge("queued", "Pushing (queued)", "◷", "blue"),
    State.SUBMITTING: Badge("submitting", "Pushing (sending)", "↻", "blue"),
    State.PENDING: Badge("pending", "Pushing (sent, awaiting the answer)", "◷", "blue"),
    State.SUCCESS: Badge("success", "Pushed", "✓", "green"),
    State.FAILED: Badge("failed", "Push failed", "✕", "red"),
    State.REJECTED: Badge("rejected", "Push failed (refused by Railz)", "⊘", "red"),
    State.UNKNOWN: Badge("unknown", "Outcome unknown", "?", "red"),
    State.CANCELLED: Badge("cancelled", "Cancelled", "■", "grey"),
    "stuck": Badge("stuck", "Pushing too long", "⚠", "orange"),
    # A queued push held for a person (PushRequest.held_reason): still queued, never sent so.
    "held": Badge("held", "Held (a document it pays did not get there)", "⏸", "orange"),
}

# What each state means and what to do, for the legend beside lists and on the dashboard.
STATE_LEGEND: tuple[tuple[str, str], ...] = (
    ("Draft", "Being written; not checked in full, never pushed."),
    ("Ready to push", "Complete and checked; push it when you are ready."),
    ("Pushing", "Sent or about to be; the accounting system's answer is awaited."),
    ("Pushed", "In the accounting system as it is here."),
    ("Changed since push", "Edited after it was pushed: push an update to send the change."),
    (
        "Push failed",
        "The accounting system (or Railz) refused it: the reason is at the field concerned. "
        "Correct it and push again.",
    ),
    (
        "Outcome unknown",
        "The answer was lost, so it may or may not be in the accounting system. It is never "
        "sent again on its own: railzpush checks Railz's log; if that cannot tell, open the "
        "push and adopt the matching record or mark it never received.",
    ),
    ("Deleted in the accounting system", "Removed there; kept here with its history."),
    (
        "Held",
        "A payment whose invoice or bill failed or was cancelled on its way to the accounting "
        "system: it is queued but not sent, and says which document. Release it (it waits for "
        "the document to be pushed again, or goes now if the document has arrived) or cancel it.",
    ),
)

# Icons for the invoice's own push state (pushes.selectors.PushState keys).
RECORD_ICONS = {
    "draft": "✎",
    "ready": "●",
    "pushing": "↻",
    "unknown": "?",
    "failed": "✕",
    "pushed": "✓",
    "changed": "△",
    "deleted": "■",
}


def push_badge(state: str, *, held: bool = False) -> Badge:
    """The badge of a push's state; a held push (queued, `held_reason` set) says so."""
    if held and state == State.QUEUED:
        return BADGES["held"]
    return BADGES.get(state) or Badge(state, state, "•", "grey")


# --- pushes by state, per connection ----------------------------------------------------------

# The columns of the counts table: what a person asks ("how many went through?").
COLUMN_BADGE = {
    "in_flight": BADGES[State.PENDING],
    "success": BADGES[State.SUCCESS],
    "failed": BADGES[State.FAILED],
    "rejected": BADGES[State.REJECTED],
    "unknown": BADGES[State.UNKNOWN],
    "cancelled": BADGES[State.CANCELLED],
}


@dataclass
class ConnectionCounts:
    connection: Connection
    today: dict[str, int] = field(default_factory=dict)
    week: dict[str, int] = field(default_factory=dict)

    def cells(self) -> list[tuple[str, int, int]]:
        return [(key, self.today.get(key, 0), self.week.get(key, 0)) for key, _, _ in COUNT_COLUMNS]

    @property
    def total_today(self) -> int:
        return sum(self.today.values())

    @property
    def total_week(self) -> int:
        return sum(self.week.values())


def period_starts(*, now: datetime) -> tuple[datetime, datetime]:
    """Start of today and of this week (Monday), midnight in the site's time zone."""
    local = timezone.localtime(now)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today - timedelta(days=today.weekday())


def pushes_counted_by_connection(
    *, connections: list[Connection], now: datetime
) -> list[ConnectionCounts]:
    """Pushes created today and this week, by state column, for each connection (one query)."""
    today, week = period_starts(now=now)
    # From the running totals: a week is at most 168 rows per connection and column.
    rows = (
        PushHourCount.objects.filter(hour__gte=hour_of(week), hour__lt=week + timedelta(days=7))
        .values("connection_id", "column")
        .annotate(week=Sum("count"), today=Sum("count", filter=Q(hour__gte=hour_of(today))))
        .order_by()
    )
    by_id = {c.pk: ConnectionCounts(connection=c) for c in connections}
    for row in rows:
        counts = by_id.get(row["connection_id"])
        if counts is None:
            continue
        column = row["column"]
        counts.today[column] = counts.today.get(column, 0) + (row["today"] or 0)
        counts.week[column] = counts.week.get(column, 0) + (row["week"] or 0)
    return list(by_id.values())


# --- reference data freshness -----------------------------------------------------------------


@dataclass(frozen=True)
class RefFreshness:
    data_type: str
    label: str
    last_synced_at: datetime | None  # last sync that finished without error
    latest_status: str | None  # status of the newest run (None: never synced)
    latest_error: str
    stale: bool
    unsupported: bool

    @property
    def reason(self) -> str:
        if self.unsupported:
            return "not offered by this accounting system"
        if self.latest_status is None:
            return "never synced"
        if self.latest_status == SyncRun.Status.FAILED:
            return f"last sync failed: {self.latest_error}" if self.latest_error else "failed"
        if self.latest_status == SyncRun.Status.RUNNING:
            return "sync running"
        if self.stale:
            return "older than expected"
        return ""


def refs_freshness(
    *, connections: list[Connection], now: datetime
) -> dict[int, list[RefFreshness]]:
    """For each connection, every reference type with its last good sync and a stale flag.

    Two queries over the sync log, grouped on its (connection, data_type, started_at) index.
    """
    stale_before = now - timedelta(
        minutes=settings.REFS_SYNC_INTERVAL_MINUTES * STALE_AFTER_INTERVALS
    )
    ids = [c.pk for c in connections]
    grouped = list(
        SyncRun.objects.filter(connection_id__in=ids, data_type__in=list(REF_TYPES))
        .values("connection_id", "data_type")
        .annotate(
            latest=Max("pk"),
            last_ok=Max("finished_at", filter=Q(status=SyncRun.Status.SUCCEEDED)),
        )
        .order_by()
    )
    latest = {
        run["pk"]: run
        for run in SyncRun.objects.filter(pk__in=[g["latest"] for g in grouped]).values(
            "pk", "status", "error"
        )
    }
    found = {(g["connection_id"], g["data_type"]): g for g in grouped}
    result: dict[int, list[RefFreshness]] = {}
    for connection in connections:
        rows = []
        for data_type, ref_type in REF_TYPES.items():
            group = found.get((connection.pk, data_type))
            run = latest.get(group["latest"]) if group else None
            status = run["status"] if run else None
            last_ok = group["last_ok"] if group else None
            unsupported = status == SyncRun.Status.UNSUPPORTED
            stale = not unsupported and (
                last_ok is None or last_ok < stale_before or status == SyncRun.Status.FAILED
            )
            rows.append(
                RefFreshness(
                    data_type=data_type,
                    label=ref_type.label,
                    last_synced_at=last_ok,
                    latest_status=status,
                    latest_error=(run["error"] if run else "")[:200],
                    stale=stale,
                    unsupported=unsupported,
                )
            )
        result[connection.pk] = rows
    return result


# --- the shared rate budget -------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetUse:
    label: str
    used: int
    limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 0


@dataclass(frozen=True)
class RateUsage:
    """What the client's shared budget (railzpush.railz.ratelimit.RateBudget) holds now."""

    team: BudgetUse
    connections: dict[int, BudgetUse]
    paused_for_seconds: int  # > 0 while Railz said the budget is spent (429 or Remaining: 0)
    seconds_left_in_window: int


def rate_budget_usage(*, connections: list[Connection], clock: float | None = None) -> RateUsage:
    """This minute's requests against the team limit and each provider's per-connection limit.

    Reads the counters the client's RateBudget keeps in the shared cache (one get_many), so it
    shows what every web and worker process has taken together. The team's figure counts
    requests as processes reserve them, a few at a time, so it runs ahead of what was sent by
    at most a reservation per process; a connection's figure is exact.
    """
    from railzpush.railz import get_client
    from railzpush.railz.ratelimit import WINDOW_SECONDS

    client = get_client()
    budget = client.budget
    client.session.close()
    now = time.time() if clock is None else clock
    window = int(now // WINDOW_SECONDS)
    limits = settings.RAILZ_PROVIDER_LIMITS
    # The same key layout as RateBudget._wait_needed.
    team_key = f"{budget.prefix}:team:{window}"
    connection_keys = {
        c.pk: f"{budget.prefix}:connection:{c.connection_uuid}:{window}"
        for c in connections
        if c.service_name in limits
    }
    values = cache.get_many([team_key, budget.pause_key, *connection_keys.values()])
    paused_until = values.get(budget.pause_key)
    return RateUsage(
        team=BudgetUse(
            "Railz team budget", int(values.get(team_key) or 0), budget.limit_per_minute
        ),
        connections={
            pk: BudgetUse(
                f"{c.service_name} limit",
                int(values.get(connection_keys[pk]) or 0),
                limits[c.service_name],
            )
            for c in connections
            if (pk := c.pk) in connection_keys
        },
        paused_for_seconds=math.ceil(paused_until - now)
        if paused_until and paused_until > now
        else 0,
        seconds_left_in_window=math.ceil((window + 1) * WINDOW_SECONDS - now),
    )


# --- failures that need a person --------------------------------------------------------------


def push_problem_in_words(
    push: PushRequest, *, now: datetime | None = None, refusals: list[Refusal] | None = None
) -> str:
    """Why the push needs a person: the provider's refusals by field label, with the records
    they reference named (`refusals`, from `refusals_by_push` for a whole list at once)."""
    if refusals is None and push.validation_errors:
        refusals = refusals_in_words(push)
    errors = " ".join(refusal.words for refusal in refusals or ())
    if errors:
        return errors
    if push.held_reason and push.state == State.QUEUED:
        return f"{push.held_reason} Release it or cancel it."
    if push.reconcile_note:
        return push.reconcile_note
    if push.last_error:
        return push.last_error
    if push.state == State.PENDING and push.sent_at:
        minutes = int(((now or timezone.now()) - push.sent_at).total_seconds() // 60)
        return (
            f"Railz accepted it {minutes} minutes ago and the accounting system has not "
            "answered yet."
        )
    if push.state == State.UNKNOWN:
        return "It may or may not have reached Railz; it is not sent again until settled."
    return ""


def record_admin_url(content_type_id: int, object_id: int) -> str:
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    if model is None:
        return ""
    try:
        return reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[object_id]
        )
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class Failure:
    push: PushRequest
    badge: Badge
    message: str
    record_label: str
    record_url: str
    push_url: str
    # What kind of record it is ("Bill", "Invoice credit note"): lists mix every type.
    record_type: str = ""


# The states of the pushes that may wait for a person, in the order of the partial index
# `pushes_needs_person` (its condition, which the query must repeat exactly).
NEEDS_PERSON_STATES = (State.FAILED, State.REJECTED, State.UNKNOWN, State.PENDING, State.QUEUED)


def _in_needs_person_states() -> Func:
    """`state IN ('failed', ...)` with the states written into the SQL, not bound: SQLite uses
    the partial index only for a condition it can match to the index's own, and parameters
    never match. The states are the model's constants, never input."""
    listed = ", ".join(f"'{state.value}'" for state in NEEDS_PERSON_STATES)
    return Func(F("state"), template=f"%(expressions)s IN ({listed})", output_field=BooleanField())


def _needs_person_filter(*, now: datetime) -> Q:
    stuck_before = now - timedelta(minutes=settings.PUSH_STUCK_AFTER_MINUTES)
    return Q(_in_needs_person_states()) & (
        Q(state__in=(State.FAILED, State.REJECTED, State.UNKNOWN))
        | Q(state=State.PENDING, sent_at__lt=stuck_before)
        # A payment held behind a document that did not get there: a person decides.
        | (Q(state=State.QUEUED) & ~Q(held_reason=""))
    )


def pushes_needing_person(*, now: datetime, limit: int = FAILURES_LISTED) -> tuple[list, int]:
    """The newest pushes a person has to look at, and how many there are in all.

    Failed, rejected, unknown and stuck pending pushes count only while they are the latest
    push of their record: a failure someone already pushed again is no longer waiting.
    """
    newer = PushRequest.objects.filter(
        content_type_id=OuterRef("content_type_id"),
        object_id=OuterRef("object_id"),
        created_at__gt=OuterRef("created_at"),
    )
    waiting = PushRequest.objects.filter(_needs_person_filter(now=now)).filter(~Exists(newer))
    if limit < 1:
        return [], waiting.count()
    # The total rides on each row listed (a window over every row waiting, computed before
    # the LIMIT): one pass over the candidates and their newer-push probes instead of two.
    pushes = list(
        waiting.annotate(waiting_total=Window(Count("pk")))
        .select_related("connection")
        .prefetch_related("record")
        .order_by("-created_at", "-pk")[:limit]
    )
    total = pushes[0].waiting_total if pushes else 0
    stuck_before = now - timedelta(minutes=settings.PUSH_STUCK_AFTER_MINUTES)
    refusals = refusals_by_push(pushes)
    failures = []
    for push in pushes:
        stuck = push.state == State.PENDING and push.sent_at and push.sent_at < stuck_before
        record = push.record
        failures.append(
            Failure(
                push=push,
                badge=BADGES["stuck"]
                if stuck
                else push_badge(push.state, held=bool(push.held_reason)),
                message=push_problem_in_words(push, now=now, refusals=refusals.get(push.pk, [])),
                record_label=str(record)
                if record is not None
                else f"{push.data_type} #{push.object_id}",
                record_url=record_admin_url(push.content_type_id, push.object_id)
                if record is not None
                else "",
                push_url=reverse("admin:pushes_pushrequest_change", args=[push.pk]),
                record_type=_type_label(push.data_type),
            )
        )
    return failures, total


@dataclass(frozen=True)
class WaitingReason:
    """Unknown pushes that wait for the same reason: how many, why, and where to see them."""

    reason: str
    count: int
    label: str
    url: str

    @property
    def sentence(self) -> str:
        return f"{self.count} push{'es' if self.count != 1 else ''}: {self.label}"


# Reconciliation's reasons, most in need of a person first; "" is not looked at yet.
WAITING_ORDER = (
    PushRequest.ReconcileReason.SEVERAL,
    PushRequest.ReconcileReason.NOT_LISTED,
    PushRequest.ReconcileReason.SECOND_CHECK,
    "",
)
WAITING_LABELS = {
    **{choice.value: choice.label for choice in PushRequest.ReconcileReason},
    "": "not reconciled yet (the next run looks at them)",
}


def pushes_unknown_by_reason() -> list[WaitingReason]:
    """Unknown pushes counted by why they still wait (one GROUP BY over the state index),
    each reason linking to its pushes."""
    rows = (
        PushRequest.objects.filter(state=State.UNKNOWN)
        .values("reconcile_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["reconcile_reason"]: row["n"] for row in rows}
    changelist = reverse("admin:pushes_pushrequest_changelist")
    return [
        WaitingReason(
            reason=reason,
            count=counts[reason],
            label=WAITING_LABELS.get(reason, reason),
            url=f"{changelist}?state__exact=unknown&reconcile_reason__exact={reason}",
        )
        for reason in sorted(
            counts, key=lambda r: WAITING_ORDER.index(r) if r in WAITING_ORDER else 0
        )
    ]


def _type_label(data_type: str) -> str:
    known = DATA_TYPES.get(data_type)
    return known.label if known is not None else data_type


# --- pushes per hour --------------------------------------------------------------------------

# Chart series, bottom to top: (key, label, states).
OUTCOMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("success", "Succeeded", (State.SUCCESS,)),
    ("failed", "Failed or rejected", (State.FAILED, State.REJECTED)),
    ("unknown", "Outcome unknown", (State.UNKNOWN,)),
    ("in_flight", "In progress", (State.QUEUED, State.SUBMITTING, State.PENDING)),
    ("cancelled", "Cancelled", (State.CANCELLED,)),
)
OUTCOME_OF_STATE = {state: key for key, _, states in OUTCOMES for state in states}
OUTCOME_OF_COLUMN = {
    column: OUTCOME_OF_STATE[states[0]] for column, _, states in COUNT_COLUMNS if states
}


@dataclass
class HourBucket:
    start: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def pushes_per_hour(*, now: datetime, hours: int = 24 * 7) -> list[HourBucket]:
    """Pushes created in each of the last `hours` hours, by outcome (one GROUP BY query)."""
    # Hours are cut in UTC: every time zone the site may use then shares the same buckets.
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    starts = [first + timedelta(hours=i) for i in range(hours)]
    buckets = {start: HourBucket(start=start) for start in starts}
    # From the running totals: one row per hour, connection and column.
    rows = (
        PushHourCount.objects.filter(hour__gte=first, hour__lt=current + timedelta(hours=1))
        .values("hour", "column")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for row in rows:
        bucket = buckets.get(row["hour"].astimezone(UTC))
        if bucket is None or not row["n"]:
            continue
        outcome = OUTCOME_OF_COLUMN.get(row["column"], "cancelled")
        bucket.counts[outcome] = bucket.counts.get(outcome, 0) + row["n"]
    return list(buckets.values())


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list[tuple[str, float, float, int]]  # (outcome, y, height, count)
    title: str
    label: str


@dataclass(frozen=True)
class Chart:
    """An SVG stacked bar chart in a 0..width x 0..height box, drawn by the template."""

    title: str
    width: int
    height: int
    bars: list[Bar]
    maximum: int
    totals: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def summary(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.totals.get(key, 0)) for key, label, _ in OUTCOMES]

    def bars_svg(self) -> SafeString:
        """The bars as SVG, written here rather than by a template loop: a week's 168 bars
        through the template engine were most of the dashboard's 5-second refresh."""
        parts = []
        for bar in self.bars:
            segments = "".join(
                f'<rect x="{bar.x}" y="{y}" width="{bar.width}" height="{height}" '
                f'class="rp-bar rp-bar--{escape(key)}"></rect>'
                for key, y, height, _ in bar.segments
            )
            parts.append(
                f"<g><title>{escape(bar.title)}</title>"
                f'<rect x="{bar.x}" y="0" width="{bar.width}" height="{self.height}" '
                f'class="rp-chart__hit"></rect>{segments}</g>'
            )
        return mark_safe("\n".join(parts))  # noqa: S308 - numbers and escaped words only

    def labels_html(self) -> SafeString:
        return mark_safe(  # noqa: S308 - escaped words only
            "".join(f"<span>{escape(bar.label)}</span>" for bar in self.bars)
        )


def chart_build(
    *, title: str, buckets: list[HourBucket], label_hours: int, label_format: str
) -> Chart:
    """Lay out stacked bars for `buckets`; bars starting a local hour divisible by
    `label_hours` (24: midnight) get an axis label."""
    height, step = 100, 10
    width = step * max(1, len(buckets))
    maximum = max((b.total for b in buckets), default=0)
    scale = (height - 4) / maximum if maximum else 0
    totals: dict[str, int] = defaultdict(int)
    bars = []
    for index, bucket in enumerate(buckets):
        y = float(height)
        segments = []
        for key, _, _ in OUTCOMES:
            count = bucket.counts.get(key, 0)
            if not count:
                continue
            totals[key] += count
            segment = count * scale
            y -= segment
            segments.append((key, round(y, 2), round(segment, 2), count))
        local = timezone.localtime(bucket.start)
        words = ", ".join(
            f"{bucket.counts[key]} {label.lower()}"
            for key, label, _ in OUTCOMES
            if bucket.counts.get(key)
        )
        bars.append(
            Bar(
                x=index * step + 1,
                width=step - 2,
                segments=segments,
                title=f"{local:%a %d %b %H:00}: {words or 'no pushes'}",
                label=f"{local:{label_format}}" if local.hour % label_hours == 0 else "",
            )
        )
    return Chart(
        title=title, width=width, height=height, bars=bars, maximum=maximum, totals=dict(totals)
    )


# --- the whole dashboard ----------------------------------------------------------------------


@dataclass
class ConnectionPanel:
    counts: ConnectionCounts
    freshness: list[RefFreshness]
    budget: BudgetUse | None

    @property
    def connection(self) -> Connection:
        return self.counts.connection

    @property
    def stale(self) -> list[RefFreshness]:
        return [f for f in self.freshness if f.stale]


@dataclass
class Dashboard:
    now: datetime
    panels: list[ConnectionPanel]
    rate: RateUsage
    failures: list[Failure]
    failures_total: int
    unknown_by_reason: list[WaitingReason]
    chart_day: Chart
    chart_week: Chart
    can_push: bool
    paused: list[PausedConnection] = field(default_factory=list)

    @property
    def columns(self):
        return COUNT_COLUMNS


def push_hours_with_pushes(
    *,
    as_field: str = "created_at",
    year: Any = None,
    month: Any = None,
    day: Any = None,
    connection_id: Any = None,
):
    """Hours in which pushes were created, from the running totals, with the hour readable
    as `as_field` (the push list's date navigation asks its years, months and days)."""
    hours = PushHourCount.objects.filter(count__gt=0).annotate(**{as_field: F("hour")})
    period = _period_asked(year=year, month=month, day=day)
    if period is False:
        return hours.none()
    if period is not None:
        # A range of the hour index: extracting the month or day of each hour is a function
        # called for each row of the year on SQLite.
        hours = hours.filter(hour__gte=period[0], hour__lt=period[1])
    if isinstance(connection_id, list):
        connection_id = connection_id[-1]
    if connection_id not in (None, ""):
        # As typed in the URL: a value that is no database id names no connection.
        try:
            number = int(connection_id)
        except (TypeError, ValueError):
            number = -1
        hours = hours.filter(connection_id=number if 0 < number < 2**63 else -1)
    return hours


def _period_asked(*, year: Any, month: Any, day: Any) -> tuple[datetime, datetime] | bool | None:
    """The local year, month or day the navigation's parameters name, as [start, end); None
    when they name none, False when they name no date."""
    parts = []
    for value in (year, month, day):
        if isinstance(value, list):
            value = value[-1] if value else None
        if value in (None, ""):
            break
        try:
            parts.append(int(value))
        except (TypeError, ValueError):
            return False
    if not parts:
        return None
    kind = ("year", "month", "day")[len(parts) - 1]
    try:
        start = datetime(parts[0], *(parts[1:] or [1]), *([1] if len(parts) < 3 else []))
        return timezone.make_aware(start), timezone.make_aware(_next_period(start, kind))
    except (OverflowError, ValueError):
        return False


# More periods than this between the first and the last push (dates no person typed) and the
# navigation asks the database for the distinct ones instead.
PERIODS_PROBED_AT_MOST = 400


class PushPeriods:
    """The running totals of `push_hours_with_pushes` as Django's date navigation reads a
    queryset: `aggregate` for the first and last hour, `datetimes` for the years, months or
    days that have pushes. Those come from one query that asks, for each period between the
    first and the last, whether a total in it is above zero (a probe of the hour index each),
    instead of truncating every hour of the history to its year in the database (a function
    called for each of tens of thousands of rows on SQLite)."""

    def __init__(self, hours, *, every_period=None) -> None:
        # `every_period`: the same totals without the period asked, for the probes: SQLite
        # searches the index by one range only, and with the year's range as well as the
        # month's each probe would read the year up to its month.
        self.hours = hours
        self.every_period = hours if every_period is None else every_period
        self._range: dict | None = None

    def aggregate(self, **aggregates):
        if self._range is None:
            # The first and the last hour each from an end of the hour index, stopping at the
            # first total above zero: MIN and MAX with that condition read the whole range.
            ends = {
                "first": Subquery(self.hours.order_by("hour").values("hour")[:1]),
                "last": Subquery(self.hours.order_by("-hour").values("hour")[:1]),
            }
            row = PushHourCount.objects.order_by().annotate(**ends).values(*ends)[:1]
            self._range = next(iter(row), {"first": None, "last": None})
        # Django asks the Min and Max of the field the navigation is on: the hour itself.
        return {name: self._range[name] for name in aggregates}

    def datetimes(self, field_name: str, kind: str) -> list[datetime]:
        span = self.aggregate(first=None, last=None)
        if span["first"] is None:
            return []
        starts = _period_starts(
            timezone.localtime(span["first"]), timezone.localtime(span["last"]), kind
        )
        if len(starts) > PERIODS_PROBED_AT_MOST:
            return list(self.hours.datetimes(field_name, kind))
        bounds = [*starts, _next_period(starts[-1], kind)]
        probes = {
            f"p{n}": Exists(self.every_period.filter(hour__gte=bounds[n], hour__lt=bounds[n + 1]))
            for n in range(len(starts))
        }
        row = PushHourCount.objects.order_by().annotate(**probes).values(*probes)[:1]
        found = next(iter(row), {})
        return [start for n, start in enumerate(starts) if found.get(f"p{n}")]

    dates = datetimes


def _period_starts(first: datetime, last: datetime, kind: str) -> list[datetime]:
    """The starts (local time) of the years, months or days from `first`'s to `last`'s."""
    start = first.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if kind in ("year", "month"):
        start = start.replace(day=1)
    if kind == "year":
        start = start.replace(month=1)
    starts = []
    while start <= last.replace(tzinfo=None) and len(starts) <= PERIODS_PROBED_AT_MOST:
        starts.append(start)
        start = _next_period(start, kind)
    return [timezone.make_aware(s) if timezone.is_naive(s) else s for s in starts]


def _next_period(start: datetime, kind: str) -> datetime:
    naive = start.replace(tzinfo=None)
    if kind == "year":
        naive = naive.replace(year=naive.year + 1)
    elif kind == "month":
        naive = naive.replace(year=naive.year + naive.month // 12, month=naive.month % 12 + 1)
    else:
        naive = naive + timedelta(days=1)
    return timezone.make_aware(naive) if start.tzinfo is not None else naive


def dashboard_connections(*, now: datetime) -> list[Connection]:
    """Connections worth a panel: every one not removed, plus removed ones pushed this week."""
    _, week = period_starts(now=now)
    # Pushed this week: read from the running totals, whatever a connection's past.
    pushed = PushHourCount.objects.filter(hour__gte=hour_of(week), count__gt=0).values(
        "connection_id"
    )
    return list(Connection.objects.filter(~Q(status=Connection.Status.REMOVED) | Q(pk__in=pushed)))


def dashboard_build(*, user: Any = None, now: datetime | None = None) -> Dashboard:
    """Everything the home dashboard shows, in a fixed number of queries."""
    now = now or timezone.now()
    connections = dashboard_connections(now=now)
    counts = pushes_counted_by_connection(connections=connections, now=now)
    freshness = refs_freshness(connections=connections, now=now)
    rate = rate_budget_usage(connections=connections)
    failures, failures_total = pushes_needing_person(now=now)
    hours = pushes_per_hour(now=now)
    return Dashboard(
        now=now,
        panels=[
            ConnectionPanel(
                counts=c,
                freshness=freshness[c.connection.pk],
                budget=rate.connections.get(c.connection.pk),
            )
            for c in counts
        ],
        rate=rate,
        failures=failures,
        failures_total=failures_total,
        unknown_by_reason=pushes_unknown_by_reason(),
        chart_day=chart_build(
            title="Pushes per hour, last 24 hours",
            buckets=hours[-24:],
            label_hours=3,
            label_format="%H:00",
        ),
        chart_week=chart_build(
            title="Pushes per hour, last 7 days",
            buckets=hours,
            label_hours=24,
            label_format="%a %d",
        ),
        can_push=bool(user is not None and user.has_perm(PUSH_PERMISSION)),
        paused=connections_paused(),
    )


# --- an invoice's (any record's) push state, live ---------------------------------------------


@dataclass(frozen=True)
class PushHistoryRow:
    push: PushRequest
    badge: Badge
    message: str
    url: str


def record_push_history(*, record: Any, limit: int = 20) -> list[PushHistoryRow]:
    """The record's pushes, newest first, each with its state and what went wrong if it did."""
    pushes = list(
        PushRequest.objects.for_record(record)
        .select_related("connection")
        .order_by("-created_at", "-pk")[:limit]
    )
    now = timezone.now()
    refusals = refusals_by_push(pushes)
    return [
        PushHistoryRow(
            push=push,
            badge=push_badge(push.state),
            message=push_problem_in_words(push, now=now, refusals=refusals.get(push.pk, []))
            if push.state not in (State.SUCCESS, State.QUEUED, State.CANCELLED)
            else "",
            url=reverse("admin:pushes_pushrequest_change", args=[push.pk]),
        )
        for push in pushes
    ]


# --- a push request's timeline ---------------------------------------------------------------


def push_exchanges(*, push: PushRequest) -> list[PushEvent]:
    """The push's HTTP exchanges in order (stored with secrets already removed)."""
    return list(push.events.filter(kind=PushEvent.Kind.EXCHANGE).order_by("at", "pk"))
