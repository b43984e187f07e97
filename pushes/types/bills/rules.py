"""Bill rules the Railz schema cannot say."""

from __future__ import annotations

from typing import Any


def netsuite_needs_a_subsidiary(checked: Any) -> None:
    # Oracle NetSuite books every bill to a subsidiary; without one it refuses the bill.
    if checked.connection.service_name == "oracleNetsuite" and not checked.values["subsidiaries"]:
        checked.need(
            "subsidiaryRefs",
            "required",
            "Oracle NetSuite needs a subsidiary on every bill; choose one.",
        )
