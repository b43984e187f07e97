"""JSON answers in Railz's shapes, the error envelope above all.

Every Railz error is ``{"error": {"statusCode", "message": [...], "error"}, "payload": {}}``
with `message` a list naming every problem.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import HttpResponse


class ApiError(Exception):
    """Raised anywhere under a view: answered as Railz's error envelope."""

    def __init__(
        self, status: int, messages: list[str] | str, *, headers: dict | None = None
    ) -> None:
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.headers = headers or {}
        super().__init__("; ".join(self.messages))


def dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def json_response(obj: object, status: int = 200) -> HttpResponse:
    return raw_json_response(dumps(obj), status)


def raw_json_response(body: str | bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def error_body(status: int, messages: list[str]) -> dict:
    return {
        "error": {"statusCode": status, "message": messages, "error": HTTPStatus(status).phrase},
        "payload": {},
    }


def error_response(status: int, messages: list[str] | str, headers: dict | None = None):
    error = ApiError(status, messages, headers=headers)
    response = json_response(error_body(error.status, error.messages), error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response
