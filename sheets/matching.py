"""Finding the reference rows a sheet names, within one business, a few queries per file.

A cell names a customer, an account, an item... by its id in the accounting system, its code
(account number, item SKU, tax rate code), its email or its exact name, tried in that order.
A payment's document (an open invoice or bill) is named by its id or its number, and is looked
for among the documents of the payment's party when the row names one.
Every value of one kind in the whole file is looked up in one query (in batches of
`BATCH` values), never one query per row: a business with 100,000 customers is read for the
few thousand a file names. A value that names nobody, or several rows, is a problem at its
cell that offers the closest candidates.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db.models import Q

__all__ = ["Matched", "RefMatcher"]

BATCH = 2000
# Below this many rows, the suggestions for missing values read the whole list once; above
# it, a few rows starting like the value, for the first SUGGESTED missing values.
SMALL_TABLE = 500
NEAR = 200
SUGGESTED = 30
CLOSEST = 3


@dataclass(frozen=True)
class Matched:
    row: Any = None
    rule: str = ""
    message: str = ""


@cache
def _fields(model) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.concrete_fields)


class RefMatcher:
    """Collect every value first (`want`), then `resolve` once, then read matches (`get`)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._wanted: dict[Any, set[str]] = defaultdict(set)
        self._found: dict[Any, dict[str, Matched]] = {}
        self._hits: dict[Any, dict[str, list[Any]]] = {}
        self.queries = 0

    def want(self, model, value: str) -> None:
        self._wanted[model].add(value)

    def get(self, model, value: str, *, party: Any = None) -> Matched:
        """The row `value` names; of `party` only (an open document's customer or vendor)
        when given and the model records whose each row is."""
        matched = self._found[model][value]
        hits = self._hits[model].get(value)
        if party is None or not hits or "party_remote_id" not in _fields(model):
            return matched
        own = [
            row for row in hits if not row.party_remote_id or row.party_remote_id == party.remote_id
        ]
        if not own:
            noun = model._meta.verbose_name
            return Matched(
                rule="sameParty",
                message=f"{value!r} is not an {noun} of {party}: {_label(hits[0])} is "
                f"another's. Name one of {party}'s.",
            )
        return self._one(model, value, own)

    def resolve(self) -> None:
        for model, values in self._wanted.items():
            self._found[model] = self._resolve(model, sorted(values))

    def _resolve(self, model, values: list[str]) -> dict[str, Matched]:
        fields = _fields(model)
        keys = [k for k in ("remote_id", "code", "email") if k in fields] + ["name"]
        tracking = "category" in fields
        rows: list[Any] = []
        for start in range(0, len(values), BATCH):
            batch = values[start : start + BATCH]
            names = set(batch)
            if tracking:
                names |= {v.rpartition(":")[2].strip() for v in batch if ":" in v}
            condition = Q()
            for key in keys:
                condition |= Q(**{f"{key}__in": names if key == "name" else batch})
            queryset = model.objects.filter(connection=self.connection).filter(condition)
            if tracking:
                queryset = queryset.select_related("category")
            rows.extend(queryset)
            self.queries += 1
        index: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for row in rows:
            for key in keys:
                value = getattr(row, key)
                if value:
                    index[key, value].append(row)
            if tracking and row.category_id is not None:
                index["name", f"{row.category.name}: {row.name}"].append(row)
        found: dict[str, Matched] = {}
        self._hits[model] = {}
        missing: list[str] = []
        for value in values:
            for key in keys:
                hits = index.get((key, value)) or (
                    index.get(("name", _spaced(value))) if key == "name" and tracking else None
                )
                if hits:
                    self._hits[model][value] = hits
                    found[value] = self._one(model, value, hits)
                    break
            else:
                missing.append(value)
        suggestions = self._suggestions(model, missing)
        noun = model._meta.verbose_name
        ways = ", ".join(_way(k, model) for k in keys)
        for value in missing:
            closest = suggestions.get(value) or []
            offer = f" Closest: {'; '.join(closest)}." if closest else ""
            found[value] = Matched(
                rule="exists",
                message=f"No {noun} of this business has {value!r} as its {ways}.{offer}",
            )
        return found

    @staticmethod
    def _one(model, value: str, hits: list[Any]) -> Matched:
        unique = list({row.pk: row for row in hits}.values())
        if len(unique) > 1:
            active = [row for row in unique if not row.is_archived]
            if len(active) == 1:
                return Matched(active[0])
            named = "; ".join(f"{row} (id {row.remote_id})" for row in unique[: CLOSEST + 2])
            plural = model._meta.verbose_name_plural
            return Matched(
                rule="ambiguous",
                message=(
                    f"{value!r} names {len(unique)} {plural}: {named}. Write the id of the one "
                    "meant."
                ),
            )
        return Matched(unique[0])

    def _suggestions(self, model, missing: Iterable[str]) -> dict[str, list[str]]:
        """The closest active names to each of the first SUGGESTED missing values: the rows
        whose name starts like the value (a query each, at most SUGGESTED per kind), compared
        by similarity; a small list is read once instead."""
        missing = list(missing)[:SUGGESTED]
        if not missing:
            return {}
        active = (
            model.objects.filter(connection=self.connection)
            .active()
            .only("pk", "name", "remote_id")
        )
        small = list(active[: SMALL_TABLE + 1])
        self.queries += 1
        if len(small) <= SMALL_TABLE:
            return {value: _closest(value, small) for value in missing}
        result = {}
        for value in missing:
            near: list[Any] = []
            for length in (max(3, len(value) - 2), 3):
                self.queries += 1
                near = list(active.filter(name__istartswith=value[:length])[:NEAR])
                if len(near) >= CLOSEST:
                    break
            result[value] = _closest(value, near)
        return result


def _way(key: str, model) -> str:
    if key == "name" and "party_remote_id" in _fields(model):
        return "number"  # an open document's name is its number
    return key.replace("remote_id", "id").replace("_", " ")


def _spaced(value: str) -> str:
    head, _, tail = value.rpartition(":")
    return f"{head.strip()}: {tail.strip()}"


def _label(row: Any) -> str:
    return f"{row.name or row.remote_id} (id {row.remote_id})"


def _closest(value: str, rows: list[Any]) -> list[str]:
    names = {(row.name or row.remote_id): _label(row) for row in rows}
    close = difflib.get_close_matches(value, list(names), n=CLOSEST, cutoff=0.5)
    return [names[name] for name in close]
