"""The cap on lines per record, checked the same way by every record type and every way in.

RECORD_MAX_LINES is what the accounting systems accept on one record (see the setting); a
longer record is refused with the rule `maxItems` at `lines`, before anything is written and,
in the REST API, before its lines are even read one by one.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings

from pushes.spec import FieldProblem

__all__ = ["CappedLinesSerializer", "lines_cap_problem", "max_lines"]

RULE = "maxItems"


def max_lines() -> int:
    return settings.RECORD_MAX_LINES


def lines_cap_problem(
    count: int, *, record: str = "A record", path: str = "lines", cap: int | None = None
) -> FieldProblem | None:
    """The problem of a record with `count` lines, or None if it is within the cap (a record
    type's own `cap`, else RECORD_MAX_LINES)."""
    cap = cap or max_lines()
    if count <= cap:
        return None
    return FieldProblem(
        path,
        f"{record} can have at most {cap} lines, the most the accounting systems accept on "
        f"one record; this one has {count}. Split it into several.",
        RULE,
    )


class CappedLinesSerializer(serializers.ListSerializer):
    """`many=True` lines refused as a whole when there are more than the cap, before each line
    is validated (which is what would take the time)."""

    def to_internal_value(self, data):
        problem = lines_cap_problem(len(data)) if isinstance(data, list) else None
        if problem is not None:
            raise ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail(problem.message, code=RULE)]}
            )
        return super().to_internal_value(data)
