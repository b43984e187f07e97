"""A person composes an invoice for the Xero demo business through the autocompletes, checks
the request body it will send, pushes it with the keyboard, and watches its state go from
pushing to pushed on the same page, without reloading it."""

import re

import pytest
from playwright.sync_api import expect

from pushes.models import Invoice, PushRequest
from tests.browser.conftest import (
    assert_fits_the_screen,
    log_in,
    screenshot,
    staff_user,
    sync_refs,
)
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick(page, select_id: str, typed: str, choice: str) -> None:
    """Choose in a select2 autocomplete: open it, type, click the matching result."""
    page.locator(f"{select_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=choice).first.click()
    expect(page.locator(f"{select_id} + .select2 .select2-selection__rendered")).to_contain_text(
        choice
    )


def test_compose_preview_push_and_watch_it_succeed_without_reloading(page, push_emulator):
    sync_refs(DEMO_XERO)
    staff_user("composer", superuser=True)
    log_in(page, "composer")

    page.goto("/admin/pushes/invoice/add/")
    assert_fits_the_screen(page)
    page.get_by_role("row", name=re.compile("Maple Leaf Coffee Roasters")).get_by_role(
        "link", name="Compose an invoice"
    ).click()
    assert_fits_the_screen(page)
    page.get_by_label("Ready").check()
    pick(page, "#id_customer", "Kaur", "Kaur Media Partners")
    page.locator("#id_invoice_number").fill("INV-BR-1")
    page.locator("#id_posted_date").fill("2026-11-20")
    page.locator("#id_due_date").fill("2026-12-20")
    page.locator("#id_currency").select_option("USD")  # among the business's currencies
    page.locator("#id_lines-0-description").fill("Ethiopia Yirgacheffe, 340 g bags")
    page.locator("#id_lines-0-quantity").fill("12")
    page.locator("#id_lines-0-unit_amount").fill("18.50")
    # A line is laid out on two rows; Tab follows them: discount ends the first, the account
    # autocomplete starts the second.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_lines-0-discount_percentage"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('td').className") == "field-account"
    pick(page, "#id_lines-0-account", "Wholesale", "Sales - Wholesale")
    pick(
        page,
        "#id_lines-0-item",
        "Yirgacheffe - Whole Bean 340",
        "Ethiopia Yirgacheffe - Whole Bean 340 g",
    )
    pick(page, "#id_lines-0-tax_rate", "GST on", "GST on Sales")
    # The live totals take the line's tax rate from its label: 12 x 18.50 = 222.00, GST 5%.
    expect(page.locator("#record-live-totals")).to_contain_text("Tax: USD 11.10")
    expect(page.locator("#record-live-totals")).to_contain_text("Total: USD 233.10")
    # Filled in, with the longest names the autocompletes show, the form still fits.
    assert_fits_the_screen(page)
    page.locator("#id_lines-0-description").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    screenshot(page, "composer-lines")
    page.get_by_role("button", name="Save and continue editing").click()

    # The preview: exactly the body that will be sent, references by their Xero ids.
    invoice = Invoice.objects.get(invoice_number="INV-BR-1")
    preview = page.locator(".record-payload")
    expect(preview).to_contain_text('"invoiceNumber": "INV-BR-1"')
    expect(preview).to_contain_text(f'"id": "{invoice.customer.remote_id}"')
    expect(page.locator("[data-record-part=state]")).to_contain_text("Ready to push")
    assert_fits_the_screen(page)

    # Push with the keyboard: Enter opens the confirmation, Tab reaches its button, Enter sends.
    push_emulator.set_faults(connection_uuid=DEMO_XERO, stay_pending=True)
    opener = page.locator("[data-push-button=create]")
    opener.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator(".rp-confirm__form")).to_contain_text("will be created in xero")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/pushes/invoice/{invoice.pk}/change/")
    state = page.locator("[data-record-part=state]")
    expect(state).to_contain_text("Pushing")
    expect(page.locator("[data-record-part=history]")).to_contain_text("Pushing (")

    # From here on the page is never reloaded: the marker would vanish with it.
    page.evaluate("window.stillTheSamePage = true")
    push_emulator.clear_faults(connection_uuid=DEMO_XERO)
    expect(state).to_contain_text("Pushed")
    invoice.refresh_from_db()
    assert invoice.provider_record_id
    expect(page.locator("[data-provider-record-id]")).to_have_text(invoice.provider_record_id)
    expect(page.locator("[data-record-part=history]")).to_contain_text("Pushed")
    # The buttons follow the state too: no more "a push is in progress".
    expect(page.locator("[data-record-part=actions]")).not_to_contain_text("in progress")
    assert page.evaluate("window.stillTheSamePage") is True
    assert PushRequest.objects.get().state == "success"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "composer")
