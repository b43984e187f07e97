"""A person records a customer's payment the way the statement reads: once the customer is
chosen their open invoices are listed oldest first with number, dates, total and amount due;
one is paid in full with its button, part of another is typed, credit is applied from the
customer's open credit note listed after them, the running total and the payment's total
(what is paid less the credit) follow, and saving writes exactly those three allocations,
which push and succeed. The page fits a 1280 x 800 laptop and axe-core finds nothing serious."""

import re
from collections import Counter
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from pushes.models import InvoicePayment
from refs.models import Account, Customer, OpenInvoice, OpenInvoiceCreditNote
from refs.selectors import open_documents
from tests.browser.conftest import (
    assert_accessible,
    assert_fits_the_screen,
    log_in,
    screenshot,
    staff_user,
    sync_refs,
)
from tests.browser.test_browser_compose_and_push_an_invoice import pick
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT = 30_000


def a_customer_owing_two_invoices() -> tuple[Customer, list[OpenInvoice]]:
    owing = OpenInvoice.objects.filter(
        open_documents(), connection__connection_uuid=DEMO_XERO, status="active"
    ).order_by("posted_date", "remote_id")
    counts = Counter(owing.values_list("party_remote_id", flat=True))
    party = next(remote_id for remote_id, n in counts.most_common() if n >= 2 and remote_id)
    customer = Customer.objects.get(connection__connection_uuid=DEMO_XERO, remote_id=party)
    return customer, list(owing.filter(party_remote_id=party))


def test_pay_one_invoice_in_full_and_part_of_another_from_the_list(page, push_emulator):
    sync_refs(DEMO_XERO)
    customer, invoices = a_customer_owing_two_invoices()
    first, second = invoices[0], invoices[1]
    part = (second.amount_due / 2).quantize(Decimal("0.01"))
    note = OpenInvoiceCreditNote.objects.get(
        open_documents(), connection=first.connection, party_remote_id=first.party_remote_id
    )
    credit, credit_left = Decimal("5.00"), note.amount_due
    total = first.amount_due + part - credit
    second_due = second.amount_due
    bank = Account.objects.filter(
        connection__connection_uuid=DEMO_XERO, is_bank_account=True, status="active"
    ).first()
    page.set_default_timeout(WAIT)
    staff_user("receivables", superuser=True)
    log_in(page, "receivables")

    page.goto("/admin/pushes/invoicepayment/add/")
    page.get_by_role("row", name=re.compile("Maple Leaf Coffee Roasters")).get_by_role(
        "link", name="Compose an invoice payment"
    ).click()
    page.get_by_label("Ready").check()
    table = page.locator("#open-documents")
    expect(table).to_contain_text("Choose the customer", timeout=WAIT)
    pick(page, "#id_customer", customer.name, customer.name)
    pick(page, "#id_account", bank.name, bank.name)
    page.locator("#id_date").fill("2026-11-20")
    page.locator("#id_currency").select_option(first.currency)

    # The customer's open invoices, oldest first, each with what is still due.
    rows = table.locator("tbody tr[data-kind=invoice]")
    expect(rows).to_have_count(len(invoices), timeout=WAIT)
    # Then their credit notes, with the credit remaining.
    credits = table.locator("tbody tr[data-kind=creditNote]")
    expect(credits).to_have_count(1)
    expect(credits.nth(0)).to_contain_text(f"{credit_left:.2f}")
    expect(rows.nth(0).locator("th")).to_have_text(first.name)
    expect(rows.nth(1).locator("th")).to_have_text(second.name)
    expect(rows.nth(0)).to_contain_text(f"{first.amount_due:.2f}")
    expect(rows.nth(0)).to_contain_text(f"{first.total_amount:.2f}")

    page.get_by_role("button", name=f"Pay {first.name} in full").click()
    page.get_by_label(f"Pay on invoice {second.name}").fill(f"{part}")
    page.get_by_label(f"Apply from credit note {note.name}").fill(f"{credit}")

    expect(table.locator("tfoot output")).to_have_text(f"{total:.2f}", timeout=WAIT)
    # An amount typed in the lines shows in the table too, and its total follows.
    line_amount = page.locator("#lines-group input[name$='-amount']").nth(1)
    expect(line_amount).to_have_value(f"{part}")
    line_amount.fill("1.00")
    expect(page.get_by_label(f"Pay on invoice {second.name}")).to_have_value("1.00")
    expect(table.locator("tfoot output")).to_have_text(f"{total - part + 1:.2f}")
    line_amount.fill(f"{part}")
    expect(page.get_by_label(f"Pay on invoice {second.name}")).to_have_value(f"{part}")
    # A line's document picker is wide enough for number, party and amount due.
    picker = page.locator("#lines-group td.field-document .select2-container").first
    assert picker.bounding_box()["width"] >= 360, picker.bounding_box()
    expect(page.locator("#id_total_amount")).to_have_value(f"{total:.2f}")
    assert_fits_the_screen(page)
    assert_accessible(page)
    screenshot(page, "payment-open-invoices")
    page.get_by_role("button", name="Save and continue editing").click()

    payment = InvoicePayment.objects.get(customer=customer)
    expect(page.locator(".record-payload")).to_contain_text(
        f'"id": "{second.remote_id}"', timeout=WAIT
    )
    allocations = {
        (line.document_id, line.credit_note_id): line.amount for line in payment.lines.all()
    }
    assert allocations == {
        (first.pk, None): first.amount_due,
        (second.pk, None): part,
        (None, note.pk): credit,
    }
    # The saved payment lists the same amounts against the same invoices.
    expect(page.get_by_label(f"Pay on invoice {second.name}")).to_have_value(
        re.compile(rf"^{part}0*$"), timeout=WAIT
    )
    expect(page.locator("[data-record-part=state]")).to_contain_text("Ready to push")
    page.locator("[data-push-button=create]").click()
    expect(page.locator(".rp-confirm__form")).to_contain_text("will be created in xero")
    page.locator("[data-push-confirm]").click()
    page.wait_for_url(f"**/admin/pushes/invoicepayment/{payment.pk}/change/")
    expect(page.locator("[data-record-part=state]")).to_contain_text("Pushed", timeout=WAIT)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.amount_due == 0
    assert second.amount_due == second_due - part
    note.refresh_from_db()
    assert note.amount_due == credit_left - credit
