"""Three invoices are pushed at once from the list; the accounting system refuses one (its
number is already used for that customer there), and that refusal, in the provider's words,
appears on the open dashboard without a reload, on the invoice, and on the push's timeline."""

import pytest
from playwright.sync_api import expect

from pushes.models import PushRequest
from tests.browser.conftest import (
    assert_accessible,
    assert_fits_the_screen,
    assert_nothing_scrolls_sideways,
    log_in,
    screenshot,
    staff_user,
)
from tests.fixtures.emulator import DEMO_XERO, invoice_data
from tests.fixtures.pushes import ready_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_push_of_three_shows_the_one_refusal_everywhere(page, push_emulator, settings):
    invoices = [
        ready_invoice(connection_uuid=DEMO_XERO, number=number, amount=amount)
        for number, amount in (("INV-B-1", "120.00"), ("INV-B-2", "89.90"), ("INV-B-3", "410.00"))
    ]
    duplicate = invoices[2]
    # Someone typed INV-B-3 for this customer straight into Xero: only Xero can know.
    settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS = 0
    push_emulator.client().create(
        "invoices",
        connection_uuid=DEMO_XERO,
        data=invoice_data(
            DEMO_XERO, invoiceNumber="INV-B-3", customerRef={"id": duplicate.customer.remote_id}
        ),
    )
    push_emulator.wait_for_webhooks()
    settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS = 0.5
    staff_user("bulk", superuser=True)
    log_in(page, "bulk")

    dashboard = page.context.new_page()
    dashboard.goto("/admin/")
    attention = dashboard.locator("[data-dashboard-part=attention]")
    expect(attention).to_contain_text("Nothing is waiting")

    page.goto("/admin/pushes/invoice/")
    assert_fits_the_screen(page)
    for invoice in invoices:
        page.locator(f"input[name=_selected_action][value='{invoice.pk}']").check()
    page.locator("select[name=action]").select_option(label="Push to the accounting system")
    page.get_by_role("button", name="Go").click()
    # Before: what will happen to each one.
    expect(page.locator("#content")).to_contain_text("3 of 3 selected records will be pushed")
    assert_fits_the_screen(page)
    # Held pending in Xero until the list is open, to watch the outcomes arrive on it.
    push_emulator.set_faults(connection_uuid=DEMO_XERO, stay_pending=True)
    page.get_by_role("button", name="Push 3 records").click()
    # After: what happened.
    expect(page.locator(".messagelist")).to_contain_text("Queued 3 push(es) (3 create, 0 update)")
    rows = {
        i.invoice_number: page.locator("#result_list tr", has_text=i.invoice_number)
        for i in invoices
    }
    for row in rows.values():
        expect(row.locator(".push-state")).to_contain_text("Pushing")
    page.evaluate("window.stillTheSamePage = true")
    push_emulator.clear_faults(connection_uuid=DEMO_XERO)
    # Each record's outcome arrives on the open list, the refusal with its reason.
    expect(rows["INV-B-1"].locator(".push-state")).to_have_text("Pushed")
    expect(rows["INV-B-2"].locator(".push-state")).to_have_text("Pushed")
    expect(rows["INV-B-3"].locator(".push-state")).to_have_text("Push failed")
    expect(rows["INV-B-3"]).to_contain_text("choose another number")
    outcomes = page.locator("#record-list-outcomes")
    expect(outcomes.locator("li")).to_have_count(3)
    expect(outcomes).to_contain_text("INV-B-3: Push failed")
    assert page.evaluate("window.stillTheSamePage") is True
    assert_nothing_scrolls_sideways(page)
    assert_accessible(page)
    screenshot(page, "list-after-bulk-push")

    # The customer by its name, never its id in Xero; and what to do about it.
    name = duplicate.customer.name
    message = f'Invoice number INV-B-3 has already been used for customer "{name}"'
    next_step = "This number is already used in Xero for this customer: choose another number"
    dashboard.evaluate("window.stillTheSamePage = true")
    expect(attention).to_contain_text(message)
    expect(attention).to_contain_text(next_step)
    assert duplicate.customer.remote_id not in attention.inner_text()
    expect(attention.locator("a", has_text="INV-B-3")).to_be_visible()
    succeeded = dashboard.locator(f"[data-connection='{DEMO_XERO}'] [data-column=success]")
    expect(succeeded).to_have_attribute("data-today", "2")
    assert dashboard.evaluate("window.stillTheSamePage") is True
    assert_fits_the_screen(dashboard)
    screenshot(dashboard, "dashboard")

    failed = PushRequest.objects.get(state="failed")
    assert failed.object_id == duplicate.pk
    assert sorted(PushRequest.objects.values_list("state", flat=True)) == [
        "failed",
        "success",
        "success",
    ]

    # The dashboard links to the invoice, which tells the same story.
    attention.locator("a", has_text="INV-B-3").click()
    dashboard.wait_for_url(f"**/admin/pushes/invoice/{duplicate.pk}/change/")
    expect(dashboard.locator("[data-record-part=state]")).to_contain_text("Push failed")
    expect(dashboard.locator("[data-record-part=history]")).to_contain_text(message)
    # At the field it concerns, and never called ready while the refusal stands.
    at_field = dashboard.locator(".field-invoice_number .errorlist")
    expect(at_field).to_contain_text(message)
    expect(at_field).to_contain_text(next_step)
    expect(dashboard.locator(".field-ready_to_push")).to_contain_text(
        "No: the accounting system refused the last push"
    )
    expect(dashboard.locator(".field-ready_to_push")).not_to_contain_text("every check passes")
    assert_fits_the_screen(dashboard)
    assert_accessible(dashboard)
    dashboard.locator(".field-invoice_number").scroll_into_view_if_needed()
    screenshot(dashboard, "refusal-at-its-field")

    # And the push's own page shows the exchange and what Railz answered.
    dashboard.goto(f"/admin/pushes/pushrequest/{failed.pk}/change/")
    expect(dashboard.locator("#content")).to_contain_text(message)
    expect(dashboard.locator("#rp-exchanges")).to_contain_text("POST /v2/accounting/invoices")
    dashboard.locator("#rp-exchanges summary", has_text="Request body").click()
    assert_fits_the_screen(dashboard)
    dashboard.evaluate("document.querySelector('.field-timeline').scrollIntoView()")
    screenshot(dashboard, "push-timeline")

    # The list of pushes, filtered to what needs a look, and a retry's confirmation page.
    dashboard.goto("/admin/pushes/pushrequest/?state__exact=failed")
    selected = dashboard.locator(f"input[name=_selected_action][value='{failed.pk}']")
    expect(selected).to_be_visible()
    assert_fits_the_screen(dashboard)
    selected.check()
    dashboard.locator("select[name=action]").select_option("retry_pushes")
    dashboard.get_by_role("button", name="Go").click()
    expect(dashboard.locator("#content")).to_contain_text("1 of 1 selected push will be retried")
    assert_fits_the_screen(dashboard)
    dashboard.get_by_role("link", name="Back to the list, change nothing").click()
    expect(dashboard.locator("#result_list")).to_be_visible()
    assert not PushRequest.objects.filter(retry_of=failed).exists()
