"""The blank sheet of each record type, with what each column takes.

The XLSX has the columns on its first sheet and a second sheet, "How to fill it in", with one
row per column (required or not, format, allowed values). The CSV carries the same explanations
as comment lines starting with '#' above the header, which the import skips.
"""

from __future__ import annotations

from collections.abc import Iterator

from pushes import registry
from sheets.columns import columns_for, rows_say
from sheets.writing import rows_response

__all__ = ["HELP_HEADERS", "blank_response", "help_rows"]

HELP_HEADERS = ["Column", "Required", "Format and allowed values"]


def help_rows(data_type: str) -> Iterator[list[str]]:
    for column in columns_for(data_type):
        yield [column.header, column.required or "no", column.help]


def _csv_comment_lines(data_type: str) -> Iterator[str]:
    spec = registry.for_data_type(data_type).spec
    yield (
        f"# {spec.label_plural} for railzpush: {rows_say(spec)}. Lines starting with # are skipped."
    )
    for header, required, text in help_rows(data_type):
        needed = f" (required {required})" if required != "no" else ""
        yield f"# {header}{needed}: {text}"


def blank_response(data_type: str, *, file_format: str):
    spec = registry.for_data_type(data_type).spec
    headers = [column.header for column in columns_for(data_type)]
    name = f"{spec.data_type}-template"
    if file_format == "xlsx":
        return rows_response(
            headers,
            [],
            file_format="xlsx",
            file_name=name,
            title=spec.label_plural,
            extra_sheets=[("How to fill it in", HELP_HEADERS, help_rows(data_type))],
        )
    # The comments go in as one-cell rows before the header; quotes keep commas in them.
    comments = ([line] for line in _csv_comment_lines(data_type))
    response = rows_response(
        [],
        [*comments, headers],
        file_format="csv",
        file_name=name,
    )
    return response
