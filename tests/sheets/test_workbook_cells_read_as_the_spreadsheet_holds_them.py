"""A workbook's cells are read as the spreadsheet holds them, by row number: plain and
formatted text, numbers, dates, true/false, formulas (kept as formulas), blank cells and rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from sheets.reading import FileRefused, Formula, sheet_read


def _workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Key", "Text", "Number", "Date", "Flag", "Sum"])
    bold = InlineFont(b=True)
    sheet.append(
        [
            "K1",
            CellRichText("Acme ", TextBlock(bold, "Coffee"), " Ltd"),
            1234.5,
            dt.datetime(2026, 11, 2),
            True,
            "=C2*2",
        ]
    )
    # Row 3 left empty; row 4 starts in its second column.
    sheet["B4"] = "  spaced  "
    sheet["C4"] = 7
    sheet["F4"] = "=SUM(C2:C3)"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_cells_are_read_by_row_as_openpyxl_reads_them():
    content = _workbook()
    sheet = sheet_read(content, file_name="cells.xlsx")
    assert sheet.headers == ["Key", "Text", "Number", "Date", "Flag", "Sum"]
    rows = dict(sheet.rows)
    assert sorted(rows) == [2, 4]  # the empty row is spacing

    expected = load_workbook(io.BytesIO(content), read_only=True).active
    for number, values in rows.items():
        held = [c.value for c in next(expected.iter_rows(min_row=number, max_row=number))]
        held = held[: len(values)] + [None] * (len(values) - len(held))
        for got, want in zip(values, held, strict=True):
            if isinstance(got, Formula):
                assert str(got) == want
            else:
                assert got == want
    assert rows[2][1] == "Acme Coffee Ltd"
    assert rows[2][3] == dt.datetime(2026, 11, 2)
    assert isinstance(rows[4][5], Formula)
    assert rows[4][:3] == [None, "  spaced  ", 7]


def test_an_empty_first_row_is_an_empty_header_not_the_next_row():
    workbook = Workbook()
    sheet = workbook.active
    sheet["A2"] = "Key"
    sheet["A3"] = "K1"
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(FileRefused) as refused:
        sheet_read(out.getvalue(), file_name="late.xlsx")
    assert "its first row is empty" in refused.value.message


def test_only_the_first_sheet_is_read_and_the_preview_says_so():
    workbook = Workbook()
    data = workbook.active
    data.title = "Bills"
    data.append(["Key", "Memo"])
    data.append(["K1", "first"])
    other = workbook.create_sheet("Explanations")
    other.append(["Key", "Memo"])
    other.append(["K9", "second"])
    out = io.BytesIO()
    workbook.save(out)
    sheet = sheet_read(out.getvalue(), file_name="two.xlsx")
    assert sheet.rows == [(2, ["K1", "first"])]
    assert sheet.notes == ["Only the first sheet (Bills) was read; the workbook has 2."]
