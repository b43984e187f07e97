"""The home dashboard counts pushes per connection, state and period, lists the failures a
person must look at in the provider's words, charts pushes per hour, shows sync freshness and
the shared rate budget, and costs the same few queries however many pushes there are."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pushes.dashboard import dashboard_build, pushes_needing_person
from pushes.models import Invoice, PushRequest
from refs.models import SyncRun
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice, refs_connection_for

pytestmark = pytest.mark.django_db

# A Thursday: Monday the 16th starts the week.
NOW = dt.datetime(2026, 11, 19, 12, 30, tzinfo=dt.UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


_numbers = iter(range(1, 100_000))


def _push(connection_uuid, state, *, at, invoice=None, **fields):
    """A push request in `state`, created at `at` (of a new invoice unless one is given)."""
    invoice = invoice or ready_invoice(
        connection_uuid=connection_uuid, number=f"D-{next(_numbers)}"
    )
    push = PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(Invoice),
        object_id=invoice.pk,
        connection=invoice.connection,
        data_type="invoices",
        operation="create",
        state=state,
        **fields,
    )
    PushRequest.objects.filter(pk=push.pk).update(created_at=at)
    push.refresh_from_db()
    return push


def _counts(dashboard, connection_uuid):
    panel = next(p for p in dashboard.panels if p.connection.connection_uuid == connection_uuid)
    return {key: (today, week) for key, today, week in panel.counts.cells()}


def test_pushes_are_counted_per_connection_state_today_and_this_week(frozen):
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(hours=1))
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(hours=2))
    _push(DEMO_XERO, "failed", at=NOW - dt.timedelta(days=2))  # Tuesday: this week only
    _push(DEMO_XERO, "pending", at=NOW - dt.timedelta(minutes=5))
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(days=5))  # last week: not counted
    _push(DEMO_QUICKBOOKS, "rejected", at=NOW - dt.timedelta(hours=3))
    refs_connection_for(DEMO_NETSUITE)

    dashboard = dashboard_build(now=NOW)

    xero = _counts(dashboard, DEMO_XERO)
    assert xero["success"] == (2, 2)
    assert xero["failed"] == (0, 1)
    assert xero["in_flight"] == (1, 1)
    assert xero["rejected"] == (0, 0)
    assert _counts(dashboard, DEMO_QUICKBOOKS)["rejected"] == (1, 1)
    assert set(_counts(dashboard, DEMO_NETSUITE).values()) == {(0, 0)}


def test_failures_that_need_a_person_say_what_the_provider_said_and_link_record_and_push(frozen):
    failed = _push(
        DEMO_XERO,
        "failed",
        at=NOW - dt.timedelta(hours=1),
        validation_errors=[
            {"field": "invoiceNumber", "message": "Invoice number D-9 has already been used"}
        ],
    )
    rejected = _push(
        DEMO_XERO,
        "rejected",
        at=NOW - dt.timedelta(hours=2),
        last_error="Railz refused the request: customerRef.id should not be empty.",
    )
    unknown = _push(
        DEMO_QUICKBOOKS,
        "unknown",
        at=NOW - dt.timedelta(hours=3),
        reconcile_note="Railz lists two pushes that could be this one.",
    )
    two_hours_ten = NOW - dt.timedelta(hours=2, minutes=10)
    stuck = _push(DEMO_QUICKBOOKS, "pending", at=two_hours_ten, sent_at=two_hours_ten)
    _push(DEMO_QUICKBOOKS, "pending", at=NOW, sent_at=NOW - dt.timedelta(minutes=1))  # young
    _failure_pushed_again_since(hours_ago=5)

    failures, total = pushes_needing_person(now=NOW)

    assert total == 4
    assert [f.push.pk for f in failures] == [failed.pk, rejected.pk, stuck.pk, unknown.pk]
    by_pk = {f.push.pk: f for f in failures}
    assert by_pk[failed.pk].message == (
        "Invoice number D-9 has already been used. This number is already used in Xero for "
        "this customer: choose another number, then push again."
    )
    assert by_pk[failed.pk].badge.label == "Push failed"
    assert "customerRef.id should not be empty" in by_pk[rejected.pk].message
    assert by_pk[unknown.pk].message == "Railz lists two pushes that could be this one."
    assert by_pk[stuck.pk].badge.label == "Pushing too long"
    assert "130 minutes ago" in by_pk[stuck.pk].message
    assert by_pk[failed.pk].record_url == reverse(
        "admin:pushes_invoice_change", args=[failed.object_id]
    )
    assert by_pk[failed.pk].push_url == reverse("admin:pushes_pushrequest_change", args=[failed.pk])


def _failure_pushed_again_since(*, hours_ago):
    """A failure pushed again since, successfully: no longer waiting for anyone."""
    superseded = _push(DEMO_XERO, "failed", at=NOW - dt.timedelta(hours=hours_ago))
    _push(
        DEMO_XERO,
        "success",
        at=NOW - dt.timedelta(hours=hours_ago - 1),
        invoice=Invoice.objects.get(pk=superseded.object_id),
    )


def test_the_failures_total_counts_every_push_waiting_beyond_the_page_listed(frozen):
    waiting = [
        _push(DEMO_XERO, state, at=NOW - dt.timedelta(hours=hours))
        for hours, state in enumerate(("failed", "rejected", "unknown", "failed", "rejected"))
    ]
    _failure_pushed_again_since(hours_ago=9)

    failures, total = pushes_needing_person(now=NOW, limit=2)

    assert [f.push.pk for f in failures] == [waiting[0].pk, waiting[1].pk]
    assert total == 5
    assert pushes_needing_person(now=NOW, limit=0) == ([], 5)


def test_nothing_waiting_lists_nothing_and_counts_none(frozen):
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(hours=1))

    assert pushes_needing_person(now=NOW) == ([], 0)


def test_the_chart_puts_each_push_in_its_hour_by_outcome(frozen):
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(minutes=10))
    _push(DEMO_XERO, "failed", at=NOW - dt.timedelta(minutes=20))
    _push(DEMO_XERO, "rejected", at=NOW - dt.timedelta(hours=2, minutes=1))
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(days=3))
    _push(DEMO_XERO, "success", at=NOW - dt.timedelta(days=8))  # outside both charts

    dashboard = dashboard_build(now=NOW)

    day, week = dashboard.chart_day, dashboard.chart_week
    assert len(day.bars) == 24 and len(week.bars) == 24 * 7
    assert day.totals == {"success": 1, "failed": 2}
    assert week.totals == {"success": 2, "failed": 2}
    last, two_hours_ago = day.bars[-1], day.bars[-3]
    assert [(key, count) for key, _, _, count in last.segments] == [("success", 1), ("failed", 1)]
    assert "12:00: 1 succeeded, 1 failed or rejected" in last.title
    assert [(key, count) for key, _, _, count in two_hours_ago.segments] == [("failed", 1)]
    # Axis labels sit at local midnight (the week) and every third hour (the day).
    assert [b.label for b in week.bars if b.label][:2] == ["Fri 13", "Sat 14"]
    assert [b.label for b in day.bars if b.label][:2] == ["15:00", "18:00"]
    # The tallest bar fills the chart; the others are to scale.
    assert day.maximum == 2
    assert sum(height for _, _, height, _ in last.segments) == pytest.approx(96)


def test_reference_types_are_flagged_stale_when_old_failed_or_never_synced(frozen, settings):
    settings.REFS_SYNC_INTERVAL_MINUTES = 60
    connection = refs_connection_for(DEMO_XERO)

    def run(data_type, status, finished_ago, **fields):
        return SyncRun.objects.create(
            connection=connection,
            data_type=data_type,
            status=status,
            started_at=NOW - finished_ago,
            finished_at=NOW - finished_ago,
            **fields,
        )

    run("customers", "succeeded", dt.timedelta(minutes=30))
    run("accounts", "succeeded", dt.timedelta(hours=5))
    run("taxRates", "succeeded", dt.timedelta(minutes=30))
    run("taxRates", "failed", dt.timedelta(minutes=10), error="Railz is unavailable")
    run("trackingCategories", "unsupported", dt.timedelta(minutes=10))

    dashboard = dashboard_build(now=NOW)

    panel = next(p for p in dashboard.panels if p.connection == connection)
    fresh = {f.data_type: f for f in panel.freshness}
    assert not fresh["customers"].stale
    assert fresh["accounts"].stale and fresh["accounts"].reason == "older than expected"
    assert fresh["taxRates"].stale
    assert fresh["taxRates"].reason == "last sync failed: Railz is unavailable"
    assert fresh["taxRates"].last_synced_at == NOW - dt.timedelta(minutes=30)
    assert not fresh["trackingCategories"].stale
    assert fresh["vendors"].stale and fresh["vendors"].reason == "never synced"


def test_the_rate_budget_shows_what_every_process_took_this_minute(frozen):
    from railzpush.railz import get_client

    refs_connection_for(DEMO_XERO)
    refs_connection_for(DEMO_QUICKBOOKS)
    budget = get_client(max_wait=0).budget
    for _ in range(3):
        budget.acquire(connection_uuid=DEMO_XERO, service_name="xero")
    budget.acquire()
    budget.pause_for(20)

    dashboard = dashboard_build(now=NOW)

    # The team's count is taken a reservation at a time (a hundredth of the limit, at most
    # ten): the four requests of this process took one reservation of ten.
    assert (dashboard.rate.team.used, dashboard.rate.team.limit) == (10, 1000)
    xero = next(p for p in dashboard.panels if p.connection.connection_uuid == DEMO_XERO)
    assert (xero.budget.used, xero.budget.limit) == (3, 60)
    assert xero.budget.percent == 5
    quickbooks = next(
        p for p in dashboard.panels if p.connection.connection_uuid == DEMO_QUICKBOOKS
    )
    assert quickbooks.budget is None  # QuickBooks has no per-connection limit configured
    assert dashboard.rate.paused_for_seconds == 20


def _queries(callable_):
    with CaptureQueriesContext(db_connection) as captured:
        callable_()
    return len(captured)


def test_the_dashboard_costs_the_same_few_queries_however_many_pushes(frozen):
    for connection_uuid in (DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE):
        _push(connection_uuid, "failed", at=NOW - dt.timedelta(hours=1))
    few = _queries(lambda: dashboard_build(now=NOW))

    for hours in range(30):
        connection_uuid = (DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE)[hours % 3]
        state = ("success", "failed", "rejected", "unknown", "pending")[hours % 5]
        _push(connection_uuid, state, at=NOW - dt.timedelta(hours=hours), sent_at=NOW)
    many = _queries(lambda: dashboard_build(now=NOW))

    assert many == few
    # connections, counts, 2 for sync freshness, failures (their page with their total) and
    # their invoices, chart (content types are cached after first use).
    assert many <= 8


@pytest.mark.usefixtures("push_plain_static")
def test_the_admin_home_shows_the_dashboard_above_the_app_list(frozen, admin_client):
    _push(
        DEMO_XERO,
        "failed",
        at=NOW - dt.timedelta(hours=1),
        validation_errors=[{"field": "customerRef", "message": "Customer is inactive"}],
    )

    response = admin_client.get(reverse("admin:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="rp-dashboard"' in html and "Customer is inactive. Choose another customer" in html
    assert html.index('id="rp-dashboard"') < html.index('class="app-pushes module')
    assert "<title>Push monitor | railzpush</title>" in html
    assert '<a href="/admin/">railzpush</a>' in html and "Django administration" not in html
    assert reverse("pushes-dashboard-parts") in html
    assert timezone.now() == NOW
