"""A person records a customer's payment of an invoice the Xero demo business made in its
accounting system: the invoice is offered by its number and amount due, oldest first, the
bank account among the bank accounts; the payment is pushed from its page and becomes pushed
without a reload, and the invoice's amount due drops to what is left."""

import re

import pytest
from playwright.sync_api import expect

from pushes.models import InvoicePayment
from refs.models import Account, Customer, OpenInvoice
from tests.browser.conftest import assert_fits_the_screen, log_in, staff_user, sync_refs
from tests.browser.test_browser_compose_and_push_an_invoice import pick
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pay_an_invoice_in_full_and_watch_it_succeed(page, push_emulator):
    sync_refs(DEMO_XERO)
    invoice = OpenInvoice.objects.filter(
        connection__connection_uuid=DEMO_XERO, document_status="open"
    ).first()
    customer = Customer.objects.get(
        connection__connection_uuid=DEMO_XERO, remote_id=invoice.party_remote_id
    )
    bank = Account.objects.filter(
        connection__connection_uuid=DEMO_XERO, is_bank_account=True, status="active"
    ).first()
    due = f"{invoice.amount_due:.2f}"
    staff_user("receivables", superuser=True)
    log_in(page, "receivables")

    page.goto("/admin/pushes/invoicepayment/add/")
    page.get_by_role("row", name=re.compile("Maple Leaf Coffee Roasters")).get_by_role(
        "link", name="Compose an invoice payment"
    ).click()
    page.get_by_label("Ready").check()
    pick(page, "#id_customer", customer.name, customer.name)
    pick(page, "#id_account", bank.name, bank.name)
    page.locator("#id_date").fill("2026-11-20")
    page.locator("#id_currency").select_option(invoice.currency)
    # Choosing the invoice pays it in full, and the total follows the lines.
    pick(page, "#id_lines-0-document", invoice.name, invoice.name)
    expect(page.locator("#id_lines-0-amount")).to_have_value(due)
    expect(page.locator("#id_total_amount")).to_have_value(due)
    assert_fits_the_screen(page)
    page.get_by_role("button", name="Save and continue editing").click()

    payment = InvoicePayment.objects.get(customer=customer)
    expect(page.locator(".record-payload")).to_contain_text(f'"id": "{invoice.remote_id}"')
    expect(page.locator("[data-record-part=state]")).to_contain_text("Ready to push")
    page.locator("[data-push-button=create]").click()
    expect(page.locator(".rp-confirm__form")).to_contain_text("will be created in xero")
    page.locator("[data-push-confirm]").click()
    page.wait_for_url(f"**/admin/pushes/invoicepayment/{payment.pk}/change/")
    expect(page.locator("[data-record-part=state]")).to_contain_text("Pushed", timeout=30_000)
    invoice.refresh_from_db()
    assert invoice.amount_due == 0 and invoice.document_status == "paid"
