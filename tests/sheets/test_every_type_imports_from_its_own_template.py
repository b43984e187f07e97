"""Every declared type has a CSV and an XLSX template built from its declaration, and a sheet
filled in under those headers is checked and imported the composer's way: no code per type."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from pushes.registry import pushables
from pushes.spec import Kind
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
    spec = record_type.spec
    workbook = load_workbook(io.BytesIO(_download(admin_client, record_type.data_type, "xlsx")))
    columns, explained = workbook.worksheets
    headers = [c.value for c in columns[1]]
    assert headers == headers_for(record_type.data_type)
    rows = {row[0]: row for row in explained.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == set(headers)
    for column in columns_for(record_type.data_type):
        if column.field is not None:
            needed = "for a ready record" if column.field.ready else "no"
            assert rows[column.header][1] == needed, column.header
    if spec.party:
        party = spec.field_at_name(spec.party).label
        assert rows[party][1] == "for a ready record"
        assert "its exact name" in rows[party][2]
    else:
        parties = {p.spec.field_at_name(p.spec.party).label for p in pushables() if p.spec.party}
        assert parties and not parties & set(headers)
    if spec.has_lines:
        assert any(h.startswith("Line ") for h in headers)
        assert "each row one of its lines" in rows["Key"][2]
    else:
        assert not any(h.startswith("Line ") for h in headers)
        assert f"one row is one {spec.label.lower()}" in rows["Key"][2]
    natural = spec.field_at_name(spec.number).label.lower()
    assert f"Blank: the {spec.label.lower()}'s {natural} is its key" in rows["Key"][2]
    for column in columns_for(record_type.data_type):
        if column.field is not None and column.field.kind is Kind.DATE:
            assert "2026-03-31" in rows[column.header][2]
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
    """Three and two lines for a type with lines; one row each for a type without."""
    spec = record_type.spec
    headers, rows = sheet_rows(
        record_type.data_type,
        [*document(record_type, "K1", lines=3), *document(record_type, "K2", lines=2)],
    )
    assert len(rows) == (5 if spec.has_lines else 2)
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
    model = spec.model_class
    assert not model.objects.exists()  # nothing written before the confirmation

    done = import_confirm(sheet_import=sheet_import, user=admin_user)
    assert done.state == SheetImport.State.DONE
    records = {r.pk: r for r in model.objects.all()}
    assert len(records) == 2
    keys = dict(ImportedKey.objects.values_list("key", "record_id"))
    first = records[keys["K1"]]
    assert first.status == "ready"
    assert first.created_by == admin_user
    assert getattr(first, spec.number) == "N-K1"
    if spec.party:
        assert getattr(first, spec.party) == refs[spec.party]
    if spec.has_lines:
        assert [line.description for line in first.lines.order_by("position")] == [
            "Line 1",
            "Line 2",
            "Line 3",
        ]
        assert first.lines.first().account == refs["sales"]
        assert records[keys["K2"]].lines.count() == 2


def test_a_key_on_several_rows_is_one_record_only_for_a_type_with_lines(
    record_type, business, refs
):
    """Rows sharing a key are one document's lines; for a type without lines they would be two
    records under one key, and neither is imported."""
    spec = record_type.spec
    if spec.has_lines:
        records = document(record_type, "K1", lines=2)
    else:
        records = [*document(record_type, "K1"), *document(record_type, "K1")]
    headers, rows = sheet_rows(record_type.data_type, records)
    sheet_import = import_start(
        connection=business,
        data_type=record_type.data_type,
        file_name="s.csv",
        content=csv_bytes(headers, rows),
    )
    assert sheet_import.state == SheetImport.State.CHECKED, sheet_import.refusal
    counts = sheet_import.preview["counts"]
    problems = sheet_import.preview["problems"]
    if spec.has_lines:
        assert counts["ready"] == 1 and counts["problem"] == 0, problems
    else:
        assert counts["ready"] == 0 and counts["problem"] == 1
        assert [(p["row"], p["column"], p["rule"]) for p in problems] == [(3, "Key", "unique")]
        assert "already on row 2" in problems[0]["message"]


def test_a_text_too_long_for_the_accounting_system_is_a_problem_at_its_own_column(
    record_type, business, refs
):
    """Every text field with a length in the Railz schema, nested ones (billingAddress.city)
    included, comes back at the column that holds it."""
    spec = record_type.spec
    limited = [
        (spec_field, limit)
        for spec_field in spec.fields
        if spec_field.kind is Kind.TEXT
        and spec_field.name not in (spec.number, spec.party)
        and (limit := spec.max_length(spec_field))
    ]
    assert limited, f"{spec.label_plural} have no text field with a length to try"
    records = [
        row
        for n, (spec_field, limit) in enumerate(limited)
        for row in document(record_type, f"K{n}", **{spec_field.label: "x" * (limit + 1)})
    ]
    headers, rows = sheet_rows(record_type.data_type, records)
    sheet_import = import_start(
        connection=business,
        data_type=record_type.data_type,
        file_name="s.csv",
        content=csv_bytes(headers, rows),
    )
    assert sheet_import.state == SheetImport.State.CHECKED, sheet_import.refusal
    found = {(p["column"], p["rule"]) for p in sheet_import.preview["problems"]}
    assert found == {(spec_field.label, "maxLength") for spec_field, _ in limited}
