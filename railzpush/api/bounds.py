"""What input the app accepts at all, checked before any of it reaches a serializer, a query or
a row: one JSON reader for the API and the webhook, and the checks of paths and query strings.

Each refusal is a 4xx naming its field and rule (`maxDepth`, `max`, `maxDigits`,
`maxDecimalPlaces`, `format`, `invalidCharacter`, `maxLength`, `maxSize`, `maxFields`,
`parseError`), never a 500: Python's JSON reader overflows its stack on deep nesting, turns
`1e1000000` into infinity and refuses integers of more than 4,300 digits with a ValueError, and
PostgreSQL refuses a NUL in any text or jsonb value, so each of those is stopped here, the same
way on every database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from rest_framework import status

from railzpush.api.errors import ApiError, ProblemsError, error

# An invoice is five levels deep (body, lines, a line, its tracking options, a reference), a
# Railz webhook about as deep; nothing legitimate comes near this.
MAX_DEPTH = 32
# Numbers: money and quantities have at most 18 whole digits and a few decimals in any
# accounting system; ids fit a 64-bit integer. Bounding the magnitude to 10^-18 <= |n| < 10^18
# (or zero) keeps every accepted number a finite float and every integer a valid bigint.
MAX_NUMBER_DIGITS = 30
MAX_NUMBER_LITERAL = 64
MAX_EXPONENT = 18
# A query parameter longer than this is no search term, id or filter anyone types; below
# Python's 4,300-digit limit, so no digits in a URL reach int() as a ValueError.
MAX_QUERY_VALUE = 2000
# A body with many bad values names the first ones, not a megabyte of errors.
MAX_ERRORS = 20

# In a body's strings: the C0 controls but tab, newline and carriage return (which free text
# such as a memo may hold), DEL, and lone UTF-16 surrogates, which no database can store.
_BODY_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# In JSON text a strict reader refuses raw control characters in strings; they can only come
# as \u escapes (or a raw DEL). Text without any of these needs no look at its strings.
_MAYBE_CHARACTERS = re.compile(r"\\u(?:00[01]|007[fF]|[dD][89a-fA-F])|\x7f")
# In a path or a query parameter nothing of the sort belongs, newlines included.
_URL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class BadInput(ProblemsError):
    """A request refused for what it carries; `status_code` is 400 unless said otherwise."""

    def __init__(self, errors: list[dict[str, str]], *, status_code: int = 400):
        super().__init__(errors)
        self.status_code = status_code


class _Refused:
    """A number the reader would not turn into a value, kept in place so the walk over the
    parsed body can name it by its path."""

    __slots__ = ("message", "rule")

    def __init__(self, rule: str, message: str):
        self.rule = rule
        self.message = message


def _int(literal: str) -> Any:
    # Up to 18 characters (a sign included) an integer is below 10^18: no need to look closer.
    return int(literal) if len(literal) <= MAX_EXPONENT else _number(literal, int)


def _float(literal: str) -> Any:
    # Without an exponent, 19 characters hold at most 18 digits, before the point (below
    # 10^18) or after it (at least 10^-17): no need to look closer.
    if len(literal) <= MAX_EXPONENT + 1 and "e" not in literal and "E" not in literal:
        return float(literal)
    return _number(literal, float)


def _number(literal: str, make) -> Any:
    if len(literal) > MAX_NUMBER_LITERAL:
        return _Refused("maxDigits", f"is a number of {len(literal)} characters")
    value = Decimal(literal)  # any JSON number literal is a valid Decimal, and exact
    if len(value.as_tuple().digits) > MAX_NUMBER_DIGITS:
        return _Refused("maxDigits", f"has more than {MAX_NUMBER_DIGITS} significant digits")
    # The exponent alone says the magnitude; arithmetic on `1e1000000` would overflow.
    if not value.is_zero() and value.adjusted() >= MAX_EXPONENT:
        return _Refused("max", f"is too large a number (it must be below 10^{MAX_EXPONENT})")
    if not value.is_zero() and value.adjusted() < -MAX_EXPONENT:
        return _Refused(
            "maxDecimalPlaces",
            f"is too small a number (more than {MAX_EXPONENT} decimal places)",
        )
    return make(literal)


def _constant(name: str) -> _Refused:
    return _Refused("format", f"is {name}, which is not a number JSON allows")


def _described(value: str) -> str:
    found = _BODY_CHARACTERS.search(value) or _URL_CHARACTERS.search(value)
    return f"U+{ord(found.group()):04X}" if found else "a control character"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _problems(value: Any) -> Iterator[dict[str, str]]:
    """Every refused number, bad character and too-deep value, by its path; iterative, so a
    body as deep as the reader allowed cannot overflow the stack here either."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, _Refused):
            yield error(path, item.rule, f"{path or 'The body'} {item.message}.")
        elif isinstance(item, str):
            if _BODY_CHARACTERS.search(item):
                yield _character_error(path, item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                yield error(
                    path, "maxDepth", f"The body is nested more than {MAX_DEPTH} levels deep."
                )
                continue
            if isinstance(item, dict):
                children = []
                for key, child in item.items():
                    if _BODY_CHARACTERS.search(key):
                        yield _character_error(path, key)  # the object holding the key
                        continue
                    children.append((child, _join(path, key), depth + 1))
            else:
                children = [(child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item)]
            stack.extend(reversed(children))  # reported in the order the body gives them


def _character_error(field: str, value: str) -> dict[str, str]:
    return error(
        field,
        "invalidCharacter",
        f"{field or 'The value'} contains {_described(value)}, a control character that is "
        "not accepted.",
    )


def _first(problems: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    found = []
    for problem in problems:
        found.append(problem)
        if len(found) == MAX_ERRORS:
            break
    return found


def json_loads(raw: bytes | str, *, encoding: str = "utf-8") -> Any:
    """Read a JSON body within the bounds above; raises BadInput naming what is wrong."""
    if len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise too_big()
    try:
        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
        refused: list[_Refused] = []

        def kept(number: Any) -> Any:
            if isinstance(number, _Refused):
                refused.append(number)
            return number

        value = json.loads(
            text,
            parse_int=lambda literal: kept(_int(literal)),
            parse_float=lambda literal: kept(_float(literal)),
            parse_constant=lambda name: kept(_constant(name)),
        )
    except RecursionError:
        raise BadInput(
            [error("", "maxDepth", f"The body is nested more than {MAX_DEPTH} levels deep.")]
        ) from None
    except UnicodeDecodeError as exc:
        raise BadInput(
            [error("", "parseError", f"The body is not {encoding} text: {exc}.")]
        ) from None
    except ValueError as exc:  # JSONDecodeError, with the line and column
        raise BadInput([error("", "parseError", f"The body is not valid JSON: {exc}.")]) from None
    # The walk that names each problem by its path is only taken when there may be one.
    if (refused or _MAYBE_CHARACTERS.search(text) or _too_deep(value)) and (
        problems := _first(_problems(value))
    ):
        raise BadInput(problems)
    return value


def _too_deep(value: Any) -> bool:
    """Whether any container is nested deeper than MAX_DEPTH (containers only, no paths)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def check_form(data) -> None:
    """A parsed form (a QueryDict): the same characters as a JSON body's strings."""
    problems = _first(
        _character_error(key, text)
        for key, values in data.lists()
        for text in (key, *(v for v in values if isinstance(v, str)))
        if _BODY_CHARACTERS.search(text)
    )
    if problems:
        raise BadInput(problems)


def url_problems(request) -> list[dict[str, str]]:
    """Control characters in the path or in a query parameter (name or value), parameters
    longer than MAX_QUERY_VALUE, and more of them than DATA_UPLOAD_MAX_NUMBER_FIELDS."""
    if _URL_CHARACTERS.search(request.path):
        return [_character_error("path", request.path)]
    if not request.META.get("QUERY_STRING"):
        return []  # no parameter: the empty QueryDict is not built for every request
    try:
        params = list(request.GET.lists())
    except TooManyFieldsSent:
        return [too_many_fields_error()]
    return _first(_param_problems(params))


def _param_problems(params) -> Iterator[dict[str, str]]:
    for name, values in params:
        for text in (name, *values):
            if _URL_CHARACTERS.search(text):
                yield _character_error(name or "query", text)
            elif len(text) > MAX_QUERY_VALUE:
                longest = f"{MAX_QUERY_VALUE:,} characters"
                yield error(name, "maxLength", f"{name or 'A parameter'} is over {longest}.")


def too_big(limit: int | None = None) -> BadInput:
    limit = limit or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return BadInput(
        [error("", "maxSize", f"The body is larger than the {limit:,} bytes accepted.")],
        status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def too_many_fields_error() -> dict[str, str]:
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return error("", "maxFields", f"The request has more than {limit:,} fields.")


def refusal_for(exc: Exception) -> ApiError | BadInput | None:
    """Django's refusals of a request's size or shape (raised when a body or form is read) in
    the API's terms; None for anything else."""
    if isinstance(exc, RequestDataTooBig):
        return too_big()
    if isinstance(exc, TooManyFieldsSent):
        return BadInput([too_many_fields_error()])
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return ApiError(f"The request has more than {limit:,} files.", rule="maxFiles")
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return ApiError(str(exc) or "The request is malformed.", rule="badRequest")
    return None
