"""A person composes a bill for the Xero demo business through the vendor and account
autocompletes, saves it, pushes it from its page and watches it become pushed without a reload:
the same composer as an invoice's, read from the bill's declaration."""

import re

import pytest
from playwright.sync_api import expect

from pushes.models import Bill
from refs.models import Account, Vendor
from tests.browser.conftest import assert_fits_the_screen, log_in, staff_user, sync_refs
from tests.browser.test_browser_compose_and_push_an_invoice import pick
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compose_a_bill_push_it_and_watch_it_succeed(page, push_emulator):
    sync_refs(DEMO_XERO)
    vendor = Vendor.objects.filter(connection__connection_uuid=DEMO_XERO, status="active").first()
    # One a line can post to (the autocomplete offers no bank or control account).
    account = (
        Account.objects.filter(
            connection__connection_uuid=DEMO_XERO, status="active", is_bank_account=False
        )
        .exclude(account_type__icontains="payable")
        .exclude(account_type__icontains="receivable")
        .first()
    )
    staff_user("payables", superuser=True)
    log_in(page, "payables")

    page.goto("/admin/pushes/bill/add/")
    page.get_by_role("row", name=re.compile("Maple Leaf Coffee Roasters")).get_by_role(
        "link", name="Compose a bill"
    ).click()
    page.get_by_label("Ready").check()
    pick(page, "#id_vendor", vendor.name, vendor.name)
    page.locator("#id_vendor_invoice_number").fill("V-BR-1")
    page.locator("#id_posted_date").fill("2026-11-20")
    page.locator("#id_lines-0-description").fill("Green coffee, 60 kg")
    page.locator("#id_lines-0-quantity").fill("2")
    page.locator("#id_lines-0-unit_amount").fill("310")
    pick(page, "#id_lines-0-account", account.name, account.name)
    assert_fits_the_screen(page)
    page.get_by_role("button", name="Save and continue editing").click()

    bill = Bill.objects.get(vendor_invoice_number="V-BR-1")
    expect(page.locator(".record-payload")).to_contain_text('"vendorInvoiceNumber": "V-BR-1"')
    expect(page.locator("[data-record-part=state]")).to_contain_text("Ready to push")
    page.locator("[data-push-button=create]").click()
    expect(page.locator(".rp-confirm__form")).to_contain_text("will be created in xero")
    page.locator("[data-push-confirm]").click()
    page.wait_for_url(f"**/admin/pushes/bill/{bill.pk}/change/")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator("[data-record-part=state]")).to_contain_text("Pushed", timeout=30_000)
    bill.refresh_from_db()
    assert bill.provider_record_id
    assert page.evaluate("window.stillTheSamePage") is True
