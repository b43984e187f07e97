"""A connection's page at 1280 x 800: "Sync now" starts the sync and each reference type's row
goes from waiting to done with its counts, without a reload; axe-core finds nothing serious."""

import re

import pytest
from playwright.sync_api import expect

from refs.mapping import REF_TYPES
from refs.models import Connection
from refs.services import connections_discover
from tests.browser.conftest import (
    ThreadWorkers,
    assert_accessible,
    assert_nothing_scrolls_sideways,
    log_in,
    screenshot,
    staff_user,
)
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 30_000


def test_sync_now_shows_each_reference_type_done_with_its_counts(page, monkeypatch):
    workers = ThreadWorkers()
    monkeypatch.setattr("refs.queue.async_task", workers.async_task)
    connections_discover()
    xero = Connection.objects.get(connection_uuid=DEMO_XERO)
    staff_user("syncer", superuser=True)
    log_in(page, "syncer")

    page.goto(f"/admin/refs/connection/{xero.pk}/change/")
    page.get_by_role("button", name="Sync now").click()
    rows = page.locator(".refs-sync__types tbody tr")
    expect(rows).to_have_count(len(REF_TYPES), timeout=WAIT_MS)
    expect(page.locator(".refs-sync__said")).to_contain_text("Sync finished", timeout=WAIT_MS)
    customers = page.locator(".refs-sync__types tr[data-type=customers]")
    expect(customers).to_contain_text("Done")
    expect(customers).to_contain_text(re.compile(r"250 new"))
    # Every type ended: none is left waiting or syncing.
    expect(page.locator(".refs-sync__types tr[data-state=waiting]")).to_have_count(0)
    expect(page.locator(".refs-sync__types tr[data-state=syncing]")).to_have_count(0)
    assert_nothing_scrolls_sideways(page)
    assert_accessible(page)
    screenshot(page, "connection-sync-now")
    workers.join()
    assert not workers.errors, workers.errors
