"""The emulator's control API, shared by /emulator/_control/ and the management commands.

POST bodies are {"action": <name>, ...}:
- {"action": "reset"}: forget pushes, created records, deliveries, faults and counters, and
  seed the demo businesses again.
- {"action": "set_faults", "connectionUuid"?: ..., <fault>: <value>, ...}: switch faults on or
  off for one connection (every request without connectionUuid). Faults: latency_ms,
  error_rate (0..1, share of requests answered with error_status, every 1/rate-th request),
  error_status (default 503), storm_requests (next N requests answer 429), storm_seconds
  (every request answers 429 for that long), stay_pending (pushes never complete),
  duplicate_webhooks, out_of_order_webhooks (the final state, then an earlier one),
  lose_answer ("drop": the socket is closed without an answer; "stall": the answer waits
  stall_seconds, default the client's read timeout + 1 s), stall_seconds.
- {"action": "clear_faults", "connectionUuid"?: ...}: all faults (of one connection) off.
- {"action": "mark", "connectionUuid", "dataType": "invoices", "id", "status": "paid"}: a
  record changed in the accounting system (paid or voided invoices refuse updates).
- {"action": "set_data_ready", "connectionUuid"?: ..., "seconds": 30}: reads answer 202 for
  that long.
- {"action": "revoke", "connectionUuid", "reason"?: "authorizationRevoked"}: the business
  revoked the connection (status disconnected, with that disconnectReason): pushes to it are
  refused with the reason. {"action": "reconnect", "connectionUuid"}: it is active again.
- {"action": "set_daily_limit", "connectionUuid", "limit": 10000}: the provider's daily cap of
  writes for the connection (0: none); past it a write answers 429 until 00:00 UTC.
- {"action": "set_webhook", "url"?: ..., "secret"?: ...}: where webhooks go ("" = settings).
- {"action": "complete_due"}: complete the pushes that are due now.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from railzpush.emulator import pushes, records, webhooks
from railzpush.emulator.faults import (
    FAULT_FIELDS,
    daily_limit_set,
    fault_set,
    fault_state,
    faults_clear,
    faults_counters_reset,
)
from railzpush.emulator.models import (
    EmuConnection,
    EmuControl,
    EmuFault,
    EmuPush,
    EmuRecord,
    EmuTypeCount,
    EmuWebhookDelivery,
)
from railzpush.emulator.responses import ApiError

RECORD_STATUSES = ("open", "draft", "partiallyPaid", "paid", "void", "unknown")


def emulator_reset(*, counts: dict[str, int] | None = None) -> list[str]:
    """Forget everything and seed the demo businesses again."""
    faults_counters_reset()
    with transaction.atomic():
        EmuWebhookDelivery.objects.all().delete()
        EmuPush.objects.all().delete()
        EmuRecord.objects.all().delete()
        EmuTypeCount.objects.all().delete()
        EmuConnection.objects.all().delete()
        EmuFault.objects.all().delete()
        EmuControl.objects.all().delete()
    from django.core.cache import cache

    from railzpush.emulator.background import NEXT_DUE_KEY

    cache.delete(NEXT_DUE_KEY)
    return records.emulator_seed(counts=counts)


def faults_set_from(body: dict) -> EmuFault:
    scope = body.get("connectionUuid") or ""
    if scope:
        records.connection_get(connection_uuid=scope)
    values = {k: v for k, v in body.items() if k in FAULT_FIELDS}
    if "storm_seconds" in body:
        seconds = body["storm_seconds"]
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ApiError(400, "storm_seconds must be a number of seconds")
        values["storm_until"] = timezone.now() + timedelta(seconds=seconds) if seconds else None
    unknown = set(body) - set(FAULT_FIELDS) - {"action", "connectionUuid", "storm_seconds"}
    if unknown:
        raise ApiError(400, [f"{name} is not a fault" for name in sorted(unknown)])
    row = fault_set(scope=scope, **values)
    if values.get("stay_pending") is False:
        pushes.pushes_release_held()
    return row


def state() -> dict:
    url, secret = webhooks.webhook_config()
    counts: dict[int, dict[str, int]] = {}
    for connection_id, data_type, count in EmuTypeCount.objects.values_list(
        "connection_id", "data_type", "count"
    ):
        counts.setdefault(connection_id, {})[data_type] = count
    return {
        "connections": [
            {
                "connectionUuid": c.connection_uuid,
                "businessName": c.business_name,
                "serviceName": c.service_name,
                "status": c.status,
                "dataReadyAt": c.data_ready_at.isoformat() if c.data_ready_at else None,
                "counts": counts.get(c.pk, {}),
            }
            for c in EmuConnection.objects.order_by("pk")
        ],
        "faults": [fault_state(row) for row in EmuFault.objects.order_by("scope")],
        "webhook": {"url": url, "secretSet": bool(secret)},
        "pushes": {
            status: EmuPush.objects.filter(status=status).count()
            for status in (EmuPush.PENDING, EmuPush.SUCCESS, EmuPush.FAILED)
        },
        "webhookDeliveries": [
            {
                "requestId": d.request_id,
                "event": d.event,
                "communicationId": d.communication_id,
                "status": d.status,
                "url": d.url,
                "attempt": d.attempt,
                "responseStatus": d.response_status,
                "error": d.error,
                "createdAt": d.created_at.isoformat(),
            }
            for d in EmuWebhookDelivery.objects.order_by("-pk")[:50]
        ],
    }


def act(body: dict) -> dict:
    """Carry out one control action; the emulator's state afterwards."""
    action = body.get("action")
    if action == "reset":
        emulator_reset()
    elif action == "set_faults":
        faults_set_from(body)
    elif action == "clear_faults":
        scope = body.get("connectionUuid")
        faults_clear(scope=scope or None)
        pushes.pushes_release_held()
    elif action == "mark":
        status = body.get("status")
        if status not in RECORD_STATUSES:
            allowed = ", ".join(RECORD_STATUSES)
            raise ApiError(400, f"status must be one of the following values: {allowed}")
        connection = records.connection_get(connection_uuid=body.get("connectionUuid"))
        records.record_set_status(
            connection=connection,
            data_type=body.get("dataType") or "invoices",
            remote_id=str(body.get("id") or ""),
            status=status,
        )
    elif action == "set_data_ready":
        seconds = body.get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ApiError(400, "seconds must be a number of seconds, 0 or more")
        uuid_ = body.get("connectionUuid")
        connection = records.connection_get(connection_uuid=uuid_) if uuid_ else None
        records.connection_set_data_ready(connection=connection, seconds=seconds)
    elif action in ("revoke", "reconnect"):
        connection = records.connection_get(connection_uuid=body.get("connectionUuid"))
        reason = body.get("reason", "authorizationRevoked") if action == "revoke" else ""
        if not isinstance(reason, str):
            raise ApiError(400, "reason must be a Railz disconnectReason")
        records.connection_set_status(
            connection=connection,
            status="disconnected" if action == "revoke" else "active",
            reason=reason,
        )
    elif action == "set_daily_limit":
        connection = records.connection_get(connection_uuid=body.get("connectionUuid"))
        limit = body.get("limit")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ApiError(400, "limit must be a whole number of requests a day, 0 or more")
        daily_limit_set(connection_uuid=connection.connection_uuid, limit=limit)
    elif action == "set_webhook":
        webhooks.webhook_configure(url=body.get("url"), secret=body.get("secret"))
    elif action == "complete_due":
        pushes.pushes_complete_due()
    else:
        raise ApiError(
            400,
            "action must be one of the following values: reset, set_faults, clear_faults, "
            "mark, set_data_ready, revoke, reconnect, set_daily_limit, set_webhook, complete_due",
        )
    return state()


def state_json() -> str:
    return json.dumps(state(), indent=2)
