"""Reading an uploaded CSV or XLSX file into rows, or refusing it in words a person can act on.

A file is refused as a whole (`FileRefused`, with a rule and a sentence) when nothing in it can
be read the way it was meant: not UTF-8, separated by semicolons or tabs, empty, merged cells,
too large. A cell that cannot be taken as a value (a formula) is a problem at that cell, found
with the other problems of its row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings

__all__ = [
    "FORMULA",
    "FileRefused",
    "Formula",
    "Sheet",
    "sheet_read",
]

XLSX_MAGIC = b"PK\x03\x04"
# A row with more cells than this is no record sheet (and would only fill memory).
MAX_COLUMNS = 200
FORMULA = "formula"


class FileRefused(Exception):
    """The file cannot be read as a sheet at all; `rule` for programs, the message for people."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula: kept as such so the row's check names it."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Sheet:
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the file numbers it, cells)
    notes: list[str] = field(default_factory=list)


def _size_refusal(size: int) -> FileRefused:
    limit = settings.IMPORT_MAX_FILE_BYTES
    return FileRefused(
        "maxSize",
        f"The file is {size / 1_000_000:.1f} MB; files up to {limit / 1_000_000:.0f} MB "
        "are accepted. Split it into several files.",
    )


def sheet_read(content: bytes, *, file_name: str = "") -> Sheet:
    """The rows of `content`, a CSV (UTF-8, comma-separated) or an XLSX workbook's first sheet.

    Raises FileRefused naming what is wrong with the file and what to do about it.
    """
    if len(content) > settings.IMPORT_MAX_FILE_BYTES:
        raise _size_refusal(len(content))
    if not content.strip():
        raise FileRefused("empty", "The file is empty: there is no header row and no row.")
    if content.startswith(XLSX_MAGIC):
        sheet = _read_xlsx(content)
    elif file_name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise FileRefused(
            "format",
            "The file is named like a workbook but is not an .xlsx workbook; save it from your "
            "spreadsheet as Excel Workbook (.xlsx) or as CSV UTF-8.",
        )
    else:
        sheet = _read_csv(content)
    # Rows with nothing in them are spacing, not records.
    sheet.rows = [(number, cells) for number, cells in sheet.rows if any(_filled(c) for c in cells)]
    if not [h for h in sheet.headers if h]:
        raise FileRefused("empty", "The file has no header row: its first row is empty.")
    if not sheet.rows:
        raise FileRefused(
            "empty", "The file has a header row but no rows under it: there is nothing to import."
        )
    return sheet


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


# --- CSV ------------------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "UTF-16 (Excel's Unicode Text)"
        else:
            encoding = "another encoding, probably Windows-1252 or Latin-1"
        raise FileRefused(
            "encoding",
            f"The file is not UTF-8 text: byte 0x{content[exc.start]:02X} on line {line} is "
            f"not UTF-8 (it looks like {encoding}). In your spreadsheet, choose Save As and "
            "then CSV UTF-8 (comma delimited), and upload that file.",
        ) from None


_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _read_csv(content: bytes) -> Sheet:
    text = _decode(content)
    if "\x00" in text:
        raise FileRefused("encoding", "The file holds NUL characters: it is not a text (CSV) file.")
    first_line = next(
        (
            line
            for line in text.split("\n", 200)[:200]
            if line.strip() and not line.lstrip('"').startswith("#")
        ),
        "",
    )
    if "," not in first_line:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if first_line.count(delimiter) >= 1:
                raise FileRefused(
                    "delimiter",
                    f"The columns are separated by {name}, not commas. Save the file as CSV UTF-8 "
                    "(comma delimited), or as an .xlsx workbook, and upload it again.",
                )
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        rows = [(index, row) for index, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise FileRefused("format", f"The file is not a readable CSV file: {exc}.") from None
    # The template's explanations: comment lines above the header.
    while rows and (not rows[0][1] or rows[0][1][0].lstrip().startswith("#")):
        rows.pop(0)
    headers, *body = rows or [(1, [])]
    if len(headers[1]) > MAX_COLUMNS:
        raise FileRefused("columns", f"The header row has more than {MAX_COLUMNS} columns.")
    return Sheet(
        "csv",
        [h.strip() for h in headers[1]],
        [(number, [_csv_cell(c) for c in cells]) for number, cells in body],
    )


def _csv_cell(text: str) -> Any:
    # A CSV holds no formulas, but a cell saved from one ("=B2*C2") is not the value meant.
    stripped = text.strip()
    if stripped.startswith("=") and len(stripped) > 1:
        return Formula(stripped)
    return text


# --- XLSX -----------------------------------------------------------------------------------

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_cells(archive: zipfile.ZipFile, part: str) -> list[str]:
    """The merged ranges of a worksheet part, read by streaming its XML (the mergeCells list
    follows the rows, at the end)."""
    found: list[str] = []
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            block = tail + chunk
            found.extend(m.decode() for m in _MERGE.findall(block))
            tail = block[-200:]
            if len(found) > 20:
                break
    return list(dict.fromkeys(found))


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return names[0] if names else None


def _read_xlsx(content: bytes) -> Sheet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        part = _first_sheet_part(archive)
        if part is None:
            raise zipfile.BadZipFile
        # Compressed, a workbook may unpack to far more than it weighs.
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > settings.IMPORT_MAX_FILE_BYTES * 10:
            raise _size_refusal(unpacked // 10)
        merged = _merged_cells(archive, part)
    except (zipfile.BadZipFile, KeyError):
        raise FileRefused(
            "format",
            "The file is not a readable .xlsx workbook; save it from your spreadsheet as Excel "
            "Workbook (.xlsx) or as CSV UTF-8.",
        ) from None
    if merged:
        raise FileRefused(
            "mergedCells",
            f"Cells {', '.join(merged[:5])} are merged. Unmerge them and repeat the value in "
            "each row (one row is one line), then upload again.",
        )
    try:
        # Formulas stay formulas (data_only=False): a value computed by Excel may be stale or
        # absent, and a person should see that the cell was not a value.
        reader = _workbook_reader()(io.BytesIO(content), read_only=True, data_only=False)
        reader.read()
        if not reader.sheets:
            raise LookupError("no worksheet")
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise FileRefused(
            "format", f"The workbook cannot be read ({type(exc).__name__})."
        ) from None
    try:
        title, part = reader.sheets[0]
        notes = []
        if len(reader.sheets) > 1:
            notes.append(
                f"Only the first sheet ({title}) was read; the workbook has {len(reader.sheets)}."
            )
        rows = list(_xlsx_rows(reader, part))
    finally:
        reader.archive.close()
    if not rows or rows[0][0] != 1:
        rows.insert(0, (1, []))  # the header row is the first, even when it is empty
    headers, *body = rows
    return Sheet(
        "xlsx",
        [str(h).strip() if h is not None else "" for h in headers[1]],
        body,
        notes,
    )


@cache
def _workbook_reader():
    """openpyxl's workbook reader, told to note where the worksheets are rather than open
    each: opening one reads it through once for its size when the file does not state it."""
    from openpyxl.reader.excel import ExcelReader

    class SheetsNoted(ExcelReader):
        sheets: list[tuple[str, str]]

        def read_worksheets(self) -> None:
            self.sheets = [
                (sheet.name, rel.target)
                for sheet, rel in self.parser.find_sheets()
                if rel.target in self.valid_files and "chartsheet" not in rel.Type
            ]
            # Defined names belong to sheets not opened here, and an import reads cells only.
            self.parser.assign_names = lambda: None

    return SheetsNoted


def _xlsx_rows(reader, part: str) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of each row of the worksheet at `part` that has cells, as
    long as its last cell.

    The sheet's XML is read with openpyxl's own parser, but its cells are taken as the plain
    values it parses, not as cell objects padded to a width, and text typed in a cell ("inline
    strings", what most programs that generate workbooks write) is read without building a
    rich-text object for each: reading was most of an import's time.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = reader.wb
    with reader.archive.open(part) as source:
        parser = _fast_parser(WorkSheetParser)(
            source,
            reader.shared_strings,
            data_only=False,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for index, cells in parser.parse():
            kept = [cell for cell in cells if cell["column"] <= MAX_COLUMNS]
            values: list[Any] = [None] * (max((c["column"] for c in kept), default=0))
            for cell in kept:
                value = cell["value"]
                if cell["data_type"] == "f" or (
                    isinstance(value, str) and value.startswith("=") and len(value) > 1
                ):
                    value = Formula(str(value))
                values[cell["column"] - 1] = value
            yield index, values


@cache
def _fast_parser(base):
    from openpyxl.utils import coordinate_to_tuple
    from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING
    from openpyxl.xml.constants import SHEET_MAIN_NS

    text_tag, run_tag = f"{{{SHEET_MAIN_NS}}}t", f"{{{SHEET_MAIN_NS}}}r"

    class FastParser(base):
        def parse_cell(self, element):
            if element.get("t") != "inlineStr" or element.find(FORMULA_TAG) is not None:
                return super().parse_cell(element)
            # What openpyxl's rich-text object reads as its content: the plain text, then
            # each formatted run's (phonetic guides left out).
            child = element.find(INLINE_STRING)
            value = None
            if child is not None:
                parts = [child.findtext(text_tag)]
                parts += [run.findtext(text_tag) for run in child.iterfind(run_tag)]
                value = "".join(p for p in parts if p is not None)
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            style_id = int(element.get("s", 0) or 0)
            data_type = "s" if child is not None else "inlineStr"
            return {
                "row": row,
                "column": column,
                "value": value,
                "data_type": data_type,
                "style_id": style_id,
            }

    return FastParser
