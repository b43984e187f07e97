"""Every registered type's list on a 1280 x 800 laptop: each row says which document, with whom,
when, for how much in which currency, where it stands with the accounting system and who
pushed it last, all without a sideways scroll bar; the foot of the list totals each currency;
and axe-core finds nothing serious."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from playwright.sync_api import expect

from pushes.models import PushRequest
from tests.browser.conftest import (
    assert_accessible,
    assert_nothing_scrolls_sideways,
    log_in,
    screenshot,
    staff_user,
)
from tests.contract.conftest import TYPES, RecordKit
from tests.factories import ConnectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("data_type", TYPES)
def test_the_list_shows_the_ledger_columns_and_fits(page, data_type):
    from pushes import registry

    kit = RecordKit(spec=registry.for_data_type(data_type).spec)
    spec = kit.spec
    if not (spec.party and spec.has_lines and spec.totals):
        pytest.skip(f"{spec.label_plural}: no party, lines or amounts to show in ledger columns")
    connection = ConnectionFactory(business_name="Maple Leaf Coffee Roasters Incorporated")
    pusher = staff_user("priya", superuser=True)
    records = [
        kit.create(connection=connection, number=f"N-{n}-2026-LONG", currency=currency)
        for n, currency in ((1, "CAD"), (2, "CAD"), (3, "USD"))
    ]
    pushed = records[0]
    PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(pushed),
        object_id=pushed.pk,
        connection=connection,
        data_type=data_type,
        operation="create",
        state="failed",
        requested_by=pusher,
        completed_on=timezone.now(),
        validation_errors=[{"field": "total", "message": "Total is wrong"}],
    )
    log_in(page, "priya")

    page.goto(f"/admin/pushes/{spec.model_class._meta.model_name}/")
    headers = page.locator("#result_list thead").inner_text().lower()
    for column in (spec.field_at_name(spec.number).label, spec.party, "date", "total"):
        assert column.lower() in headers, (column, headers)
    for column in ("push state", "last push"):
        assert column in headers, (column, headers)
    row = page.locator("#result_list tbody tr", has_text="N-1-2026-LONG")
    expect(row).to_contain_text(str(getattr(pushed, spec.party).name))
    expect(row).to_contain_text("CAD 201.00")
    expect(row).to_contain_text("Push failed")
    expect(row).to_contain_text("priya")
    expect(row).to_contain_text(f"{dt.date(2026, 11, 2):%-d %b %Y}")
    # The foot totals each currency of what the list shows.
    foot = page.locator("[data-list-totals]")
    expect(foot).to_contain_text("CAD 402.00")
    expect(foot).to_contain_text("USD 201.00")
    assert_nothing_scrolls_sideways(page)
    assert_accessible(page)
    screenshot(page, f"list-{data_type}")

    # Filtered to one currency's records, the foot follows the filter.
    page.goto(f"/admin/pushes/{spec.model_class._meta.model_name}/?q=N-3")
    expect(foot).to_contain_text("USD 201.00")
    expect(foot).not_to_contain_text("CAD")
