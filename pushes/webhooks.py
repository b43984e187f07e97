"""POST /webhooks/railz: Railz's signed push outcomes.

The view checks the signature, reads the body within the API's bounds (refusing it in the
API's error shape otherwise), then keeps the raw event and applies it in one short transaction
(a few rows: the push, its timeline, its record), so an outcome costs no second task; Railz
(which gives up after 60 seconds and retries twice) still gets a quick 2xx. If applying fails,
the event is kept as received and a background task applies it. A repeat of an event already
stored is acknowledged without doing anything.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pushes.queue import enqueue_webhook_apply
from pushes.services.push_requests import webhook_event_receive, webhook_event_store
from railzpush.api import bounds
from railzpush.api.errors import error
from railzpush.railz.errors import RailzSignatureError
from railzpush.railz.signatures import HEADER, verify

logger = logging.getLogger("pushes.webhooks")

# The signature header as the WSGI environment names it: read there, since `request.headers`
# builds a mapping of every header and variable of the request first (on every webhook).
_SIGNATURE_KEY = "HTTP_" + HEADER.upper().replace("-", "_")


@csrf_exempt
@require_POST
def railz_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body
    try:
        verify(
            body,
            request.META.get(_SIGNATURE_KEY),
            settings.RAILZ_WEBHOOK_SECRET,
            tolerance_seconds=settings.RAILZ_WEBHOOK_TOLERANCE_SECONDS,
        )
    except RailzSignatureError as exc:
        logger.warning("webhook refused: %s", exc.reason)
        return _refused([error(HEADER, "signature", str(exc))], status=401)
    # Only a signed body is read, and within the API's bounds: a NUL in it would reach
    # PostgreSQL as an error, a deep one would overflow the reader.
    try:
        bounds.json_loads(body)
    except bounds.BadInput as exc:
        return _refused(exc.errors, status=exc.status_code)
    try:
        event, created = webhook_event_receive(raw_body=body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _refused([error("data", "type", str(exc))], status=400)
    except Exception:
        # Applying it failed (a lock held too long, a bug): nothing of it was written. It is
        # kept as received instead and a background task applies it, so Railz still gets its
        # quick 2xx and the outcome is not lost.
        logger.exception("applying a webhook on receipt failed; queued for a worker")
        event, created = webhook_event_store(raw_body=body)
        if created:
            transaction.on_commit(lambda: enqueue_webhook_apply(event.pk))
    return JsonResponse({"received": True, "duplicate": not created}, status=200)


def _refused(errors: list[dict[str, str]], *, status: int) -> JsonResponse:
    """The API's error shape; `error` also carries the first message, as it always has."""
    first = errors[0]["message"]
    message = first if status == 401 else f"The webhook body could not be read: {first}"
    return JsonResponse({"error": message, "errors": errors}, status=status)
