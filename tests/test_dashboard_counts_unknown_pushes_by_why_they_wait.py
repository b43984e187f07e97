"""The dashboard counts the unknown pushes by why they still wait (several Railz pushes could be
theirs, never listed, waiting for the second check, not reconciled yet), most in need of a
person first, each count linking to exactly those pushes."""

import datetime as dt

import pytest
from django.urls import reverse

from pushes.dashboard import dashboard_build
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.test_dashboard_counts_failures_and_query_budget import NOW, _push

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]


@pytest.fixture
def waiting(time_machine):
    time_machine.move_to(NOW, tick=False)
    at = NOW - dt.timedelta(minutes=30)
    pushes = {
        "several": [
            _push(DEMO_XERO, "unknown", at=at, reconcile_reason="several"),
            _push(DEMO_QUICKBOOKS, "unknown", at=at, reconcile_reason="several"),
        ],
        "second_check": [_push(DEMO_XERO, "unknown", at=at, reconcile_reason="second_check")],
        "": [_push(DEMO_XERO, "unknown", at=at)],
    }
    # Settled pushes do not wait, whatever reason they once had.
    _push(DEMO_XERO, "failed", at=at, reconcile_reason="")
    _push(DEMO_XERO, "success", at=at)
    return pushes


def test_unknown_pushes_are_counted_by_reason_most_urgent_first(waiting):
    reasons = dashboard_build(now=NOW).unknown_by_reason
    assert [(w.reason, w.sentence) for w in reasons] == [
        ("several", "2 pushes: several Railz pushes could be theirs"),
        ("second_check", "1 push: waiting for the second check"),
        ("", "1 push: not reconciled yet (the next run looks at them)"),
    ]


def test_each_reason_links_to_its_pushes_on_the_home_page(waiting, admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for reason in dashboard_build(now=NOW).unknown_by_reason:
        assert f'href="{reason.url.replace("&", "&amp;")}"' in html
        assert reason.sentence in html
        listed = admin_client.get(reason.url)
        assert listed.status_code == 200
        shown = set(listed.context["cl"].result_list.values_list("pk", flat=True))
        assert shown == {p.pk for p in waiting[reason.reason]}, reason.reason
