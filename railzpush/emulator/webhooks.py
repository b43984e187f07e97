"""Signed webhook deliveries, as Railz makes them: POST, up to three tries, no ordering promise.

Every delivery attempt is a row, so tests and the control endpoint can see what was sent, to
where, and what the receiver answered. Deliveries run on background threads; the faults can
duplicate an event or deliver an earlier state after a later one.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

import requests
from django.conf import settings
from django.db import transaction

from railzpush.emulator import background, records
from railzpush.emulator.faults import faults_for
from railzpush.emulator.models import EmuControl, EmuPush, EmuWebhookDelivery
from railzpush.emulator.responses import dumps

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # the first try and Railz's two retries


def webhook_config() -> tuple[str, str]:
    """(url, secret): the control endpoint's override, else the settings."""
    control = EmuControl.objects.first()
    url = (control and control.webhook_url) or settings.RAILZ_EMULATOR_WEBHOOK_URL
    secret = (control and control.webhook_secret) or settings.RAILZ_WEBHOOK_SECRET
    return url, secret


def webhook_configure(*, url: str | None = None, secret: str | None = None) -> EmuControl:
    control = EmuControl.objects.first() or EmuControl()
    if url is not None:
        control.webhook_url = url
    if secret is not None:
        control.webhook_secret = secret
    control.save()
    return control


def push_event(push: EmuPush, *, status: str | None = None) -> dict:
    """The `push` (or `delete`) event data for a completed push."""
    connection = push.connection
    status = status or push.status
    data = {
        "event": "delete" if push.is_delete else "push",
        "connectionId": connection.connection_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
        ("deleteCommunicationId" if push.is_delete else "pushCommunicationId"): (
            push.communication_id
        ),
        "sourceObjectIds": json.loads(push.source_object_ids),
        "dataType": push.data_type,
        "requestedOn": records.iso(push.requested_on),
        "completedOn": records.iso(push.completed_on or push.requested_on),
        "status": status,
        "responseCode": push.response_code if status != EmuPush.PENDING else 202,
        "validation": {"errors": json.loads(push.errors)},
    }
    return data


def batch_event(pushes: list[EmuPush], *, status: str | None = None) -> dict:
    """The `batchPush` event of one batch; its `batch[]` in the order of the request."""
    first = pushes[0]
    connection = first.connection
    items = []
    for push in pushes:
        item = push_event(push, status=status)
        for key in ("event", "connectionId", "businessName", "serviceName"):
            item.pop(key)
        items.append(item)
    return {
        "event": "batchPush",
        "connectionId": connection.connection_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
        "batchId": first.batch_id,
        "batch": items,
    }


def push_completed(*, push: EmuPush) -> None:
    """Send the webhook for a push that has just completed (once the completion is committed)."""
    if push.batch_id:
        siblings = list(
            EmuPush.objects.filter(batch_id=push.batch_id)
            .select_related("connection")
            .order_by("pk")
        )
        if any(s.status == EmuPush.PENDING for s in siblings):
            return
        events = [batch_event(siblings)]
        earlier = batch_event(siblings, status=EmuPush.PENDING)
    else:
        events = [push_event(push)]
        earlier = push_event(push, status=EmuPush.PENDING)
    if faults_for(push.connection.connection_uuid).out_of_order_webhooks:
        # A later state delivered before an earlier one: the receiver must not go back.
        events.append(earlier)
    events_send(
        events=events,
        connection_uuid=push.connection.connection_uuid,
        communication_id=push.communication_id,
    )


def events_send(*, events: list[dict], connection_uuid: str, communication_id: str = "") -> None:
    """Deliver events, in this order, on a background thread after the current commit."""
    url, secret = webhook_config()
    faults = faults_for(connection_uuid)
    bodies = []
    for data in events:
        body = dumps({"data": data, "requestId": str(uuid.uuid4())})
        bodies.append((data, body))
        if faults.duplicate_webhooks:
            bodies.append((data, body))

    def deliver_all() -> None:
        for data, body in bodies:
            _deliver(
                url=url,
                secret=secret,
                body=body,
                event=data["event"],
                status=data.get("status", ""),
                communication_id=communication_id,
            )

    transaction.on_commit(lambda: background.run_in_background(deliver_all, name="webhook"))


def _deliver(
    *, url: str, secret: str, body: str, event: str, status: str, communication_id: str
) -> None:
    from railzpush.railz.signatures import sign

    raw = body.encode()
    request_id = json.loads(body)["requestId"]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        response_status, error = None, ""
        try:
            response = requests.post(
                url,
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "Railz-Signature": sign(raw, secret),
                    "Railz-API-Version": "v2",
                },
                timeout=settings.RAILZ_EMULATOR_WEBHOOK_TIMEOUT_SECONDS,
            )
            response_status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = EmuWebhookDelivery(
            request_id=request_id,
            event=event,
            communication_id=communication_id,
            status=status,
            url=url,
            attempt=attempt,
            response_status=response_status,
            error=error,
            body=body,
        )
        background.retry_when_locked(delivery.save)
        if response_status is not None and 200 <= response_status < 300:
            return
        if attempt < MAX_ATTEMPTS:
            time.sleep(settings.RAILZ_EMULATOR_WEBHOOK_RETRY_SECONDS * attempt)
    logger.warning("webhook %s to %s failed after %d attempts", request_id, url, MAX_ATTEMPTS)


def webhook_fire(*, connection, fields: dict) -> None:
    """POST /v2/sandbox/fireWebhooks: send `fields["event"]` for this connection now.

    For `push`, `delete` and `batchPush` the event of the named push (the newest one if none
    is named) is sent again in its current state; other events get a minimal payload.
    """
    from railzpush.emulator.responses import ApiError

    event = fields["event"]
    uuid_ = connection.connection_uuid
    if event in ("push", "delete", "batchPush"):
        queryset = EmuPush.objects.filter(connection=connection).select_related("connection")
        queryset = (
            queryset.filter(operation="delete")
            if event == "delete"
            else queryset.exclude(operation="delete")
        )
        key = {
            "push": "pushCommunicationId",
            "delete": "deleteCommunicationId",
            "batchPush": "batchId",
        }[event]
        wanted = fields.get(key)
        if wanted:
            column = "batch_id" if event == "batchPush" else "communication_id"
            queryset = queryset.filter(**{column: wanted})
        elif event == "batchPush":
            queryset = queryset.exclude(batch_id="")
        push = queryset.order_by("-requested_on", "-pk").first()
        if push is None:
            what = f"{key} {wanted}" if wanted else f"{event} request"
            raise ApiError(400, f"{what} not found for connection {uuid_}")
        if event == "batchPush":
            siblings = list(
                EmuPush.objects.filter(batch_id=push.batch_id)
                .select_related("connection")
                .order_by("pk")
            )
            data = batch_event(siblings)
        else:
            data = push_event(push)
        events_send(events=[data], connection_uuid=uuid_, communication_id=push.communication_id)
        return
    data = {
        "event": event,
        "connectionId": uuid_,
        "connectionUuid": uuid_,
        "businessUuid": connection.business_uuid,
        "businessName": connection.business_name,
        "serviceName": connection.service_name,
    }
    if event == "connectionStatus":
        data.update(oldStatus="active", newStatus=connection.status)
    if event in ("data", "dataPerType"):
        data["requests"] = [{"id": connection.business_uuid, "request": "all", "status": "success"}]
    events_send(events=[data], connection_uuid=uuid_)
