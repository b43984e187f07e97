"""Rules documents share that the Railz schema cannot say, named so a declaration lists them.

A record rule takes the `Checked` record (`checked.values` holds the checked fields); a line
rule also takes the line's checked values and its index. Each adds problems with a rule code.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "discount_is_a_percentage",
    "due_date_not_before_posted_date",
    "line_needs_account_or_item",
]


def due_date_not_before_posted_date(checked: Any) -> None:
    posted, due = checked.values.get("posted_date"), checked.values.get("due_date")
    if posted and due and due < posted:
        checked.need(
            "dueDate",
            "dateOrder",
            f"Due date {due.isoformat()} is before the posted date {posted.isoformat()}.",
        )


def discount_is_a_percentage(checked: Any, line: dict[str, Any], index: int) -> None:
    discount = line.get("discount_percentage")
    if discount is not None and not (0 <= discount <= 100):
        checked.need(
            f"lines[{index}].discountPercentage",
            "range",
            f"Line {index + 1}: discount must be between 0 and 100 %.",
        )


def line_needs_account_or_item(checked: Any, line: dict[str, Any], index: int) -> None:
    # Railz Reference Types: a line books to an account, or to an item that carries one.
    if line.get("account") is None and line.get("item") is None:
        checked.need(
            f"lines[{index}].accountRef",
            "required",
            f"Line {index + 1}: choose an account or an item.",
        )
