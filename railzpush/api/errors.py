"""One error shape for every API failure: `{"errors": [{"field", "rule", "message"}]}`.

`field` is a path into the request (`lines[2].account`, `Idempotency-Key`) or, for a record's
rules, the path the composer reports (`lines[2].accountRef`); "" when the error is about the
request as a whole. `rule` is a short camelCase name a program can branch on (`required`,
`maxLength`, `notAuthenticated`, `pushInFlight`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

# Paths whose clients are programs: they get the error shape, whatever went wrong (the input
# bounds middleware and the 500 handler both ask).
JSON_PATHS = ("/api/", "/webhooks/")


def is_json_path(request) -> bool:
    return request.path_info.startswith(JSON_PATHS)


# DRF's error codes, named the way Railz names its validation rules.
RULES = {
    "blank": "required",
    "null": "required",
    "required": "required",
    "max_length": "maxLength",
    "min_length": "minLength",
    "invalid_choice": "enum",
    "empty": "minItems",
    "not_a_list": "type",
    "not_a_dict": "type",
    "max_value": "max",
    "min_value": "min",
    "does_not_exist": "exists",
    "incorrect_type": "type",
    "date": "format",
    "datetime": "format",
    "max_digits": "format",
    "max_decimal_places": "format",
    "max_whole_digits": "format",
}


def rule_name(code: str | None) -> str:
    """`max_length` -> `maxLength`: DRF and Django codes in the API's vocabulary."""
    if not code:
        return "invalid"
    if code in RULES:
        return RULES[code]
    head, *rest = str(code).split("_")
    return head + "".join(part.title() for part in rest)


def error(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": field, "rule": rule, "message": str(message)}


class ApiError(APIException):
    """An API refusal that names its field and rule (409s of pushes, idempotency keys...)."""

    def __init__(self, message: str, *, rule: str, field: str = "", status_code: int = 400):
        super().__init__(detail=message, code=rule)
        self.status_code = status_code
        self.rule = rule
        self.field = field


class ProblemsError(APIException):
    """A 400 carrying ready-made errors (e.g. a record's validation problems)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__(detail=errors[0]["message"] if errors else "Invalid request.")
        self.errors = errors


def _join(path: str, key: str) -> str:
    if key == api_settings.NON_FIELD_ERRORS_KEY:
        return path
    return f"{path}.{key}" if path else key


def _flatten(details: Any, path: str = "") -> Iterable[dict[str, str]]:
    """Walk DRF's nested `get_full_details()` and name each leaf by its path."""
    if isinstance(details, Mapping):
        if set(details) == {"message", "code"}:
            yield error(path, rule_name(details["code"]), details["message"])
            return
        for key, value in details.items():
            # A ListSerializer reports only its failing items, keyed by their index.
            child = f"{path}[{key}]" if isinstance(key, int) else _join(path, str(key))
            yield from _flatten(value, child)
    elif isinstance(details, list):
        leafs = all(isinstance(d, Mapping) and set(d) == {"message", "code"} for d in details)
        for index, value in enumerate(details):
            # A list of messages belongs to the field itself; a list of anything else (a
            # nested serializer with many=True) is indexed, and empty entries are lines
            # without errors.
            yield from _flatten(value, path if leafs else f"{path}[{index}]")


def errors_from_details(details: Any) -> list[dict[str, str]]:
    """DRF's `get_full_details()` (of a serializer, say) as a flat list of named errors."""
    return list(_flatten(details))


def errors_from_django(exc: DjangoValidationError) -> list[dict[str, str]]:
    """A model or service ValidationError in the API's shape."""
    found = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = "" if field == "__all__" else field
            for item in errors:
                found.extend(
                    error(name, rule_name(item.code), message) for message in item.messages
                )
    else:
        for item in exc.error_list:
            found.extend(error("", rule_name(item.code), message) for message in item.messages)
    return found


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (status, WWW-Authenticate, Retry-After), then the body in our shape."""
    if isinstance(exc, DjangoValidationError):
        return Response({"errors": errors_from_django(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django log it and answer 500
    if isinstance(exc, ProblemsError):
        errors = exc.errors
    elif isinstance(exc, ApiError):
        errors = [error(exc.field, exc.rule, str(exc.detail))]
    else:
        errors = list(_flatten(exc.get_full_details()))
    if not errors:
        errors = [error("", "invalid", "The request is invalid.")]
    response.data = {"errors": errors}
    return response


def server_error(request, *args, **kwargs):
    """Django's `handler500`: an API or webhook caller gets the error shape, staff the admin's
    page. Django has already logged the exception by the time this runs."""
    from django.http import JsonResponse
    from django.views import defaults

    if is_json_path(request):
        message = "Something went wrong on our side; nothing was changed. Try again later."
        return JsonResponse(
            {"errors": [{"field": "", "rule": "serverError", "message": message}]}, status=500
        )
    return defaults.server_error(request, *args, **kwargs)
