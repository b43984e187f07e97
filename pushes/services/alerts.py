"""Alerts: the person who asked for a push is told when it failed, was refused or its outcome
stays unknown past PUSH_ALERT_UNKNOWN_AFTER_MINUTES; approvers when something waits for them;
outgoing webhooks get the same events.

`alerts_collect` (every minute) writes one `PushAlert` per push that needs telling (unique per
push, so a push is told about once however often it runs) and emails it at once to people who
chose "immediately"; `alerts_send_digests` (daily) sends the rest in one email a person. Webhook
deliveries are rows retried with backoff by `alert_deliveries_send_due`, never inline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from pushes import registry
from pushes.approval_selectors import APPROVE_PERMISSION
from pushes.dashboard import push_problem_in_words, record_admin_url
from pushes.models import (
    AlertDelivery,
    AlertPreference,
    AlertWebhook,
    ApprovalRequest,
    PushAlert,
    PushRequest,
)

logger = logging.getLogger("pushes")

Delivery = AlertPreference.Delivery
State = PushRequest.State
# A push that finished longer ago than this when alerts were switched on is not told about.
LOOK_BACK = timedelta(days=1)
SIGNATURE_HEADER = "X-Railzpush-Signature"


def alert_preference_of(user: Any) -> str:
    row = AlertPreference.objects.filter(user=user).first()
    return row.delivery if row is not None else Delivery.IMMEDIATELY


def alert_preference_set(*, user: Any, delivery: str) -> AlertPreference:
    if delivery not in Delivery.values:
        raise ValueError(f"delivery must be one of: {', '.join(Delivery.values)}")
    row, _ = AlertPreference.objects.update_or_create(user=user, defaults={"delivery": delivery})
    return row


def _link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _describe(push: PushRequest) -> str:
    record = push.record
    if record is None:
        return f"{push.data_type} #{push.object_id}"
    try:
        return registry.for_model(record).describe(record)
    except (KeyError, LookupError):
        return str(record)


def _alert_for(push: PushRequest, kind: str, now: datetime) -> PushAlert:
    described = _describe(push)
    verb = {
        PushAlert.Kind.FAILED: "failed",
        PushAlert.Kind.REJECTED: "was refused",
        PushAlert.Kind.UNKNOWN: "has no known outcome yet",
    }[kind]
    why = push_problem_in_words(push, now=now) or "No reason was given."
    record_url = record_admin_url(push.content_type_id, push.object_id)
    lines = [
        f"The {push.operation} of {described} in {push.connection} {verb}.",
        "",
        f"Why: {why}",
        "",
        f"The push: {_link(reverse('admin:pushes_pushrequest_change', args=[push.pk]))}",
    ]
    if record_url:
        lines.append(f"The record: {_link(record_url)}")
    # A retry the system queued by itself is told to whoever asked for the first attempt.
    user = push.requested_by or (push.retry_of.requested_by if push.retry_of_id else None)
    return PushAlert(
        push=push,
        user=user,
        kind=kind,
        subject=f"Push {verb}: {described}"[:300],
        message="\n".join(lines),
        created_at=now,
        delivery=alert_preference_of(user) if user is not None else Delivery.NONE,
    )


def _pushes_to_tell(now: datetime):
    unknown_since = now - timedelta(minutes=settings.PUSH_ALERT_UNKNOWN_AFTER_MINUTES)
    return (
        PushRequest.objects.filter(alert__isnull=True, updated_at__gte=now - LOOK_BACK)
        .filter(
            Q(state__in=[State.FAILED, State.REJECTED])
            | Q(state=State.UNKNOWN, sent_at__lt=unknown_since)
        )
        .select_related("connection", "requested_by", "content_type", "retry_of__requested_by")
        .order_by("pk")
    )


def alerts_collect(*, now: datetime | None = None) -> list[PushAlert]:
    """One alert for each push that newly needs its requester (and the webhooks) told; emails
    the ones whose person chose "immediately"."""
    now = now or timezone.now()
    created = []
    for push in _pushes_to_tell(now)[:500]:
        alert = _alert_for(push, push.state, now)
        try:
            with transaction.atomic():
                alert.save()
                _webhook_deliveries(
                    connection_id=push.connection_id,
                    event=f"push.{push.state}",
                    key=f"push:{push.pk}",
                    payload={
                        "event": f"push.{push.state}",
                        "push": push.pk,
                        "dataType": push.data_type,
                        "operation": push.operation,
                        "connectionUuid": push.connection.connection_uuid,
                        "summary": alert.subject,
                        "reason": push_problem_in_words(push, now=now),
                        "url": _link(reverse("admin:pushes_pushrequest_change", args=[push.pk])),
                    },
                    now=now,
                )
        except IntegrityError:
            continue  # another run told about it a moment ago
        created.append(alert)
    for alert in created:
        if alert.delivery == Delivery.IMMEDIATELY and alert.user and alert.user.email:
            _email_alert(alert)
    return created


def _email_alert(alert: PushAlert) -> None:
    # Marked first, so two runs never both send it; a failed send is logged, not repeated.
    if not PushAlert.objects.filter(pk=alert.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    ):
        return
    try:
        send_mail(alert.subject, alert.message, None, [alert.user.email])
    except Exception:
        logger.exception("could not email alert %s to %s", alert.pk, alert.user)


def alerts_send_digests(*, now: datetime | None = None) -> int:
    """One email per person who chose the daily digest, with every alert not sent yet."""
    now = now or timezone.now()
    due = PushAlert.objects.filter(
        delivery=Delivery.DIGEST, emailed_at__isnull=True, user__isnull=False
    ).select_related("user")
    by_user: dict[int, list[PushAlert]] = {}
    for alert in due.order_by("created_at", "pk"):
        by_user.setdefault(alert.user_id, []).append(alert)
    sent = 0
    for alerts in by_user.values():
        user = alerts[0].user
        claimed = PushAlert.objects.filter(
            pk__in=[a.pk for a in alerts], emailed_at__isnull=True
        ).update(emailed_at=now)
        if not claimed or not user.email:
            continue
        body = "\n\n---\n\n".join(f"{a.subject}\n\n{a.message}" for a in alerts)
        try:
            send_mail(f"railzpush: {len(alerts)} push(es) need you", body, None, [user.email])
        except Exception:
            logger.exception("could not email the digest of %s", user)
            continue
        sent += 1
    return sent


def approvers_notify(*, approval: ApprovalRequest) -> int:
    """Tell the approvers (not the preparer) that something waits for them; how many."""
    User = get_user_model()
    candidates = (
        User.objects.filter(is_active=True, is_staff=True)
        .exclude(pk=approval.submitted_by_id)
        .exclude(email="")
    )
    url = _link(reverse("admin:pushes_approvalrequest_change", args=[approval.pk]))
    subject = f"Waiting for your approval: {approval.label}"[:300]
    message = (
        f"{approval.submitted_by} submitted the {approval.operation} of {approval.label} "
        f"in {approval.connection} for approval"
        + (f" ({approval.amount:,.2f} {approval.currency})" if approval.amount is not None else "")
        + f".\n\nApprove or reject it: {url}"
    )
    told = 0
    for user in candidates:
        if not user.has_perm(APPROVE_PERMISSION) or alert_preference_of(user) == Delivery.NONE:
            continue
        try:
            send_mail(subject, message, None, [user.email])
        except Exception:
            logger.exception("could not tell approver %s", user)
            continue
        told += 1
    _webhook_deliveries(
        connection_id=approval.connection_id,
        event="approval.waiting",
        key=f"approval:{approval.pk}",
        payload={
            "event": "approval.waiting",
            "approval": approval.pk,
            "summary": subject,
            "url": url,
        },
        now=timezone.now(),
    )
    return told


# --- outgoing webhooks -------------------------------------------------------------------------


def _webhook_targets(connection_id: int) -> list[tuple[str, str]]:
    targets = [
        (hook.url, hook.secret)
        for hook in AlertWebhook.objects.filter(active=True).filter(
            Q(connection_id=connection_id) | Q(connection__isnull=True)
        )
    ]
    if settings.ALERT_WEBHOOK_URL:
        targets.append((settings.ALERT_WEBHOOK_URL, settings.ALERT_WEBHOOK_SECRET or ""))
    return list(dict.fromkeys(targets))


def _webhook_deliveries(
    *, connection_id: int, event: str, key: str, payload: dict, now: datetime
) -> None:
    for url, secret in _webhook_targets(connection_id):
        AlertDelivery.objects.get_or_create(
            url=url,
            key=key,
            defaults={
                "secret": secret,
                "event": event,
                "payload": payload,
                "next_attempt_at": now,
                "created_at": now,
            },
        )


def alert_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as the receiver recomputes it."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def alert_deliveries_send_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """POST each due delivery once; a failure waits longer each time, then is given up."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(
        delivered_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
    ).order_by("next_attempt_at")[:limit]
    delivered = 0
    for delivery in due:
        body = json.dumps(delivery.payload, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: alert_signature(
                secret=delivery.secret, body=body, timestamp=int(time.time())
            ),
        }
        error = ""
        try:
            response = requests.post(delivery.url, data=body, headers=headers, timeout=5)
            if not 200 <= response.status_code < 300:
                error = f"answered HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = f"not reached: {type(exc).__name__}"
        attempts = delivery.attempts + 1
        if not error:
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts, delivered_at=timezone.now(), last_error=""
            )
            delivered += 1
            continue
        gave_up = attempts >= settings.ALERT_WEBHOOK_MAX_ATTEMPTS
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts,
            last_error=error[:500],
            next_attempt_at=now + _backoff(attempts),
            gave_up_at=timezone.now() if gave_up else None,
        )
    return delivered


def preparer_notify_rejected(*, approval: ApprovalRequest) -> bool:
    """Tell the preparer their submission was rejected, with the approver's comment."""
    user = approval.submitted_by
    url = record_admin_url(approval.content_type_id, approval.object_id)
    if not user.email or alert_preference_of(user) == Delivery.NONE:
        return False
    try:
        send_mail(
            f"Rejected: {approval.label}"[:300],
            f"{approval.decided_by} rejected the {approval.operation} of {approval.label}:\n\n"
            f"{approval.comment}\n\nChange it and submit it again: {_link(url)}",
            None,
            [user.email],
        )
    except Exception:
        logger.exception("could not tell %s about a rejection", user)
        return False
    return True
