"""What a line's tracking sends to Railz: the rows a person chose, as the v2 push schema has them.

The push schemas (PushInvoiceTrackingCategoryRef, BillTrackingCategoryRefDto,
CreditNoteTrackingCategoryRefDto) define a line's `trackingCategoryRefs[]` as `{id, type}`:
`id` is the tracking row to book and `type` its kind. There is no `optionId` on push (that is
a read-side field of old v1 shapes), so the row chosen is named by `id` itself, whether it is a
parent category (a QuickBooks class, a NetSuite department) or one of its options (a Xero
region): anything else would book the line to another row than the one chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["tracking_category_refs"]


def tracking_category_refs(rows: Iterable[Any]) -> list[dict[str, str]]:
    """`trackingCategoryRefs` of one line, from its TrackingOption rows, in a stable order.

    Each row goes out as `{"id": remote_id, "type": category_type}`; the order (category, then
    row) keeps the body, and so its hash, the same however the rows were loaded.
    """
    ordered = sorted(rows, key=lambda row: (row.category_remote_id, row.remote_id))
    return [{"id": row.remote_id, "type": row.category_type} for row in ordered]
