"""Reads of the kept pushOptions: what a provider requires, and whether its rules are known yet.

A provider's rules are known for a data type and operation once a copy was fetched (a row
exists), even if Railz described nothing. Until then a record can pass every check railzpush
has and still be refused by the accounting system, so nothing may call it ready without saying
so: `push_rules_unchecked` gives the sentence that says it.
"""

from __future__ import annotations

from typing import Any

from pushes.models import ProviderPushOptions
from pushes.read_memo import memoized
from railzpush.railz.datatypes import DATA_TYPES, PROVIDER_LABELS, Op
from refs.models import Connection

__all__ = [
    "provider_label",
    "push_operation_for",
    "push_options_kept",
    "push_options_required",
    "push_rules_unchecked",
]

# The operations pushOptions describes (its `method`): a create is a POST, an update a PUT.
OPERATIONS = (ProviderPushOptions.Operation.CREATE, ProviderPushOptions.Operation.UPDATE)


def provider_label(service_name: str) -> str:
    return PROVIDER_LABELS.get(service_name, service_name)


def push_operation_for(record: Any) -> str:
    """The operation a push of `record` would be: update once the accounting system has it."""
    if getattr(record, "provider_record_id", ""):
        return ProviderPushOptions.Operation.UPDATE
    return ProviderPushOptions.Operation.CREATE


def push_options_kept(
    *, connection: Connection | int, data_type: str, operation: str = Op.CREATE
) -> ProviderPushOptions | None:
    """The kept copy for one data type and operation, or None if it was never fetched."""
    connection_id = getattr(connection, "pk", connection)
    return memoized(
        ("push options", connection_id, data_type, operation),
        lambda: ProviderPushOptions.objects.filter(
            connection=connection_id, data_type=data_type, operation=operation
        ).first(),
    )


def push_options_required(
    *, connection: Connection | int, data_type: str, operation: str = Op.CREATE
) -> dict[str, str]:
    """{field path: description} of what the kept pushOptions mark required.

    An update whose own copy describes nothing follows the create's: Railz may describe only
    the create, and its rules apply to an update as well.
    """
    kept = push_options_kept(connection=connection, data_type=data_type, operation=operation)
    entries = [e for e in (kept.options if kept else []) if isinstance(e, dict)]
    if not entries and operation == ProviderPushOptions.Operation.UPDATE:
        create = push_options_kept(connection=connection, data_type=data_type)
        entries = [e for e in (create.options if create else []) if isinstance(e, dict)]
    required: dict[str, str] = {}
    for entry in entries:
        properties = entry.get("properties")
        if not isinstance(properties, dict):
            continue
        for path, prop in properties.items():
            if isinstance(prop, dict) and prop.get("required") is True:
                required[path] = str(prop.get("description") or "").strip().rstrip(".")
    return required


def push_rules_unchecked(
    *, connection: Connection, data_type: str, operation: str = Op.CREATE
) -> str:
    """ "" when the provider's rules for this push are known; else the sentence saying they
    are not: "Not yet checked against Xero's rules (…)"."""
    if push_options_kept(connection=connection, data_type=data_type, operation=operation):
        return ""
    # Every type's list has the action: name the list of the record's own type.
    known = DATA_TYPES.get(data_type)
    listed = known.label.lower() if known is not None else data_type
    return (
        f"Not yet checked against {provider_label(connection.service_name)}'s rules: its push "
        "rules (pushOptions) have not been fetched yet. They are fetched when the connection "
        f"is discovered and daily; the {listed} list's \"Fetch the accounting system's push "
        'rules again" action fetches them now.'
    )
