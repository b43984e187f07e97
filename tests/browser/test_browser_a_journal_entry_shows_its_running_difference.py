"""A person composes a journal entry for the Xero demo business and sees, as each debit and
credit is typed, how far the entry is from balancing; once it balances it saves ready and is
pushed from its page."""

import re

import pytest
from playwright.sync_api import expect

from pushes.models import JournalEntry
from refs.models import Account
from tests.browser.conftest import (
    assert_fits_the_screen,
    log_in,
    screenshot,
    staff_user,
    sync_refs,
)
from tests.browser.test_browser_compose_and_push_an_invoice import pick
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_difference_follows_the_lines_and_a_balanced_entry_is_pushed(page, push_emulator):
    sync_refs(DEMO_XERO)
    accounts = Account.objects.filter(connection__connection_uuid=DEMO_XERO, status="active")
    debit_account, credit_account = accounts[0], accounts[1]
    staff_user("controller", superuser=True)
    log_in(page, "controller")

    page.goto("/admin/pushes/journalentry/add/")
    page.get_by_role("row", name=re.compile("Maple Leaf Coffee Roasters")).get_by_role(
        "link", name="Compose a journal entry"
    ).click()
    page.get_by_label("Ready").check()
    page.locator("#id_journal_number").fill("ACCR-NOV")
    page.locator("#id_posted_date").fill("2026-11-30")
    page.locator("#id_currency").select_option("CAD")  # among the business's currencies
    page.locator("#id_lines-0-description").fill("November accrual")
    pick(page, "#id_lines-0-account", debit_account.name, debit_account.name)
    page.locator("#id_lines-0-debit").fill("1250.40")
    balance = page.locator("#journal-live-balance")
    expect(balance).to_contain_text("Difference: CAD 1250.40 more debited than credited")

    page.locator("#lines-group .add-row a").click()
    pick(page, "#id_lines-1-account", credit_account.name, credit_account.name)
    page.locator("#id_lines-1-credit").fill("1000")
    expect(balance).to_contain_text("Difference: CAD 250.40")
    page.locator("#id_lines-1-credit").fill("1250.40")
    expect(balance).to_contain_text("Balanced")
    assert_fits_the_screen(page)
    screenshot(page, "journal-entry-composer")
    page.get_by_role("button", name="Save and continue editing").click()

    entry = JournalEntry.objects.get(journal_number="ACCR-NOV")
    assert entry.status == "ready"
    expect(page.locator(".record-payload")).to_contain_text('"credit": 1250.4')
    page.locator("[data-push-button=create]").click()
    page.locator("[data-push-confirm]").click()
    expect(page.locator("[data-record-part=state]")).to_contain_text("Pushed", timeout=30_000)
    entry.refresh_from_db()
    assert entry.provider_record_id
