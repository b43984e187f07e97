"""HTTP shell of the emulator: auth, the Railz API under /api, and the control endpoint.

Views are thin: they parse, check and call the services in records, pushes, webhooks and
faults. Every answer is JSON in Railz's shapes; every failure is Railz's error envelope,
never a 500 page.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from railzpush.emulator import background, control, pushes, records, tokens
from railzpush.emulator.faults import (
    Faults,
    daily_budget_hit,
    faults_apply_to_request,
    faults_for,
    provider_budget_hit,
    team_budget_hit,
)
from railzpush.emulator.models import EmuConnection, EmuPush
from railzpush.emulator.push_options import push_options
from railzpush.emulator.responses import (
    ApiError,
    dumps,
    error_response,
    json_response,
    raw_json_response,
)

logger = logging.getLogger(__name__)

FIRE_WEBHOOK_EVENTS = (
    "login",
    "auth",
    "connectionStatus",
    "customerRequest",
    "data",
    "dataPerType",
    "push",
    "batchPush",
    "delete",
)


@dataclass
class Call:
    """One API request as the handlers see it."""

    request: HttpRequest
    path: str
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    faults: Faults | None = None
    is_write: bool = False


# --- authentication -------------------------------------------------------------------------


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _credentials_ok(request: HttpRequest) -> bool:
    given = _basic_credentials(request)
    if given is None:
        return False
    id_ok = hmac.compare_digest(given[0].encode(), settings.RAILZ_CLIENT_ID.encode())
    secret_ok = hmac.compare_digest(given[1].encode(), settings.RAILZ_SECRET_KEY.encode())
    return id_ok and secret_ok


@csrf_exempt
def get_access(request: HttpRequest) -> HttpResponse:
    """GET /auth/getAccess with Basic client_id:secret_key -> {"access_token": <JWT>}."""
    if request.method not in ("GET", "POST"):
        return error_response(404, f"Cannot {request.method} /getAccess")
    if not _credentials_ok(request):
        return error_response(401, "Unauthorized")
    token = tokens.token_issue(customer_id=1, sandbox=settings.RAILZ_SECRET_KEY.startswith("SB_"))
    return json_response({"access_token": token})


def _check_bearer(request: HttpRequest) -> None:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Unauthorized")
    try:
        tokens.token_verify(token.strip())
    except tokens.InvalidToken:
        raise ApiError(401, "Unauthorized") from None


# --- API dispatch ------------------------------------------------------------------------------


Handler = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: Handler
    kwargs: dict


_routes: list[Route] | None = None


def _template(path: str) -> re.Pattern:
    pattern = re.sub(r"\\\{[^}]+\\\}", r"(?P<record_id>[^/]+)", re.escape(path))
    return re.compile(f"^{pattern}$")


def _routes_build() -> list[Route]:
    from railzpush.railz.datatypes import DATA_TYPES

    routes = [
        Route("GET", re.compile(r"^/v2/connections$"), connections, {}),
        Route("GET", re.compile(r"^/v2/businesses$"), businesses, {}),
        Route("GET", re.compile(r"^/v2/businesses/info$"), business_info, {}),
        Route("GET", re.compile(r"^/v2/data/pushStatus$"), push_status, {"deletes": False}),
        Route("GET", re.compile(r"^/v2/data/deleteStatus$"), push_status, {"deletes": True}),
        Route("GET", re.compile(r"^/v2/data/pushOptions$"), push_options_view, {}),
        Route("POST", re.compile(r"^/v2/sandbox/fireWebhooks$"), fire_webhooks, {}),
        Route("POST", re.compile(r"^/v2/data/sync$"), data_sync, {}),
    ]
    read_paths = dict(records.READ_PATHS)
    for entry in DATA_TYPES.values():
        if entry.read_path:
            read_paths.setdefault(entry.read_path, entry.name)
        for operation in entry.operations.values():
            routes.append(
                Route(
                    operation.method.upper(),
                    _template(operation.path),
                    push,
                    {"data_type": entry.name, "operation": operation},
                )
            )
    for path, data_type in read_paths.items():
        routes.append(Route("GET", _template(path), read_list, {"data_type": data_type}))
    # Literal paths before templated ones: /invoices/payments is not invoice "payments".
    routes.sort(key=lambda r: "{" in r.pattern.pattern or "(?P" in r.pattern.pattern)
    return routes


def _route(method: str, path: str) -> tuple[Route, dict]:
    global _routes
    if _routes is None:
        _routes = _routes_build()
    for route in _routes:
        match = route.pattern.match(path)
        if match and route.method == method:
            return route, {k: v for k, v in match.groupdict().items() if v is not None}
    raise ApiError(404, f"Cannot {method} {path}")


def _parse_body(request: HttpRequest) -> Any:
    raw = request.body
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Unexpected token in JSON body: {exc}") from None


def _connection_uuid_of(call: Call) -> str | None:
    uuid = call.params.get("connectionUuid")
    if uuid:
        return uuid
    body = call.body
    if isinstance(body, dict):
        if isinstance(body.get("connectionUuid"), str):
            return body["connectionUuid"]
        inner = body.get("connection")
        if isinstance(inner, dict) and isinstance(inner.get("connectionUuid"), str):
            return inner["connectionUuid"]
    return None


@csrf_exempt
def api(request: HttpRequest, path: str | None = None) -> HttpResponse:
    """Everything under /emulator/api: /v2/... as Railz serves it."""
    path = path or "/"
    headers: dict[str, str] = {}
    call = Call(request=request, path=path, params=request.GET.dict())
    response: HttpResponse
    try:
        _complete_due_pushes()
        headers = team_budget_hit()
        route, kwargs = _route(request.method, path)
        _check_bearer(request)
        call.is_write = request.method in ("POST", "PUT", "PATCH", "DELETE")
        if request.method in ("POST", "PUT", "PATCH"):
            call.body = _parse_body(request)
        call.faults = faults_for(_connection_uuid_of(call))
        faults_apply_to_request(call.faults)
        response = route.handler(call, **route.kwargs, **kwargs)
    except ApiError as exc:
        response = error_response(exc.status, exc.messages, exc.headers)
    except Exception:
        logger.exception("emulator failed on %s %s", request.method, path)
        response = error_response(500, "INTERNAL_ERROR")
    for name, value in headers.items():
        if name not in response:
            response[name] = value
    if call.is_write and response.status_code == 200 and call.faults and call.faults.lose_answer:
        _lose_answer(request, call.faults)
    return response


def _complete_due_pushes() -> None:
    background.ticker_ensure_started(pushes.pushes_complete_due)
    next_due = pushes.pushes_complete_due()
    if next_due is not None:
        background.next_due_note(next_due)


def _lose_answer(request: HttpRequest, faults: Faults) -> None:
    """The push is recorded; make sure its answer never reaches the client.

    Under Django's development server (runserver and the test live server) the socket is shut
    down, so the client sees the connection close without an answer. Elsewhere, or if the
    socket cannot be found, the answer stalls past the client's read timeout.
    """
    if faults.lose_answer == "drop":
        sock = _request_socket(request)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                return
            except OSError:
                pass
    time.sleep(faults.stall_seconds)


def _request_socket(request: HttpRequest) -> socket.socket | None:
    # wsgi.input is Django's LimitedStream over the handler's buffered socket file:
    # LimitedStream._read.__self__ -> BufferedReader.raw -> SocketIO._sock.
    node = request.META.get("wsgi.input")
    for _ in range(6):
        if node is None or isinstance(node, socket.socket):
            break
        read = getattr(node, "_read", None)
        node = (
            getattr(read, "__self__", None)
            or getattr(node, "stream", None)
            or getattr(node, "raw", None)
            or getattr(node, "_sock", None)
        )
    return node if isinstance(node, socket.socket) else None


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return error_response(404, f"Cannot {request.method} /{path}")


# --- reads ---------------------------------------------------------------------------------


def _meta(connection: EmuConnection, *, transactional: bool = False) -> dict:
    meta = {
        "connectionUuid": connection.connection_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
        "reportId": [connection.business_uuid[-24:].replace("-", "0")],
        "createdAt": records.iso(connection.created_at),
        "updatedAt": records.iso(timezone.now()),
    }
    if transactional:
        meta["startDate"] = "2020-01-01T00:00:00.000Z"
        meta["endDate"] = records.iso(timezone.now())
    return meta


def _page_response(
    *, items: list[str], status: int, offset: int, limit: int, count: int, meta: dict, extra=None
) -> HttpResponse:
    head = {"pagination": {"offset": offset, "limit": limit, "count": count}, **(extra or {})}
    head["meta"] = meta
    # Items are stored as JSON text: the body is assembled, never re-encoded row by row.
    body = dumps(head)[:-1] + ',"data":[' + ",".join(items) + "]}"
    return raw_json_response(body, status)


def _all_connections() -> list[EmuConnection]:
    return list(EmuConnection.objects.order_by("pk"))


def connections(call: Call) -> HttpResponse:
    filters = ("connectionUuid", "serviceName", "status", "businessUuid", "businessName")
    wanted = {k: call.params[k] for k in filters if call.params.get(k)}
    items = [json.loads(c.connection_json) for c in _all_connections()]
    items = [i for i in items if all(i.get(k) == v for k, v in wanted.items())]
    offset, limit, _ = records.read_params(call.params)
    return json_response({"meta": {"count": len(items)}, "data": items[offset : offset + limit]})


def businesses(call: Call) -> HttpResponse:
    items = [json.loads(c.business_json) for c in _all_connections()]
    if call.params.get("businessName"):
        items = [i for i in items if i.get("businessName") == call.params["businessName"]]
    offset, limit, _ = records.read_params(call.params)
    meta = {
        "count": len(items),
        "offset": offset,
        "limit": limit,
        "currentPage": offset // limit + 1,
        "totalPages": max(1, -(-len(items) // limit)),
    }
    return json_response({"meta": meta, "data": items[offset : offset + limit]})


def business_info(call: Call) -> HttpResponse:
    connection = records.connection_get(connection_uuid=call.params.get("connectionUuid"))
    meta = _meta(connection)
    meta["reportId"] = meta["reportId"][0]
    return raw_json_response(dumps({"meta": meta})[:-1] + ',"data":' + connection.info_json + "}")


def read_list(call: Call, *, data_type: str) -> HttpResponse:
    from railzpush.emulator import demo_data

    connection = records.connection_get(connection_uuid=call.params.get("connectionUuid"))
    offset, limit, order_by = records.read_params(call.params)
    if data_type in demo_data.REFERENCE_TYPES and not demo_data.supports(
        connection.service_name, data_type
    ):
        raise ApiError(404, "Endpoint Not Allowed")
    meta = _meta(connection, transactional=data_type in records.TRANSACTIONAL_TYPES)
    extra = {}
    if connection.data_ready_at and connection.data_ready_at > timezone.now():
        count, items, status = 0, [], 202
    elif call.params.get("id"):
        # A filter on the id (`{propertyName}={value}`): the record, or 200 with an empty list.
        record = records.record_get(
            connection=connection, data_type=data_type, remote_id=call.params["id"]
        )
        items = [record.body] if record is not None else []
        count, status = len(items), 200
        items = items[offset : offset + limit]
    else:
        count, items = records.records_page(
            connection=connection,
            data_type=data_type,
            offset=offset,
            limit=limit,
            order_by=order_by,
        )
        status = 200
        if not count:
            return HttpResponse(status=204)
    if data_type == "paymentMethods":
        extra["count"] = count
    return _page_response(
        items=items, status=status, offset=offset, limit=limit, count=count, meta=meta, extra=extra
    )


# --- pushes --------------------------------------------------------------------------------


def push(call: Call, *, data_type: str, operation, record_id: str | None = None) -> HttpResponse:
    from railzpush.railz.datatypes import Op, validate_request

    op = Op(operation.op)
    # A delete has no body: its connectionUuid comes in the query.
    body = {"connectionUuid": call.params.get("connectionUuid")} if op is Op.DELETE else call.body
    problems = validate_request(data_type, op, body)
    if problems:
        raise ApiError(400, [problem.message for problem in problems])
    connection = records.connection_get(connection_uuid=body["connectionUuid"])
    if connection.service_name not in operation.providers:
        raise ApiError(404, "Endpoint Not Allowed")
    if connection.status != "active":
        reason = records.connection_disconnect_reason(connection)
        raise ApiError(
            400,
            f"Connection {connection.connection_uuid} is not active ({connection.status}"
            + (f": {reason})" if reason else ")"),
        )
    provider_budget_hit(
        connection_uuid=connection.connection_uuid, service_name=connection.service_name
    )
    daily_budget_hit(
        connection_uuid=connection.connection_uuid, service_name=connection.service_name
    )
    batch = op in (Op.BATCH_CREATE, Op.BATCH_UPDATE)
    if batch:
        items = body["batch"]
        record_ids = [pushes.batch_target(data_type, item) for item in items]
    elif op is Op.DELETE:
        items, record_ids = [{}], [record_id or ""]
    else:
        items, record_ids = [body["data"]], [record_id or ""]
    accepted = pushes.pushes_accept(
        connection=connection,
        data_type=data_type,
        operation=op.value,
        items=items,
        record_ids=record_ids,
        batch=batch,
        hold=call.faults.stay_pending,
    )
    head = {
        "connectionUuid": connection.connection_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
    }
    requested_on = records.iso(accepted[0].requested_on)
    if op is Op.DELETE:
        answer = {
            **head,
            "deleteCommunicationId": accepted[0].communication_id,
            "requestedOn": requested_on,
            "status": "pending",
        }
    elif batch:
        answer = {
            **head,
            "batchId": accepted[0].batch_id,
            "batch": [
                {
                    "pushCommunicationId": p.communication_id,
                    "requestedOn": requested_on,
                    "status": "pending",
                    "data": item,
                }
                for p, item in zip(accepted, items, strict=True)
            ],
        }
    else:
        answer = {
            **head,
            "pushCommunicationId": accepted[0].communication_id,
            "requestedOn": requested_on,
            "status": "pending",
            "data": items[0],
        }
    return json_response(answer)


def push_status(call: Call, *, deletes: bool) -> HttpResponse:
    connection = records.connection_get(connection_uuid=call.params.get("connectionUuid"))
    queryset = EmuPush.objects.filter(connection=connection).select_related("connection")
    queryset = (
        queryset.filter(operation="delete") if deletes else queryset.exclude(operation="delete")
    )
    id_param = "deleteCommunicationId" if deletes else "pushCommunicationId"
    if call.params.get(id_param):
        queryset = queryset.filter(communication_id=call.params[id_param])
    if not deletes and call.params.get("batchId"):
        queryset = queryset.filter(batch_id=call.params["batchId"])
    items = [pushes.push_status_item(p) for p in queryset.order_by("-requested_on", "-pk")]
    meta = {
        "connectionUuid": connection.connection_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
        "count": len(items),
    }
    return json_response({"meta": meta, "data": items})


# Providers POST /v2/data/sync supports (its **Supported for:** list in the spec).
SYNC_PROVIDERS = (
    "freshbooks",
    "quickbooks",
    "xero",
    "oracleNetsuite",
    "sageBusinessCloud",
    "sageIntacct",
    "dynamicsBusinessCentral",
    "wave",
    "shopify",
    "square",
    "plaid",
    "zohoBooks",
)


def data_sync(call: Call) -> HttpResponse:
    """POST /v2/data/sync: queue a refresh of Railz's copy.

    Completed pushes are written to the emulator's records at once, so its copy is never
    behind and the sync has nothing to do; it answers as Railz does (the few fields Railz
    actually returns).
    """
    from railzpush.railz.datatypes import DATA_TYPES

    body = call.body if isinstance(call.body, dict) else {}
    problems = []
    if not isinstance(body.get("connectionUuid"), str) or not body.get("connectionUuid"):
        problems.append("connectionUuid should not be empty")
    data_type = body.get("dataType")
    data_types = body.get("dataTypes")
    if data_type is None and not data_types:
        problems.append("dataType or dataTypes should not be empty")
    known = set(DATA_TYPES) | set(records.READ_PATHS.values())
    for name in [data_type] if data_type is not None else list(data_types or []):
        if not isinstance(name, str) or name not in known:
            problems.append(f"dataType {name!r} is not a data type that can be synced")
    if problems:
        raise ApiError(400, problems)
    connection = records.connection_get(connection_uuid=body["connectionUuid"])
    if connection.service_name not in SYNC_PROVIDERS:
        raise ApiError(404, "Endpoint Not Allowed")
    answer = {
        "connectionUuid": connection.connection_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
        "requestedOn": records.iso(timezone.now()),
        "requestId": uuid.uuid4().hex,
    }
    if data_type is not None:
        answer["dataType"] = data_type
    else:
        answer["dataTypes"] = data_types
    return json_response(answer)


def push_options_view(call: Call) -> HttpResponse:
    connection = records.connection_get(connection_uuid=call.params.get("connectionUuid"))
    return json_response(
        {"data": push_options(connection=connection, data_type=call.params.get("dataType"))}
    )


def fire_webhooks(call: Call) -> HttpResponse:
    from railzpush.emulator import webhooks

    body = call.body if isinstance(call.body, dict) else {}
    inner = body.get("connection")
    problems = []
    if not isinstance(inner, dict):
        problems.append("connection should not be empty")
        inner = {}
    else:
        if not inner.get("connectionUuid"):
            problems.append("connection.connectionUuid should not be empty")
        if not inner.get("event"):
            problems.append("connection.event should not be empty")
        elif inner["event"] not in FIRE_WEBHOOK_EVENTS:
            problems.append(
                "connection.event must be one of the following values: "
                + ", ".join(FIRE_WEBHOOK_EVENTS)
            )
    if problems:
        raise ApiError(400, problems)
    connection = records.connection_get(connection_uuid=inner["connectionUuid"])
    webhooks.webhook_fire(connection=connection, fields=inner)
    return json_response(
        {
            "webhookFired": True,
            "connectionUuid": connection.connection_uuid,
            "businessUuid": connection.business_uuid,
        },
        status=201,
    )


# --- control -------------------------------------------------------------------------------


@csrf_exempt
def control_view(request: HttpRequest) -> HttpResponse:
    """GET the emulator's state, POST {"action": ...} to change it (Basic auth: the client
    credentials, so nothing reaches it by accident)."""
    if not _credentials_ok(request):
        response = error_response(401, "Unauthorized")
        response["WWW-Authenticate"] = 'Basic realm="railz-emulator"'
        return response
    try:
        if request.method == "GET":
            return json_response(control.state())
        if request.method != "POST":
            raise ApiError(404, f"Cannot {request.method} /_control/")
        body = _parse_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        return json_response(control.act(body))
    except ApiError as exc:
        return error_response(exc.status, exc.messages, exc.headers)
