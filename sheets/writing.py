"""Writing rows as a CSV or XLSX download without holding them in memory.

CSV goes out line by line through a StreamingHttpResponse. An XLSX is a zip, written whole
before it can be sent: openpyxl's write-only workbook streams each row to a temporary file as it
comes, and the finished file is sent in chunks, so 100,000 rows never sit in memory either way.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import FileResponse, StreamingHttpResponse

__all__ = ["FORMATS", "rows_response", "rows_xlsx_file"]

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Spreadsheets run a cell starting with these as a formula: text is written so it stays text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            Decimal(value)
            return value  # a negative number, not a formula
        except ArithmeticError:
            return "'" + value
    return value


def _csv_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # Excel reads a CSV without it as the machine's legacy encoding
    if headers:
        yield writer.writerow(headers)
    for row in rows:
        yield writer.writerow(["" if v is None else _safe(v) for v in row])


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value) if abs(value) < Decimal(10) ** 15 else str(value)
    return _safe(value)


def rows_xlsx_file(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    extra_sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = (),
):
    """A temporary file holding the workbook; rows are streamed into it one at a time."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for sheet_title, sheet_headers, sheet_rows in ((title, headers, rows), *extra_sheets):
        sheet = workbook.create_sheet(sheet_title[:31])
        sheet.append(list(sheet_headers))
        for row in sheet_rows:
            sheet.append([_xlsx_value(v) for v in row])
    # Closed by the response that sends it (FileResponse closes its file when done).
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    return handle


def rows_response(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    file_format: str,
    file_name: str,
    title: str = "Sheet1",
    extra_sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = (),
):
    """A download of `rows` as CSV (streamed line by line) or XLSX (streamed from a file).

    A CSV has one sheet: `extra_sheets` (an XLSX's explanations) are left out of it.
    """
    if file_format == "xlsx":
        handle = rows_xlsx_file(headers, rows, title=title, extra_sheets=extra_sheets)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{file_name}.xlsx",
            content_type=FORMATS["xlsx"],
        )
    response = StreamingHttpResponse(_csv_lines(headers, rows), content_type=FORMATS["csv"])
    response["Content-Disposition"] = f'attachment; filename="{file_name}.csv"'
    return response
