"""Every declared type's list shows each record's total and the list's totals per currency,
rounded as the composer rounds them, in as many queries for thirty records as for three."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pushes.selectors import (
    invoice_totals,
    record_list_total,
    records_total_by_currency,
    records_with_totals,
)
from tests.factories import ConnectionFactory, TaxRateFactory, invoice_plain_static  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]


def list_url(record_type) -> str:
    opts = record_type.spec.model_class._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def make(record_type, connection, count: int, *, start: int = 0, currency: str = "CAD"):
    return [
        record_type.create(connection=connection, number=f"L-{n}", currency=currency)
        for n in range(start, start + count)
    ]


def queries_of(admin_client, url: str) -> int:
    with CaptureQueriesContext(db) as captured:
        assert admin_client.get(url).status_code == 200
    return len(captured)


def test_the_list_reads_in_as_many_queries_for_thirty_records_as_for_three(
    record_type, admin_client
):
    make(record_type, ConnectionFactory(), 2)
    make(record_type, ConnectionFactory(), 1, start=2, currency="USD")
    url = list_url(record_type)
    queries_of(admin_client, url)  # the content types are cached from then on
    few = queries_of(admin_client, url)
    make(record_type, ConnectionFactory(), 27, start=3, currency="EUR")
    assert queries_of(admin_client, url) == few


def test_each_total_rounds_per_line_as_the_composer_does_and_the_foot_adds_them_up(
    record_type, admin_client
):
    spec = record_type.spec
    if not (spec.totals and spec.has_lines):
        pytest.skip(f"{spec.label_plural} have no amounts to total")
    connection = ConnectionFactory()
    gst = TaxRateFactory(connection=connection, total_rate=Decimal("5"))
    line = {"quantity": "3", "unit_amount": "3.335", "discount_percentage": "10", "tax_rate": gst}
    if not any(f.name == "tax_rate" for f in spec.line_fields):
        line.pop("tax_rate")
    records = [
        record_type.create(
            connection=connection,
            number=f"R-{n}",
            currency=currency,
            lines=[record_type.line(connection, **line)] * 2,
        )
        for n, currency in ((1, "CAD"), (2, "CAD"), (3, "JPY"))
    ]
    listed = records_with_totals(spec.model_class.objects.all(), spec=spec)
    for record in listed:
        expected = invoice_totals(lines=record.lines.all(), currency=record.currency).total
        assert record_list_total(record) == expected

    response = admin_client.get(list_url(record_type))
    foot = {row.currency: row for row in response.context_data["list_totals"]}
    cad = sum(
        (invoice_totals(lines=r.lines.all(), currency="CAD").total for r in records[:2]),
        Decimal(0),
    )
    assert foot["CAD"].count == 2 and foot["CAD"].total == cad
    assert foot["JPY"].count == 1
    assert foot["JPY"].total == invoice_totals(lines=records[2].lines.all(), currency="JPY").total
    assert f"CAD {cad:,}" in response.content.decode()

    # Searched down to one record, the foot counts that one only.
    response = admin_client.get(list_url(record_type), {"q": "R-3"})
    assert [row.currency for row in response.context_data["list_totals"]] == ["JPY"]


def test_past_the_cap_the_list_says_to_filter_it_and_reads_no_line(
    record_type, admin_client, monkeypatch
):
    """A list too long to add up on each visit says that filtering it shows its totals, and
    reads neither its lines nor its records beyond the page."""
    spec = record_type.spec
    if not (spec.totals and spec.has_lines):
        pytest.skip(f"{spec.label_plural} have no amounts to total")
    monkeypatch.setattr("pushes.admin.base.LIST_TOTALS_MAX_RECORDS", 2)
    make(record_type, ConnectionFactory(), 2)
    make(record_type, ConnectionFactory(), 1, start=2, currency="USD")
    lines = spec.line_model_class._meta.db_table
    with CaptureQueriesContext(db) as captured:
        response = admin_client.get(list_url(record_type))
    assert "list_totals" not in response.context_data
    assert "filter the list" in response.content.decode()
    # Each row's own total reads its lines in a subquery (U0); no statement reads them all.
    assert not [q for q in captured if re.search(rf'FROM "{lines}"(?! U\d)', q["sql"])]
    assert not [q for q in captured if 'AS "currency", COUNT(' in q["sql"]]

    # Filtered down under the cap, the totals are back.
    response = admin_client.get(list_url(record_type), {"q": "L-2"})
    assert [(row.currency, row.total is None) for row in response.context_data["list_totals"]] == [
        ("USD", False)
    ]


def test_past_the_cap_the_selector_counts_each_currency_but_sums_no_line(record_type):
    spec = record_type.spec
    if not (spec.totals and spec.has_lines):
        pytest.skip(f"{spec.label_plural} have no amounts to total")
    make(record_type, ConnectionFactory(), 2)
    make(record_type, ConnectionFactory(), 1, start=2, currency="USD")
    rows = records_total_by_currency(spec.model_class.objects.all(), spec=spec, max_records=2)
    assert [(row.currency, row.count, row.total) for row in rows] == [
        ("CAD", 2, None),
        ("USD", 1, None),
    ]
