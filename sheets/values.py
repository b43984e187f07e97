"""Cells as people type them, turned into the values the record checks take.

Dates come as date cells, as 2026-03-31, or as 31/03/2026 and 03/31/2026: when both readings
are possible the business's country decides (month first for a business in the United States,
day first elsewhere) and the import says so. Numbers may carry thousands separators (1,234.50)
and spaces. Anything else is handed on as typed, so the record checks refuse it in the
composer's words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["DateOrder", "cell_date", "cell_decimal", "cell_text", "date_order_for"]


@dataclass(frozen=True)
class DateOrder:
    month_first: bool
    why: str  # "the business is in the United States"

    @property
    def example(self) -> str:
        return "03/04/2026 is 4 March 2026" if self.month_first else "03/04/2026 is 3 April 2026"


_US = {"us", "usa", "united states", "united states of america"}


def date_order_for(connection: Any) -> DateOrder:
    """How the business writes dates whose day and month could be swapped."""
    raw = connection.raw if isinstance(connection.raw, dict) else {}
    country = str(raw.get("country") or raw.get("countryCode") or "").strip().lower()
    if country:
        us = country in _US
        return DateOrder(us, f"the business is in {raw.get('country') or raw.get('countryCode')}")
    us = (connection.base_currency or "").upper() == "USD"
    currency = connection.base_currency or "unknown"
    return DateOrder(us, f"the business's base currency is {currency}")


_SLASHED = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_ISO_SLASHED = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")


def cell_date(value: Any, *, order: DateOrder) -> tuple[Any, bool]:
    """(the date, or the text as given when it is no date; whether the order decided it)."""
    if isinstance(value, dt.datetime):
        return value.date(), False
    if isinstance(value, dt.date):
        return value, False
    text = cell_text(value).strip()
    if not text:
        return None, False
    if len(text) in (10, 19) and text[4:5] == "-":
        try:
            return dt.date.fromisoformat(text[:10]), False
        except ValueError:
            return text, False
    if match := _ISO_SLASHED.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return _date_or_text(year, month, day, text), False
    if match := _SLASHED.fullmatch(text):
        first, second, year = (int(g) for g in match.groups())
        ambiguous = first <= 12 and second <= 12 and first != second
        if first > 12:
            day, month = first, second
        elif second > 12 or order.month_first:
            month, day = first, second
        else:
            day, month = first, second
        return _date_or_text(year, month, day, text), ambiguous
    for pattern in ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y"):
        try:
            return dt.datetime.strptime(text, pattern).date(), False
        except ValueError:
            continue
    return text, False


def _date_or_text(year: int, month: int, day: int, text: str) -> Any:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return text


_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def cell_decimal(value: Any) -> Any:
    """A number as the checks take it: Decimal, or the text as given (the checks say why not)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # A workbook stores numbers as floats: its shortest repr is what the person typed.
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    return text


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed as a code or a name: 4000, not 4000.0
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    return str(value)
