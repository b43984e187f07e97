"""On every composer whose lines name an item, at 1280 x 800: choosing an item with the
keyboard fills the line's description, unit price, account and tax rate from the mirror, on
the side the document is on; a description the person typed stays, and choosing another item
replaces only what the first one filled. axe-core finds nothing serious."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from pushes import registry
from pushes.admin.base import item_fill_fields
from refs.models import Item
from refs.selectors import item_line_defaults
from tests.browser.conftest import (
    assert_accessible,
    assert_nothing_scrolls_sideways,
    log_in,
    screenshot,
    staff_user,
    sync_refs,
)
from tests.browser.test_browser_every_composer_fits_and_an_invoice_composes_by_keyboard import (
    add_url,
    tab_to,
)
from tests.fixtures.emulator import DEMO_XERO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 20_000
WITH_ITEMS = tuple(
    t for t in registry.PUSHABLE_TYPES if item_fill_fields(registry.for_data_type(t).spec)
)


def two_items(side: str) -> list[tuple[Item, dict]]:
    """Two live items whose codes no other item's code contains (typing one finds it alone),
    each with every default the side has."""
    items = list(
        Item.objects.active()
        .filter(connection__connection_uuid=DEMO_XERO)
        .select_related("account", "tax_rate")
    )
    codes = [item.code for item in items]
    found = []
    for item in items:
        if not item.code or sum(item.code in code for code in codes) != 1:
            continue
        defaults = item_line_defaults(item=item, side=side)
        if all(defaults.values()) and defaults["unit_price"] not in [
            d["unit_price"] for _, d in found
        ]:
            found.append((item, defaults))
        if len(found) == 2:
            return found
    raise AssertionError("the demo business has no two items to choose")


def choose_item(page, select_id: str, item: Item) -> None:
    """Open the item's autocomplete with Enter, type its code, take it with Enter."""
    tab_to(page, f"{select_id} + .select2 .select2-selection", most=40)
    page.keyboard.press("Enter")
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_be_focused(timeout=WAIT_MS)
    page.keyboard.type(item.code)
    expect(search).to_have_value(item.code)
    expect(page.locator(".select2-results__option--highlighted")).to_contain_text(
        str(item), timeout=WAIT_MS
    )
    page.keyboard.press("Enter")


def rendered(page, select_id: str):
    """What a select shows: select2's rendering for an autocomplete, else the chosen option."""
    box = page.locator(f"{select_id} + .select2 .select2-selection__rendered")
    return box if box.count() else page.locator(f"{select_id} option:checked")


@pytest.mark.parametrize("data_type", WITH_ITEMS)
def test_choosing_an_item_fills_the_line_and_keeps_what_was_typed(page, data_type):
    sync_refs(DEMO_XERO)
    spec = registry.for_data_type(data_type).spec
    names = item_fill_fields(spec)
    (first, filled), (second, refilled) = two_items(spec.item_side)
    staff_user("filler", superuser=True)
    log_in(page, "filler")
    page.goto(add_url(data_type))

    def line(n: int, what: str) -> str:
        return f"#id_lines-{n}-{names[what]}"

    # Line 1: an empty line takes everything the item knows.
    choose_item(page, line(0, "item"), first)
    expect(page.locator(line(0, "description"))).to_have_value(
        filled["description"], timeout=WAIT_MS
    )
    assert Decimal(page.locator(line(0, "unit_price")).input_value()) == filled["unit_price"]
    expect(rendered(page, line(0, "account"))).to_contain_text(str(filled["account"]))
    expect(rendered(page, line(0, "tax_rate"))).to_contain_text(str(filled["tax_rate"]))

    # Line 2: the person's own description stays; another item replaces only the fill.
    tab_to(page, "#lines-group .add-row a", most=60)
    page.keyboard.press("Enter")
    expect(page.locator(line(1, "description"))).to_be_focused()
    page.keyboard.type("Our own words for this line")
    choose_item(page, line(1, "item"), first)
    price = page.locator(line(1, "unit_price"))
    expect(price).not_to_have_value("", timeout=WAIT_MS)
    assert Decimal(price.input_value()) == filled["unit_price"]
    before = price.input_value()
    choose_item(page, line(1, "item"), second)
    expect(price).not_to_have_value(before, timeout=WAIT_MS)
    assert Decimal(price.input_value()) == refilled["unit_price"]
    expect(page.locator(line(1, "description"))).to_have_value("Our own words for this line")

    # Every value stays editable.
    page.locator(line(1, "unit_price")).fill("1.00")
    expect(page.locator(line(1, "unit_price"))).to_have_value("1.00")

    assert_nothing_scrolls_sideways(page)
    assert_accessible(page)
    screenshot(page, f"composer-item-fill-{data_type}")
