"""Journal entry rules the Railz schema cannot say: a line has one side, and the entry balances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["debits_equal_credits", "line_is_a_debit_or_a_credit", "line_names_one_entity"]


def line_is_a_debit_or_a_credit(checked: Any, line: dict[str, Any], index: int) -> None:
    debit, credit = line.get("debit"), line.get("credit")
    at = f"lines[{index}]"
    for side, value in (("debit", debit), ("credit", credit)):
        if value is not None and value < 0:
            checked.need(
                f"{at}.{side}",
                "min",
                f"Line {index + 1}: a {side} is never negative; enter it on the other side.",
            )
    if debit and credit:
        # Never both: the providers book one side a line.
        checked.refuse(
            f"{at}.credit",
            "oneSide",
            f"Line {index + 1}: a line is a debit or a credit, never both; split it in two.",
        )
    elif not debit and not credit:
        checked.need(f"{at}.debit", "required", f"Line {index + 1}: enter a debit or a credit.")


def line_names_one_entity(checked: Any, line: dict[str, Any], index: int) -> None:
    # entityRef names one customer or one vendor.
    if line.get("customer") is not None and line.get("vendor") is not None:
        checked.refuse(
            f"lines[{index}].entityRef",
            "oneOf",
            f"Line {index + 1}: choose a customer or a vendor, not both.",
        )


def debits_equal_credits(checked: Any) -> None:
    """Both sides add up to the same amount in the entry's currency, or it cannot be ready."""
    debits = sum((line.get("debit") or Decimal(0) for line in checked.lines), Decimal(0))
    credits = sum((line.get("credit") or Decimal(0) for line in checked.lines), Decimal(0))
    if debits == credits:
        return
    currency = checked.values.get("currency") or ""
    money = f"{currency} " if currency else ""
    checked.need(
        "lines",
        "balanced",
        f"Debits ({money}{debits:.2f}) and credits ({money}{credits:.2f}) differ by "
        f"{money}{abs(debits - credits):.2f}: a journal entry must balance.",
    )
