"""`Idempotency-Key` on POSTs that create or push: a retried request gets the first answer.

Railz has no idempotency key, so an integrator that retries after a timeout must be protected
here: the key is claimed (a committed INSERT) before the view runs, the answer stored after it,
and every later request with the same key and body gets that answer replayed with
`Idempotent-Replayed: true`. The same key with another body is refused (422), a key whose first
request is still running too (409). A request that fails did nothing, so its key is released
and may be used again.

The request's work and its stored answer are committed in one transaction, so whatever kills
a request (the web server's timeout, a crash, a deploy) leaves either both or neither. A key
left without an answer therefore created nothing: once its lease
(API_IDEMPOTENCY_LEASE_SECONDS, longer than the web server's request timeout) has run out, a
retry takes it over and runs the request, exactly once however many retries race; should the
first request still be running then, it can no longer store its answer and its work is rolled
back.
"""

from __future__ import annotations

import functools
import hashlib
import json

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from railzpush.api.errors import ApiError
from railzpush.api.services import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    IdempotencyKeyTakenOver,
    idempotency_key_claim,
    idempotency_key_complete,
    idempotency_key_release,
)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID) for this request. Retrying with the same key and body "
        "returns the first answer instead of doing the work again, for 24 hours."
    ),
)


def _json(data) -> object:
    """`data` as plain JSON values, the way the renderer would write it."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def request_fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart QueryDict
        data = {key: values for key, values in data.lists()}
    body = json.dumps(_json(data), sort_keys=True, separators=(",", ":"))
    text = "\n".join((request.method, request.path, body))
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(view_method):
    """Make a ViewSet method honour `Idempotency-Key` (after authentication and permissions)."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                f"{HEADER} must be between 1 and {MAX_KEY_LENGTH} characters.",
                rule="maxLength" if key else "required",
                field=HEADER,
            )
        try:
            claim = idempotency_key_claim(
                user=request.user,
                key=key,
                fingerprint=request_fingerprint(request),
                method=request.method,
                path=request.path,
            )
        except IdempotencyKeyReused as exc:
            raise ApiError(
                str(exc),
                rule="idempotencyKeyReused",
                field=HEADER,
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            ) from None
        except IdempotencyKeyInProgress as exc:
            raise ApiError(
                str(exc),
                rule="idempotencyKeyInProgress",
                field=HEADER,
                status_code=status.HTTP_409_CONFLICT,
            ) from None
        if claim.replay is not None:
            replay_status, body = claim.replay
            return Response(body, status=replay_status, headers={REPLAYED_HEADER: "true"})

        try:
            # The work and its answer commit together: a key without an answer did nothing.
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                if response.status_code < 400:
                    idempotency_key_complete(
                        claim=claim, status=response.status_code, body=_json(response.data)
                    )
        except IdempotencyKeyTakenOver as exc:
            # This request outlived its lease; the retry that took the key over does the work.
            raise ApiError(
                str(exc),
                rule="idempotencyKeyInProgress",
                field=HEADER,
                status_code=status.HTTP_409_CONFLICT,
            ) from None
        except BaseException:
            idempotency_key_release(claim=claim)
            raise
        if response.status_code >= 400:
            idempotency_key_release(claim=claim)
        return response

    wrapper.idempotent = True  # the schema documents the header on marked methods
    return wrapper
