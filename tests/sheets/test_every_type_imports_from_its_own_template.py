"""Every declared type has a CSV and an XLSX template built from its declaration, and a sheet
filled in under those headers is checked and imported the composer's way: no code per type."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from sheets.columns import columns_for, headers_for
from sheets.models import ImportedKey, SheetImport
from sheets.services import import_confirm, import_start
from tests.sheets.conftest import csv_bytes, document, sheet_rows, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]


def _download(admin_client, data_type, file_format):
    response = admin_client.get(f"/admin/sheets/sheetimport/template/{data_type}/{file_format}/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_xlsx_template_has_the_type_s_columns_and_a_sheet_explaining_each(
    record_type, admin_client
):
    workbook = load_workbook(io.BytesIO(_download(admin_client, record_type.data_type, "xlsx")))
    columns, explained = workbook.worksheets
    assert [c.value for c in columns[1]] == headers_for(record_type.data_type)
    rows = {row[0]: row for row in explained.iter_rows(min_row=2, values_only=True)}
    party = record_type.spec.field_at_name(record_type.spec.party).label
    assert rows[party][1] == "for a ready record"
    assert "its exact name" in rows[party][2]
    assert rows["Posted date"][1] == "no" and "2026-03-31" in rows["Posted date"][2]
    choices = [c for c in columns_for(record_type.data_type) if c.allowed and c.field]
    for column in choices:
        assert ", ".join(column.allowed) in rows[column.header][2]


def test_the_csv_template_explains_the_columns_in_comments_above_its_header(
    record_type, admin_client
):
    text = _download(admin_client, record_type.data_type, "csv").decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    comments = [line for line in lines if line and line[0].startswith("#")]
    assert len(comments) == len(columns_for(record_type.data_type)) + 1
    assert lines[-1] == headers_for(record_type.data_type)


@pytest.mark.parametrize("write", [csv_bytes, xlsx_bytes], ids=["csv", "xlsx"])
def test_a_filled_template_imports_ready_records_with_their_lines(
    record_type, business, refs, admin_user, write
):
    headers, rows = sheet_rows(
        record_type.data_type,
        [*document(record_type, "K1", lines=3), *document(record_type, "K2", lines=2)],
    )
    sheet_import = import_start(
        connection=business,
        data_type=record_type.data_type,
        file_name="month-end." + ("csv" if write is csv_bytes else "xlsx"),
        content=write(headers, rows),
        user=admin_user,
    )
    assert sheet_import.state == SheetImport.State.CHECKED, sheet_import.refusal
    assert sheet_import.preview["counts"] == {"ready": 2, "draft": 0, "problem": 0, "exists": 0}, (
        sheet_import.preview["problems"]
    )
    model = record_type.spec.model_class
    assert not model.objects.exists()  # nothing written before the confirmation

    done = import_confirm(sheet_import=sheet_import, user=admin_user)
    assert done.state == SheetImport.State.DONE
    records = {r.pk: r for r in model.objects.all()}
    assert len(records) == 2
    keys = dict(ImportedKey.objects.values_list("key", "record_id"))
    first = records[keys["K1"]]
    assert first.status == "ready"
    assert [line.description for line in first.lines.order_by("position")] == [
        "Line 1",
        "Line 2",
        "Line 3",
    ]
    assert getattr(first, record_type.spec.party) == refs[record_type.spec.party]
    assert first.lines.first().account == refs["sales"]
    assert first.created_by == admin_user
