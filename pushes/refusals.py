"""A provider's or Railz's refusal of a push, in a bookkeeper's words.

Railz passes on the accounting system's validation errors as `{"field": "invoiceNumber",
"message": "... already been used for customer 0f4f77d6-..."}`. People read the field by its
label ("Invoice number", "Line 2: account"), the referenced record by its name ("customer
"Beacon Brewing Company"") and, where it can be told, what to do next. The record's page shows
each refusal at the field it concerns; lists, the dashboard and the push pages say the same
words. Names are read from the reference-data mirror, in one query per reference type for a
whole page of pushes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from pushes import registry
from pushes.models import PushRequest
from pushes.push_options_selectors import provider_label

__all__ = ["Refusal", "reference_names", "refusals_by_push", "refusals_in_words"]

_PATH = re.compile(r"^(?P<head>[A-Za-z]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>[A-Za-z]+))?")


@dataclass(frozen=True)
class Refusal:
    """One refusal: where it points, and what it says."""

    field_name: str  # the record's (or its line's) model field, "" when it names none
    line: int | None  # the line's position (0-based) when the refusal is about a line
    label: str  # "Invoice number", "Line 2: account", "" when it names no field
    message: str  # the provider's message, ids replaced by the names they stand for
    next_step: str

    @property
    def words(self) -> str:
        head = (
            f"{self.label}: "
            if self.label and not self.message.lower().startswith(self.label.lower())
            else ""
        )
        message = self.message if self.message.endswith((".", "!", "?")) else f"{self.message}."
        tail = f" {self.next_step}" if self.next_step else ""
        return f"{head}{message}{tail}"


def _ref_ids(value: Any, found: set[str]) -> None:
    """Every `...Ref: {"id": ...}` id of a push body."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("Ref") and isinstance(item, dict) and isinstance(item.get("id"), str):
                found.add(item["id"])
            elif key.endswith("Refs") and isinstance(item, list):
                found.update(
                    i["id"] for i in item if isinstance(i, dict) and isinstance(i.get("id"), str)
                )
            else:
                _ref_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _ref_ids(item, found)


def _ref_models(spec) -> list:
    models = []
    for line in (False, True):
        for spec_field in spec.ref_fields(line=line):
            model = spec.column(spec_field, line=line).related_model
            if model not in models:
                models.append(model)
    return models


def _names(pushes: list[PushRequest]) -> dict[tuple[int, str], tuple[str, str]]:
    """(connection id, remote id) -> (what it is, its name), for every id the pushes name."""
    return _names_in((p.data_type, p.connection_id, p.body) for p in pushes)


def reference_names(*, data_type: str, connection_id: int, body: Any) -> dict[str, str]:
    """Remote id -> name of every record a request body refers to (for showing beside ids)."""
    found = _names_in([(data_type, connection_id, body)])
    return {remote_id: name for (_, remote_id), (_, name) in found.items()}


def _names_in(bodies) -> dict[tuple[int, str], tuple[str, str]]:
    wanted: dict[type, Q] = {}
    for data_type, connection_id, body in bodies:
        ids: set[str] = set()
        _ref_ids(body, ids)
        if not ids:
            continue
        try:
            spec = registry.for_data_type(data_type).spec
        except registry.UnknownPushable:
            continue
        for model in _ref_models(spec):
            condition = Q(connection_id=connection_id, remote_id__in=ids)
            wanted[model] = wanted[model] | condition if model in wanted else condition
    names = {}
    for model, condition in wanted.items():
        noun = str(model._meta.verbose_name)
        for connection_id, remote_id, name in model.objects.filter(condition).values_list(
            "connection_id", "remote_id", "name"
        ):
            if name:
                names[(connection_id, remote_id)] = (noun, name)
    return names


def _next_step(message: str, *, label: str, provider: str, party: str) -> str:
    text = message.lower()
    what = label.lower()
    if "already" in text and ("used" in text or "exists" in text):
        return (
            f"This number is already used in {provider} for this {party}: choose another "
            "number, then push again."
        )
    if any(word in text for word in ("not found", "does not exist", "archived", "inactive")):
        if not label:
            return (
                f"Check what the record refers to, or sync the reference data if it was just "
                f"changed in {provider}; then push again."
            )
        return (
            f"Choose another {what}, or sync the reference data if it was just changed in "
            f"{provider}; then push again."
        )
    if label:
        return f"Correct the {what}, then push again."
    return ""


def _one(push: PushRequest, error: dict, names: dict, spec) -> Refusal:
    path = str(error.get("field") or "")
    message = str(error.get("message") or "").strip()
    for (connection_id, remote_id), (noun, name) in names.items():
        if connection_id != push.connection_id or remote_id not in message:
            continue
        message = message.replace(f"{noun} {remote_id}", f'{noun} "{name}"')
        message = message.replace(remote_id, f'"{name}"')
    field_name, line, label = "", None, ""
    match = _PATH.match(path) if spec is not None else None
    if match is not None:
        head, index, rest = match["head"], match["index"], match["rest"]
        if head == "lines" and index is not None:
            line = int(index)
            spec_field = spec.field_at(rest or "", line=True)
            label = f"Line {line + 1}" + (f": {spec_field.label}" if spec_field else "")
            field_name = spec_field.name if spec_field else ""
        else:
            spec_field = spec.field_at(head)
            if spec_field is not None:
                field_name, label = spec_field.name, spec_field.label
    elif path:
        label = path
    party = (spec.party_noun or spec.party) if spec is not None else "party"
    provider = provider_label(push.connection.service_name) if push.connection_id else ""
    return Refusal(
        field_name=field_name,
        line=line,
        label=label,
        message=message,
        next_step=_next_step(
            message, label=label, provider=provider or "the accounting system", party=party
        ),
    )


def refusals_by_push(pushes: Iterable[PushRequest]) -> dict[int, list[Refusal]]:
    """The refusals of each push that has any, by push id: one query per reference type."""
    pushes = [p for p in pushes if p.validation_errors]
    names = _names(pushes)
    found = {}
    for push in pushes:
        try:
            spec = registry.for_data_type(push.data_type).spec
        except registry.UnknownPushable:
            spec = None
        found[push.pk] = [
            _one(push, error, names, spec)
            for error in push.validation_errors
            if isinstance(error, dict) and error.get("message")
        ]
    return found


def refusals_in_words(push: PushRequest) -> list[Refusal]:
    return refusals_by_push([push]).get(push.pk, [])
