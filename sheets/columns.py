"""A record type's spreadsheet columns, read from its declaration.

For a type with lines, one row is one line of a document; the rows that share the `Key` column
are one document, and the document's own fields are read from the first of them. For a type
without lines (customers, vendors) one row is one record. Columns are the declaration's labels
("Customer", "Posted date", "Billing city"), a line's prefixed with "Line " ("Line unit
amount"); a type with no party has no party column. A new type gets its columns by being
declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pushes import registry
from pushes.spec import DocumentSpec, Field, Kind

__all__ = [
    "KEY",
    "STATUS",
    "Column",
    "columns_for",
    "natural_key_label",
    "ref_model",
    "rows_say",
]

KEY = "Key"
STATUS = "Status"
# Several references in one cell (subsidiaries, tracking options) are separated by this.
SEPARATOR = ";"


# One object per column of a type (`columns_for` is cached): compared and hashed by identity,
# as each cell of a sheet is keyed by its column.
@dataclass(frozen=True, eq=False)
class Column:
    header: str
    field: Field | None  # None: the key and status columns, which are the import's own
    line: bool = False
    help: str = ""
    required: str = ""  # "" or when it is needed ("for a ready record")
    allowed: tuple[str, ...] = ()


def natural_key_label(spec: DocumentSpec) -> str:
    """The label of the field people call a record by ("Invoice number", "Name"), "" if none."""
    field = next((f for f in spec.fields if f.name == spec.number), None) if spec.number else None
    return field.label if field else ""


def rows_say(spec: DocumentSpec) -> str:
    """What a row of the type's sheet is, in a sentence's words."""
    noun = spec.label.lower()
    if spec.has_lines:
        return f"one row per line; rows sharing a {KEY} are one {noun}"
    return f"one row per {noun}"


def _key_help(spec: DocumentSpec) -> str:
    noun = spec.label.lower()
    natural = natural_key_label(spec)
    blank = (
        f" Blank: the {noun}'s {natural.lower()} is its key."
        if natural
        else f" Required: the {noun} has no number to stand for it."
    )
    if spec.has_lines:
        grouped = f"rows with the same key are one {noun}, each row one of its lines."
    else:
        grouped = f"one row is one {noun}, so a key is on one row only."
    return (
        f"Your own reference for the {noun}: {grouped}{blank} A key already imported is never "
        "imported twice."
    )


def ref_model(spec: DocumentSpec, spec_field: Field, *, line: bool):
    return spec.column(spec_field, line=line).related_model


def _ref_help(spec: DocumentSpec, spec_field: Field, *, line: bool) -> str:
    model = ref_model(spec, spec_field, line=line)
    noun = model._meta.verbose_name
    names = {f.name for f in model._meta.get_fields()}
    if spec_field.kind is Kind.LINK:
        return (
            f"The {noun} the line pays: its id in the accounting system or its number, among "
            f"the {spec.party_noun or spec.party}'s documents."
        )
    ways = ["its id in the accounting system", "its exact name"]
    if "code" in names:
        ways.append("its code" + (" (account number)" if noun == "account" else ""))
    if "email" in names:
        ways.append("its email")
    several = f" Several are separated by '{SEPARATOR}'." if spec_field.kind is not Kind.REF else ""
    return f"The {noun}: {', '.join(ways[:-1])} or {ways[-1]}.{several}"


def _help(spec: DocumentSpec, spec_field: Field, *, line: bool) -> tuple[str, tuple[str, ...]]:
    kind = spec_field.kind
    if kind is Kind.TEXT:
        limit = (
            spec.max_length(spec_field, line=line) or spec.column(spec_field, line=line).max_length
        )
        return (f"Text, at most {limit} characters." if limit else "Text."), ()
    if kind is Kind.DATE:
        return (
            "A date: 2026-03-31 is read the same everywhere; 31/03/2026 or 03/31/2026 follow "
            "the business's country when both could be meant, and the preview says how it read "
            "them. Date cells of a workbook are read as they are.",
            (),
        )
    if kind is Kind.DECIMAL:
        places = spec.column(spec_field, line=line).decimal_places
        more = " Greater than 0." if spec_field.positive else ""
        return (
            f"A number with at most {places} decimal places, such as 1234.50 or 1,234.50.{more}",
            (),
        )
    if kind is Kind.CURRENCY:
        if spec.party:
            blank = f"blank means the {spec.party_noun or spec.party}'s own currency"
        else:
            blank = "blank leaves it out, and the accounting system uses its own default"
        return f"A three-letter ISO 4217 code such as CAD; {blank}.", ()
    if kind is Kind.CHOICE:
        choices = spec.choices(spec_field, line=line)
        return f"One of: {', '.join(choices)}.", choices
    return _ref_help(spec, spec_field, line=line), ()


@cache
def columns_for(data_type: str) -> tuple[Column, ...]:
    """The columns of `data_type`'s sheet, in the template's order."""
    spec = registry.for_data_type(data_type).spec
    columns = [
        Column(KEY, None, help=_key_help(spec)),
        Column(
            STATUS,
            None,
            help=(
                "ready or draft. Blank: ready when nothing is missing, otherwise a draft to "
                "finish in the composer."
            ),
            allowed=("ready", "draft"),
        ),
    ]
    parts = [(False, spec.fields)]
    if spec.has_lines:
        parts.append((True, spec.line_fields))
    for line, fields in parts:
        for spec_field in fields:
            text, allowed = _help(spec, spec_field, line=line)
            columns.append(
                Column(
                    f"Line {spec_field.label}" if line else spec_field.label,
                    spec_field,
                    line=line,
                    help=text,
                    required="for a ready record" if spec_field.ready else "",
                    allowed=allowed,
                )
            )
    return tuple(columns)


def headers_for(data_type: str) -> list[str]:
    return [column.header for column in columns_for(data_type)]


def header_key(text: str) -> str:
    """How a header is compared: case and surrounding spaces are typing noise."""
    return " ".join(str(text or "").split()).casefold()
