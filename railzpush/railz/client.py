"""The Railz API client: reads with retries and paging, writes that are sent exactly once.

Policy in one place:
- Every call has a connect and a read timeout and takes one request from the shared budget.
- GETs are retried (exponential backoff, full jitter) on 429, 5xx and transport errors.
- Writes are never retried here: Railz has no idempotency key, so a resend can create a second
  record. A write whose answer was lost raises RailzOutcomeUnknown, and the caller checks the
  push status before anything is sent again.
- A 401 drops the shared token and the call is sent once more with a fresh one (Railz did not
  process the first), then RailzAuthError.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from railzpush.railz.auth import AccessTokens
from railzpush.railz.datatypes import DataType, Op, Operation, data_type
from railzpush.railz.errors import (
    RailzAuthError,
    RailzConflict,
    RailzDataNotReady,
    RailzError,
    RailzNotSupported,
    RailzOutcomeUnknown,
    RailzRateLimited,
    RailzRejected,
    RailzServerError,
    RailzTransportError,
)
from railzpush.railz.exchange import ExchangeCallback, decode_body, perform
from railzpush.railz.ratelimit import UNREAD, RateBudget, retry_after_seconds

logger = logging.getLogger("railzpush.railz")

MAX_PAGE_LIMIT = 500
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class Page:
    """One page of a Railz list: its items and where it sits in the whole result."""

    offset: int
    limit: int
    count: int | None
    items: list[dict[str, Any]]
    status_code: int


def _railz_messages(body: Any) -> tuple[list[str], str]:
    """`message[]` and `error` from Railz's envelope (or the unwrapped 404 form)."""
    if not isinstance(body, dict):
        return ([body.strip()[:300]] if isinstance(body, str) and body.strip() else []), ""
    inner = body["error"] if isinstance(body.get("error"), dict) else body
    raw = inner.get("message")
    if isinstance(raw, list):
        messages = [str(item) for item in raw if item not in (None, "")]
    elif isinstance(raw, str) and raw:
        messages = [raw]
    else:
        messages = []
    label = inner.get("error") if isinstance(inner.get("error"), str) else ""
    return messages, label


def _nothing_was_sent(exc: BaseException) -> bool:
    """True when the request failed before any byte reached Railz (so a write is safe)."""
    if isinstance(
        exc,
        requests.ConnectTimeout
        | requests.exceptions.SSLError
        | requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return True
    # requests wraps urllib3's errors (MaxRetryError -> NewConnectionError, ProtocolError ->
    # RemoteDisconnected); walk the chain to find what actually happened.
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError | ConnectionRefusedError):
            return True
        stack.extend(current.args)
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
    return False


class EnvironmentOnceSession(requests.Session):
    """A session that reads the environment's settings once per host and prepares a plain
    request without requests' general merging.

    requests reads the proxy and CA bundle settings from os.environ on every request (twice,
    for the proxy and its exceptions), which cost about a tenth of a push's CPU; they do not
    change while a process runs, so the first answer for a scheme and host is kept. The same
    goes for the netrc file's credentials.

    Preparing a request merged the session's cookies, headers, parameters and auth into the
    request's through generic code (runtime protocol checks on each mapping, a netrc lookup on
    disk, two cookie jar copies): a third of a send's CPU under the profiler. This session
    never holds parameters or auth, so while it holds no cookie either (none until an answer
    sets one) and the request brings none, the merge is done here directly; anything else
    takes requests' path. The prepared request is requests' own, built by its own steps.
    """

    def __init__(self) -> None:
        super().__init__()
        self._merged: dict[tuple, dict[str, Any]] = {}
        self._netrc: dict[tuple[str, str], Any] = {}

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if (
            self.cookies
            or self.auth
            or self.params
            or request.cookies
            or request.auth
            or request.files
            or not isinstance(request.url, str)
        ):
            return super().prepare_request(request)
        headers = requests.structures.CaseInsensitiveDict(self.headers)
        for name, value in (request.headers or {}).items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method.upper(),
            url=request.url,
            data=request.data,
            json=request.json,
            headers=headers,
            params=request.params or None,
            auth=self._netrc_auth(request.url) if self.trust_env else None,
            cookies=requests.cookies.RequestsCookieJar(),
            hooks=requests.sessions.merge_hooks(request.hooks, self.hooks),
        )
        return prepared

    def _netrc_auth(self, url: str) -> Any:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._netrc:
            self._netrc[key] = requests.utils.get_netrc_auth(url)
        return self._netrc[key]

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            tuple(sorted((proxies or {}).items())),
            stream,
            verify,
            cert,
        )
        merged = self._merged.get(key)
        if merged is None:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._merged[key] = merged
        return {**merged, "proxies": dict(merged["proxies"])}


class RailzClient:
    """Talks to the Railz API. Takes plain arguments; `get_client()` builds one from settings.

    `cache` is any Django-cache-like object (`get`, `set`, `add`, `incr`, `delete`); sharing
    it between processes shares the access token and the request budget. `clock`, `sleep`
    and `jitter` are injectable so tests never wait.
    """

    def __init__(
        self,
        *,
        api_url: str,
        auth_url: str,
        client_id: str,
        secret_key: str,
        cache: Any,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        rate_limit_per_minute: int = 1000,
        provider_limits: Mapping[str, int] | None = None,
        get_retries: int = 4,
        max_wait: float = 30.0,
        not_ready_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        registry: Callable[[str], DataType] | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.get_retries = get_retries
        self.max_wait = max_wait
        self.not_ready_retries = not_ready_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.session = session or EnvironmentOnceSession()
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.registry = registry or data_type
        self.on_exchange = on_exchange
        self._secret_key = secret_key
        self.cache = cache
        self.tokens = AccessTokens(
            auth_url=auth_url,
            client_id=client_id,
            secret_key=secret_key,
            cache=cache,
            session=self.session,
            timeout=self.timeout,
            clock=clock,
        )
        self.budget = RateBudget(
            cache=cache,
            # Railz counts per team, i.e. per key pair: the same id shares one budget.
            scope=self.tokens.cache_key.rsplit(":", 1)[-1],
            limit_per_minute=rate_limit_per_minute,
            provider_limits=provider_limits,
            clock=clock,
            sleep=sleep,
            max_wait=max_wait,
        )

    # --- reads --------------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        *,
        connection_uuid: str,
        limit: int = MAX_PAGE_LIMIT,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[Page]:
        """Every page of a list such as `/v2/accounting/customers` for one connection.

        Waits (bounded) while Railz answers 202 (data still being prepared), then raises
        RailzDataNotReady; a 204 (no data) yields nothing.
        """
        return self._pages(path, {**(params or {}), "connectionUuid": connection_uuid}, limit)

    def connections(self, *, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """All connections of the team (every page of GET /v2/connections)."""
        return [item for page in self._pages("/v2/connections", params) for item in page.items]

    def businesses(self, *, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """All businesses of the team (every page of GET /v2/businesses)."""
        return [item for page in self._pages("/v2/businesses", params) for item in page.items]

    def business_info(self, *, connection_uuid: str) -> dict[str, Any]:
        """The business behind a connection: currencies, subsidiaries and their locations."""
        body = self._get_json("/v2/businesses/info", {"connectionUuid": connection_uuid})
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def push_status(
        self,
        *,
        connection_uuid: str,
        push_communication_id: str | None = None,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Outcome of pushes on a connection (GET /v2/data/pushStatus): `{meta, data: [...]}`."""
        return self._get_json(
            "/v2/data/pushStatus",
            {
                "connectionUuid": connection_uuid,
                "pushCommunicationId": push_communication_id,
                "batchId": batch_id,
            },
        )

    def delete_status(
        self, *, connection_uuid: str, delete_communication_id: str | None = None
    ) -> dict[str, Any]:
        """Outcome of deletes on a connection (GET /v2/data/deleteStatus)."""
        return self._get_json(
            "/v2/data/deleteStatus",
            {"connectionUuid": connection_uuid, "deleteCommunicationId": delete_communication_id},
        )

    def push_options(self, *, connection_uuid: str, data_type: str | None = None) -> dict[str, Any]:
        """Fields the connection's accounting system needs (GET /v2/data/pushOptions)."""
        return self._get_json(
            "/v2/data/pushOptions", {"connectionUuid": connection_uuid, "dataType": data_type}
        )

    def record_read(
        self, data_type: str, *, connection_uuid: str, record_id: str
    ) -> dict[str, Any] | None:
        """One record of the accounting system as Railz's synced copy has it, or None.

        Railz has no GET by id for accounting records: its list of the type is filtered on
        `id` (`{propertyName}={value}`), and only an item with exactly that id is returned.
        RailzNotSupported for a type this application cannot read.
        """
        try:
            entry = self.registry(data_type)
        except KeyError as exc:
            raise RailzNotSupported(f"Records of type {data_type!r} cannot be read.") from exc
        if not getattr(entry, "read_path", None):
            raise RailzNotSupported(f"Railz has no list of {entry.label_plural} to read from.")
        body = self._get_json(
            entry.read_path, {"connectionUuid": connection_uuid, "id": record_id, "limit": 1}
        )
        for item in body.get("data") or []:
            if isinstance(item, dict) and str(item.get("id")) == str(record_id):
                return item
        return None

    def data_sync(
        self, *, connection_uuid: str, data_type: str, on_exchange: ExchangeCallback | None = None
    ) -> dict[str, Any]:
        """Ask Railz to refresh its copy of one data type now (POST /v2/data/sync), so that a
        record pushed a moment ago can be read back."""
        response = self._send(
            "POST",
            "/v2/data/sync",
            body={"connectionUuid": connection_uuid, "dataType": data_type},
            connection_uuid=connection_uuid,
            on_exchange=on_exchange,
        )
        return self._write_answer(response)

    # --- writes -------------------------------------------------------------------------------

    def create(
        self,
        data_type: str,
        *,
        connection_uuid: str,
        data: dict[str, Any],
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> dict[str, Any]:
        """POST one record; returns Railz's answer (`status: pending`, `pushCommunicationId`)."""
        return self._write(
            data_type,
            Op.CREATE,
            connection_uuid=connection_uuid,
            body={"connectionUuid": connection_uuid, "data": data},
            service_name=service_name,
            on_exchange=on_exchange,
        )

    def update(
        self,
        data_type: str,
        *,
        connection_uuid: str,
        record_id: str,
        data: dict[str, Any],
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> dict[str, Any]:
        """PUT a record already in the accounting system (`record_id` = its source object id)."""
        return self._write(
            data_type,
            Op.UPDATE,
            connection_uuid=connection_uuid,
            record_id=record_id,
            body={"connectionUuid": connection_uuid, "data": data},
            service_name=service_name,
            on_exchange=on_exchange,
        )

    def delete(
        self,
        data_type: str,
        *,
        connection_uuid: str,
        record_id: str,
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> dict[str, Any]:
        """DELETE a record; returns Railz's answer with its `deleteCommunicationId`."""
        return self._write(
            data_type,
            Op.DELETE,
            connection_uuid=connection_uuid,
            record_id=record_id,
            params={"connectionUuid": connection_uuid},
            service_name=service_name,
            on_exchange=on_exchange,
        )

    def batch_create(
        self,
        data_type: str,
        *,
        connection_uuid: str,
        items: list[dict[str, Any]],
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> dict[str, Any]:
        """POST several records at once; returns `batchId` and one `batch[]` entry per item."""
        return self._write(
            data_type,
            Op.BATCH_CREATE,
            connection_uuid=connection_uuid,
            body={"connectionUuid": connection_uuid, "batch": items},
            service_name=service_name,
            on_exchange=on_exchange,
        )

    def batch_update(
        self,
        data_type: str,
        *,
        connection_uuid: str,
        items: list[dict[str, Any]],
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> dict[str, Any]:
        """Update several records at once (each item names its target record)."""
        return self._write(
            data_type,
            Op.BATCH_UPDATE,
            connection_uuid=connection_uuid,
            body={"connectionUuid": connection_uuid, "batch": items},
            service_name=service_name,
            on_exchange=on_exchange,
        )

    def fire_webhook(
        self,
        *,
        connection_uuid: str,
        event: str,
        on_exchange: ExchangeCallback | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Ask the sandbox to send a webhook (POST /v2/sandbox/fireWebhooks).

        Extra fields may be given in snake_case (`push_communication_id=...`); they are sent
        in Railz's camelCase.
        """
        connection = {"connectionUuid": connection_uuid, "event": event}
        connection.update({_camel(name): value for name, value in fields.items()})
        response = self._send(
            "POST",
            "/v2/sandbox/fireWebhooks",
            body={"connection": connection},
            on_exchange=on_exchange,
        )
        return self._write_answer(response)

    # --- plumbing -----------------------------------------------------------------------------

    def _operation(self, data_type: str, op: Op, service_name: str | None) -> Operation:
        """The registry's Operation, or RailzNotSupported before anything is sent."""
        try:
            entry = self.registry(data_type)
        except KeyError as exc:
            raise RailzNotSupported(
                f"Records of type {data_type!r} cannot be sent to Railz by this application."
            ) from exc
        plural = getattr(entry, "label_plural", entry.label)
        operation = entry.operations.get(op)
        if operation is None:
            raise RailzNotSupported(f"Railz cannot {op.label} {plural}.")
        if service_name is not None and service_name not in operation.providers:
            raise RailzNotSupported(f"Railz cannot {op.label} {plural} in {service_name}.")
        return operation

    def _write(
        self,
        data_type: str,
        op: Op,
        *,
        connection_uuid: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        record_id: str | None = None,
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> dict[str, Any]:
        operation = self._operation(data_type, op, service_name)
        path = operation.path
        if record_id is not None:
            if not str(record_id).strip():
                raise ValueError("record_id must not be empty")
            path = _PLACEHOLDER.sub(quote(str(record_id), safe=""), path)
        response = self._send(
            operation.method.upper(),
            path,
            params=params,
            body=body,
            connection_uuid=connection_uuid,
            service_name=service_name,
            on_exchange=on_exchange,
        )
        return self._write_answer(response)

    def _write_answer(self, response: requests.Response) -> dict[str, Any]:
        body = decode_body(response)
        if isinstance(body, dict):
            return body
        # Accepted, but without the ids needed to follow the push up: as good as lost.
        raise RailzOutcomeUnknown(status_code=response.status_code)

    def _get_json(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        response = self._get(path, params)
        body = decode_body(response)
        if response.status_code == 204 or body is None:
            return {}
        if not isinstance(body, dict):
            raise RailzServerError(
                "Railz answered in an unexpected format; try again later.",
                status_code=response.status_code,
            )
        return body

    def _pages(
        self, path: str, params: Mapping[str, Any] | None, limit: int = MAX_PAGE_LIMIT
    ) -> Iterator[Page]:
        if type(limit) is not int or not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ValueError(
                f"limit must be a whole number from 1 to {MAX_PAGE_LIMIT}; got {limit!r}"
            )
        return self._page_iterator(path, dict(params or {}), limit)

    def _page_iterator(self, path: str, params: dict[str, Any], limit: int) -> Iterator[Page]:
        offset = 0
        while True:
            response = self._get_ready(path, {**params, "offset": offset, "limit": limit})
            if response.status_code == 204:
                return
            body = decode_body(response)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise RailzServerError(
                    "Railz answered with a list in an unexpected format; try again later.",
                    status_code=response.status_code,
                )
            items = body["data"]
            count = _total_count(body)
            yield Page(
                offset=offset,
                limit=limit,
                count=count,
                items=items,
                status_code=response.status_code,
            )
            offset += len(items)
            if len(items) < limit or (count is not None and offset >= count):
                return

    def _get_ready(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        """GET, waiting with backoff while Railz answers 202 (data still being prepared)."""
        for attempt in range(self.not_ready_retries + 1):
            response = self._get(path, params)
            if response.status_code != 202:
                return response
            if attempt == self.not_ready_retries:
                break
            delay = min(self.backoff_cap, self.backoff_base * 2**attempt)
            logger.info("Railz GET %s: data not ready (202); asking again in %.1f s", path, delay)
            self.sleep(delay)
        raise RailzDataNotReady(status_code=202)

    def _get(self, path: str, params: Mapping[str, Any] | None) -> requests.Response:
        """GET with retries on 429, 5xx and transport errors (exponential, full jitter)."""
        clean = {key: value for key, value in (params or {}).items() if value is not None}
        attempt = 0
        while True:
            try:
                return self._send("GET", path, params=clean)
            except RailzError as exc:
                if not exc.retryable or attempt >= self.get_retries:
                    raise
                if exc.retry_after is not None and exc.retry_after > self.max_wait:
                    raise
                if exc.retry_after is not None and isinstance(exc, RailzRateLimited):
                    # The budget recorded Railz's pause; the next acquire waits it out, for
                    # every process at once.
                    delay = 0.0
                elif exc.retry_after is not None:
                    delay = exc.retry_after  # a 503's Retry-After
                else:
                    delay = self.jitter() * min(self.backoff_cap, self.backoff_base * 2**attempt)
                attempt += 1
                logger.warning(
                    "Railz GET %s failed (%s); retry %d of %d in %.1f s",
                    path,
                    type(exc).__name__,
                    attempt,
                    self.get_retries,
                    delay,
                )
                if delay > 0:
                    self.sleep(delay)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        connection_uuid: str | None = None,
        service_name: str | None = None,
        on_exchange: ExchangeCallback | None = None,
    ) -> requests.Response:
        """One request (two if the token was refused); returns a 2xx answer or raises."""
        is_write = method in _WRITE_METHODS
        callbacks = (self.on_exchange, on_exchange)
        for first_try in (True, False):
            # The shared pause and the shared token, both read for every request: one cache
            # round trip. After a wait, the token is read again.
            pause_key, token_key = self.budget.pause_key, self.tokens.cache_key
            known = self.cache.get_many([pause_key, token_key])
            waited = self.budget.acquire(
                connection_uuid=connection_uuid,
                service_name=service_name if is_write else None,
                paused_until=known.get(pause_key),
            )
            token = self.tokens.get(
                callbacks=callbacks, entry=UNREAD if waited else known.get(token_key)
            )
            try:
                response = perform(
                    self.session,
                    method,
                    self.api_url + path,
                    path=path,
                    params=params,
                    json_body=body,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.timeout,
                    callbacks=callbacks,
                    secrets=[token, self._secret_key],
                    describe=lambda answer: _describe(method, answer, self.clock()),
                )
            except requests.RequestException as exc:
                raise _transport_error(exc, is_write=is_write) from exc
            self.budget.observe(response.headers, status_code=response.status_code)
            if response.status_code == 401 and first_try:
                # Railz did not process the call: fetch a fresh token and send it once more.
                self.tokens.discard(token)
                continue
            error = _error_for(method, response, self.clock())
            if error is not None:
                raise error
            return response
        raise AssertionError("unreachable")  # pragma: no cover


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _total_count(body: dict[str, Any]) -> int | None:
    """The size of the whole result: `pagination.count`, else `meta.count` (connections)."""
    for holder in (body.get("pagination"), body.get("meta"), body):
        if isinstance(holder, dict):
            count = holder.get("count")
            if isinstance(count, int) and not isinstance(count, bool):
                return count
    return None


def _transport_error(exc: requests.RequestException, *, is_write: bool) -> RailzError:
    if _nothing_was_sent(exc):
        return RailzTransportError()
    if not is_write:
        # A read that lost its answer is harmless to ask again.
        return RailzTransportError(
            "Railz did not answer in time or the connection dropped; try again later."
        )
    if isinstance(exc, requests.Timeout):
        return RailzOutcomeUnknown(
            "The request was sent to Railz but no answer came back in time, so it is not "
            "known whether the accounting system received it. Check its status before "
            "sending it again."
        )
    return RailzOutcomeUnknown(
        "The connection to Railz dropped after the request was sent, so it is not known "
        "whether the accounting system received it. Check its status before sending it again."
    )


def _error_for(method: str, response: requests.Response, now: float) -> RailzError | None:
    """The error a Railz answer means for this method, or None for a success."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    is_write = method in _WRITE_METHODS
    messages, label = _railz_messages(decode_body(response))
    details = {"status_code": status, "messages": messages}
    if status == 400:
        return RailzRejected(**details)
    if status in (401, 403):
        return RailzAuthError(**details)
    if status == 404:
        if "endpoint not allowed" in " ".join([*messages, label]).lower():
            return RailzNotSupported(**details)
        return RailzRejected(
            "Railz could not find what was asked for"
            + (f": {'; '.join(messages)}." if messages else "."),
            **details,
        )
    if status == 409:
        return RailzConflict(**details)
    if status == 429:
        wait = retry_after_seconds(response.headers, now=now)
        return RailzRateLimited(retry_after=wait, **details)
    if status == 503 or (status >= 500 and not is_write):
        # 503 is maintenance: nothing was processed, so even a write may be sent again later
        # (when its Retry-After says, if it names a time).
        named = "Retry-After" in response.headers
        wait = retry_after_seconds(response.headers, now=now) if named else None
        return RailzServerError(retry_after=wait, **details)
    if status >= 500:
        return RailzOutcomeUnknown(
            f"Railz answered with a server error (HTTP {status}) after the request was sent, "
            "so it is not known whether the accounting system received it. Check its status "
            "before sending it again.",
            **details,
        )
    return RailzRejected(f"Railz answered with an unexpected status (HTTP {status}).", **details)


def _describe(method: str, response: requests.Response, now: float) -> str | None:
    error = _error_for(method, response, now)
    return str(error) if error is not None else None
