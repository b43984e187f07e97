"""A tiny declarative language for Railz request bodies.

Railz validates every push synchronously (class-validator behind NestJS) and answers 400 with
one message per broken rule, e.g. ``"postedDate must be formatted as yyyy-mm-dd"``. The
registry in ``datatypes.py`` describes each push body with the nodes below, written by hand
from the Railz OpenAPI spec, so that the product can refuse a bad record before sending it
and the emulator can answer the way Railz does.

Nodes are immutable and built once at import time; ``validate`` walks a node against a value
and returns every problem it finds, not only the first, so a form can show them all at once.

Unknown fields are accepted on purpose: Railz silently drops fields it does not know.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "Array",
    "Boolean",
    "Integer",
    "Node",
    "Number",
    "Object",
    "PassThrough",
    "Problem",
    "Ref",
    "String",
    "validate",
]

DATE = "date"
DATE_TIME = "date-time"

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (``lines[2].accountRef.id``), which rule, and Railz's wording."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def _subject(path: str) -> str:
    return path or "request body"


def _problem(problems: list[Problem], path: str, rule: str, text: str) -> None:
    problems.append(Problem(path, rule, f"{_subject(path)} {text}"))


@dataclass(frozen=True, eq=False)
class Node:
    """Base of every schema node. ``required`` is about the node's place in its parent object."""

    required: bool = field(default=False, kw_only=True)

    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        raise NotImplementedError

    def as_required(self) -> Node:
        return dataclasses.replace(self, required=True)


@dataclass(frozen=True, eq=False)
class String(Node):
    max_length: int | None = None
    enum: tuple[str, ...] | None = None
    format: str | None = None  # DATE ("YYYY-MM-DD") or DATE_TIME (ISO 8601)

    def __post_init__(self) -> None:
        if self.format not in (None, DATE, DATE_TIME):
            raise ValueError(f"unsupported string format {self.format!r}")
        if self.enum is not None:
            object.__setattr__(self, "enum", tuple(self.enum))

    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        if not isinstance(value, str):
            _problem(problems, path, "type", "must be a string")
            return
        if self.max_length is not None and len(value) > self.max_length:
            _problem(
                problems,
                path,
                "maxLength",
                f"must be shorter than or equal to {self.max_length} characters",
            )
        if self.enum is not None and value not in self.enum:
            _problem(
                problems,
                path,
                "enum",
                f"must be one of the following values: {', '.join(self.enum)}",
            )
        if self.format == DATE and not _is_date(value):
            _problem(problems, path, "format", "must be formatted as yyyy-mm-dd")
        elif self.format == DATE_TIME and not _is_date_time(value):
            _problem(problems, path, "format", "must be a valid ISO 8601 date string")


def _is_date(value: str) -> bool:
    # The pattern first: fromisoformat alone would also take "20210329".
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: str) -> bool:
    if not _DATE_TIME_RE.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, eq=False)
class Number(Node):
    """A JSON number (the spec's ``number``/``float``). Booleans are not numbers."""

    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        # JSON cannot carry NaN or infinity; Python's json module would let them through.
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            _problem(problems, path, "type", "must be a number")


@dataclass(frozen=True, eq=False)
class Integer(Node):
    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        # JSON has one number type: 3.0 is an integer to Railz as it is to JavaScript.
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        ):
            _problem(problems, path, "type", "must be an integer number")


@dataclass(frozen=True, eq=False)
class Boolean(Node):
    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        if not isinstance(value, bool):
            _problem(problems, path, "type", "must be a boolean value")


@dataclass(frozen=True, eq=False)
class PassThrough(Node):
    """A free-form object handed to the accounting provider as is (Railz's ``passThrough``)."""

    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        if not isinstance(value, dict):
            _problem(problems, path, "type", "must be an object")


@dataclass(frozen=True, eq=False)
class Object(Node):
    """An object with known fields; fields it does not name are let through untouched."""

    fields: Mapping[str, Node]
    # Walked on every push: the (name, node) pairs are kept ready.
    _items: tuple[tuple[str, Node], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "_items", tuple(self.fields.items()))

    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        if not isinstance(value, dict):
            _problem(problems, path, "type", "must be an object")
            return
        prefix = f"{path}." if path else ""
        for name, node in self._items:
            item = value.get(name)
            # Railz treats null like an absent field, and "" as empty for a required one.
            if item is None or (item == "" and node.required):
                if node.required:
                    _problem(problems, prefix + name, "required", "should not be empty")
                continue
            node.check(item, prefix + name, problems)

    def extended(self, fields: Mapping[str, Node]) -> Object:
        """This object with ``fields`` added, or replaced where the name already exists."""
        return dataclasses.replace(self, fields={**self.fields, **fields})

    def without(self, *names: str) -> Object:
        missing = set(names) - set(self.fields)
        if missing:
            raise KeyError(f"no such fields: {', '.join(sorted(missing))}")
        return dataclasses.replace(
            self, fields={k: v for k, v in self.fields.items() if k not in names}
        )


@dataclass(frozen=True, eq=False)
class Array(Node):
    items: Node
    min_items: int | None = None

    def check(self, value: object, path: str, problems: list[Problem]) -> None:
        if not isinstance(value, list):
            _problem(problems, path, "type", "must be an array")
            return
        if self.min_items is not None and len(value) < self.min_items:
            if self.min_items == 1:
                _problem(problems, path, "minItems", "should not be empty")
            else:
                _problem(
                    problems, path, "minItems", f"must contain at least {self.min_items} elements"
                )
        items = self.items
        for index, item in enumerate(value):
            items.check(item, f"{path}[{index}]", problems)


def Ref(*, required: bool = False, extra: Mapping[str, Node] | None = None) -> Object:
    """A reference to another record on push: ``{"id": "..."}``, the ``id`` required."""
    return Object({"id": String(required=True), **(extra or {})}, required=required)


def validate(node: Node, value: object, path: str = "") -> list[Problem]:
    """Every problem of ``value`` against ``node``; an empty list means it is valid.

    ``path`` prefixes the reported paths (``validate(line, v, "lines[0]")``).
    """
    problems: list[Problem] = []
    node.check(value, path, problems)
    return problems
