"""Invoice rules the Railz schema cannot say."""

from __future__ import annotations

from typing import Any


def xero_line_needs_account_or_item(checked: Any, line: dict[str, Any], index: int) -> None:
    # Railz Reference Types: "When pushing invoices to Xero, accountRef is required if no
    # inventoryRef is used."
    if checked.connection.service_name != "xero":
        return
    if line.get("account") is None and line.get("item") is None:
        checked.need(
            f"lines[{index}].accountRef",
            "required",
            f"Line {index + 1}: Xero needs an account or an item on every line; choose one.",
        )
