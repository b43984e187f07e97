"""Sheets as people fill them in: rows by header, written as CSV or XLSX bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from pushes.spec import Kind
from sheets.columns import headers_for
from tests.contract.conftest import SAMPLES, TYPES, RecordKit, record_type  # noqa: F401
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    VendorFactory,
    invoice_plain_static,  # noqa: F401  (admin pages without collected static files)
)


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, merge: str = "") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_rows(data_type: str, records: Sequence[dict[str, Any]]) -> tuple[list[str], list[list]]:
    """The template's headers and one row per dict (missing columns blank)."""
    headers = headers_for(data_type)
    return headers, [[record.get(h, "") for h in headers] for record in records]


@pytest.fixture
def business(db):
    return ConnectionFactory(business_name="Maple Leaf Coffee", service_name="xero")


@pytest.fixture
def refs(business):
    """A customer, a vendor and two accounts of the business, by the names a sheet uses."""
    return {
        "customer": CustomerFactory(
            connection=business, name="Acme Ltd", email="ap@acme.test", remote_id="C-1"
        ),
        "vendor": VendorFactory(
            connection=business, name="Acme Ltd", email="ar@acme.test", remote_id="V-1"
        ),
        "sales": AccountFactory(connection=business, name="Sales", code="4000", remote_id="A-1"),
        "costs": AccountFactory(connection=business, name="Costs", code="5000", remote_id="A-2"),
    }


def party_header(kit: RecordKit) -> str:
    return kit.spec.field_at_name(kit.spec.party).label


def number_header(kit: RecordKit) -> str:
    return kit.spec.field_at_name(kit.spec.number).label


def _line_cells(kit: RecordKit, index: int, lines: int) -> dict[str, Any]:
    cells = {"Line description": f"Line {index + 1}", "Line account": "4000"}
    if "debit" not in kit.line_names:
        return {**cells, "Line quantity": "2", "Line unit amount": "100.50"}
    # A journal's last line credits what the others debit, so the entry balances.
    if index < lines - 1 or lines == 1:
        return {**cells, "Line debit": "100.50"}
    return {**cells, "Line credit": f"{Decimal('100.50') * (lines - 1)}"}


def document(kit: RecordKit, key: str, *, lines: int = 1, **cells: Any) -> list[dict[str, Any]]:
    """The rows of one complete record of `kit`'s type, read from its declaration: its party
    (if it has one) is "Acme Ltd", its number N-<key>; a type with lines gets `lines` rows,
    one without lines a single row."""
    spec = kit.spec
    first: dict[str, Any] = {"Key": key, number_header(kit): f"N-{key}"}
    if spec.party:
        first[party_header(kit)] = "Acme Ltd"
    for spec_field in spec.fields:
        if spec_field.kind is Kind.DATE:
            first[spec_field.label] = (
                "2026-12-02" if spec_field.name == "due_date" else "2026-11-02"
            )
        elif spec_field.kind is Kind.CURRENCY:
            first[spec_field.label] = "CAD"
        elif spec_field.ready and spec_field.name in SAMPLES:
            first[spec_field.label] = SAMPLES[spec_field.name]
    if not spec.has_lines:
        return [{**first, **cells}]
    rows = []
    for index in range(lines):
        row = dict(first) if index == 0 else {"Key": key}
        row.update(_line_cells(kit, index, lines))
        rows.append(row)
    rows[0].update(cells)
    return rows
