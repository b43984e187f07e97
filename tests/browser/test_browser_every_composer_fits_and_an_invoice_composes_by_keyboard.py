"""Every registered type's composer on a 1280 x 800 laptop: nothing scrolls sideways, it opens
on sensible defaults (a draft, dated today, in the business's currency), and axe-core finds
nothing serious. A whole invoice is then composed with the keyboard alone: autocompletes opened
with Enter and chosen by typing, a second line added with Enter and typed into at once, each
line showing its amount, and saved."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pushes import registry
from pushes.models import Invoice
from refs.models import Connection
from tests.browser.conftest import (
    assert_accessible,
    assert_nothing_scrolls_sideways,
    log_in,
    screenshot,
    staff_user,
    sync_refs,
)
from tests.contract.conftest import TYPES
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_url(data_type: str) -> str:
    model_name = registry.for_data_type(data_type).spec.model_class._meta.model_name
    connection = Connection.objects.get(connection_uuid=DEMO_XERO)
    return f"/admin/pushes/{model_name}/add/?connection={connection.pk}"


@pytest.mark.parametrize("data_type", TYPES)
def test_the_composer_fits_opens_on_defaults_and_passes_axe(page, push_emulator, data_type):
    sync_refs(DEMO_XERO)
    staff_user("composer", superuser=True)
    log_in(page, "composer")

    page.goto(add_url(data_type))
    expect(page.get_by_label("Draft")).to_be_checked()
    date_field = registry.for_data_type(data_type).spec.date_field
    if date_field:  # customers and vendors have no date of their own
        expect(page.locator(f"#id_{date_field}")).to_have_value(f"{timezone.localdate():%Y-%m-%d}")
    # Xero has no subsidiaries: the field is not offered.
    expect(page.locator("[name=subsidiaries]")).to_have_count(0)
    assert_nothing_scrolls_sideways(page)
    assert_accessible(page)
    screenshot(page, f"composer-new-{data_type}")


def tab_to(page, selector: str, *, most: int = 25) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user moves through a form."""
    for _ in range(most):
        if page.evaluate(f"!!document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def choose(page, select_id: str, typed: str, expected: str) -> None:
    """Open an autocomplete with Enter, type, and take the first match with Enter."""
    tab_to(page, f"{select_id} + .select2 .select2-selection")
    page.keyboard.press("Enter")
    # Select2 moves the focus into its search box when it opens; keys pressed before that are
    # lost (on a loaded machine the box once got "r Media" and offered another customer).
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_be_focused()
    page.keyboard.type(typed)
    expect(search).to_have_value(typed)
    expect(page.locator(".select2-results__option--highlighted")).to_contain_text(expected)
    page.keyboard.press("Enter")
    expect(page.locator(f"{select_id} + .select2 .select2-selection__rendered")).to_contain_text(
        expected
    )


def test_a_whole_invoice_composed_with_the_keyboard_alone(page, push_emulator):
    sync_refs(DEMO_XERO)
    staff_user("keys", superuser=True)
    log_in(page, "keys")
    page.goto(add_url("invoices"))

    page.locator("#id_status_0").focus()
    page.keyboard.press("ArrowDown")  # Draft -> Ready
    expect(page.get_by_label("Ready")).to_be_checked()
    choose(page, "#id_customer", "Kaur Media", "Kaur Media Partners")
    tab_to(page, "#id_invoice_number")
    page.keyboard.type("INV-KEY-1")
    tab_to(page, "#id_due_date")
    page.keyboard.type(f"{timezone.localdate() + dt.timedelta(days=30):%Y-%m-%d}")

    tab_to(page, "#id_lines-0-description")
    page.keyboard.type("Ethiopia Yirgacheffe, 340 g bags")
    tab_to(page, "#id_lines-0-quantity")
    page.keyboard.type("12")
    tab_to(page, "#id_lines-0-unit_amount")
    page.keyboard.type("18.50")
    first = page.locator("#lines-0 [data-line-amount]")
    expect(first).to_contain_text("222.00")
    choose(page, "#id_lines-0-account", "Wholesale", "Sales - Wholesale")

    # Enter on "Add another" adds a line and leaves the cursor in it.
    tab_to(page, "#lines-group .add-row a")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-1-description")).to_be_focused()
    page.keyboard.type("Cold brew kit")
    tab_to(page, "#id_lines-1-quantity")
    page.keyboard.type("2")
    tab_to(page, "#id_lines-1-unit_amount")
    page.keyboard.type("40")
    expect(page.locator("#lines-1 [data-line-amount]")).to_contain_text("80.00")
    choose(page, "#id_lines-1-account", "Wholesale", "Sales - Wholesale")
    assert_nothing_scrolls_sideways(page)
    screenshot(page, "composer-keyboard")

    tab_to(page, "input[name=_continue]", most=40)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/invoice/\d+/change/"))
    invoice = Invoice.objects.get(invoice_number="INV-KEY-1")
    assert invoice.status == "ready"
    assert invoice.customer.name == "Kaur Media Partners"
    assert [line.description for line in invoice.lines.order_by("position")] == [
        "Ethiopia Yirgacheffe, 340 g bags",
        "Cold brew kit",
    ]
    assert_nothing_scrolls_sideways(page)
    assert_accessible(page)
