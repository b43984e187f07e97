"""One HTTP exchange with Railz: sent, timed, logged and recorded without secrets.

Every request the library makes (API calls and the token fetch) goes through `perform`, so
logging and the `Exchange` records handed to `on_exchange` cannot drift apart.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import requests

from railzpush.railz.redact import redact, redact_text

logger = logging.getLogger("railzpush.railz")

# Bodies at DEBUG are cut so a 500-row page does not flood the log.
_DEBUG_BODY_CHARS = 2000


@dataclass(frozen=True)
class Exchange:
    """What was sent to Railz and what came back, with secrets removed.

    `status_code` is None when no answer arrived; `error` then says why. `response_body` is
    the decoded JSON (or the text when it was not JSON), redacted when first read: a listener
    that only times the call does not pay for copying a 500-row page.
    """

    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    status_code: int | None = None
    duration_ms: int = 0
    request_body: Any = None
    error: str | None = None
    _response: requests.Response | None = field(default=None, repr=False, compare=False)

    @cached_property
    def response_body(self) -> Any:
        return None if self._response is None else redact(decode_body(self._response))


ExchangeCallback = Callable[[Exchange], None]


_NOT_DECODED = object()


def decode_body(response: requests.Response) -> Any:
    """The response's JSON, its text when it is not JSON, or None when there is no body.

    Decoded once per response and kept on it: a 500-row page is large, and the exchange record,
    the error mapping and the caller all read the same body.
    """
    body = getattr(response, "_railz_body", _NOT_DECODED)
    if body is not _NOT_DECODED:
        return body
    if not response.content:
        body = None
    else:
        try:
            body = response.json()
        except ValueError:
            body = response.text
    response._railz_body = body
    return body


def _for_debug(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    return text[:_DEBUG_BODY_CHARS]


def perform(
    session: requests.Session,
    method: str,
    url: str,
    *,
    path: str,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: tuple[float, float],
    callbacks: Iterable[ExchangeCallback | None] = (),
    secrets: list[str] | None = None,
    describe: Callable[[requests.Response], str | None] | None = None,
) -> requests.Response:
    """Send one request; log it and report it to every callback, then return or re-raise.

    `describe` turns an answer into the readable error stored on the Exchange (None if fine).
    """
    query = redact(dict(params or {}))
    request_body = redact(json_body)
    started = time.perf_counter()
    response: requests.Response | None = None
    error: str | None = None
    try:
        response = session.request(
            method,
            url,
            params=params,
            json=json_body,
            headers=dict(headers or {}),
            auth=auth,
            timeout=timeout,
            # A redirected POST would be replayed as a GET by requests; never follow.
            allow_redirects=False,
        )
        return response
    except requests.RequestException as exc:
        error = redact_text(f"{type(exc).__name__}: {exc}", secrets or [])
        raise
    finally:
        duration_ms = int((time.perf_counter() - started) * 1000)
        status_code = response.status_code if response is not None else None
        listeners = [callback for callback in callbacks if callback is not None]
        if response is not None and describe is not None:
            error = describe(response)
        if response is not None:
            logger.info("Railz %s %s -> %s in %d ms", method, path, status_code, duration_ms)
        else:
            logger.warning(
                "Railz %s %s -> no answer in %d ms (%s)", method, path, duration_ms, error
            )
        exchange = Exchange(
            method=method,
            path=path,
            query=query,
            status_code=status_code,
            duration_ms=duration_ms,
            request_body=request_body,
            error=error,
            _response=response,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "Railz %s %s query=%s request=%s response=%s",
                method,
                path,
                query,
                _for_debug(request_body),
                _for_debug(exchange.response_body),
            )
        for callback in listeners:
            callback(exchange)
