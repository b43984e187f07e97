"""InputBoundsMiddleware: requests that no view should see are refused at the door.

A control character in the path or in a query parameter (a NUL reaches PostgreSQL as an error,
not as a value), more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS, and, on the API and
the webhook, a declared body larger than DATA_UPLOAD_MAX_MEMORY_SIZE. The API and the webhook
answer in the API's error shape; the admin and the staff pages a plain 400.

Django's own refusals of a body, raised while a view reads it (RequestDataTooBig,
TooManyFieldsSent...), are answered in the API's error shape on those paths too, instead of
Django's HTML 400 page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

from railzpush.api import bounds
from railzpush.api.errors import is_json_path

logger = logging.getLogger("railzpush.api.bounds")


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads no body it cannot size


# What a multipart form adds around an uploaded file (boundaries, part headers, other fields).
MULTIPART_OVERHEAD = 1_000_000


def _body_limit(request) -> int:
    """A spreadsheet is uploaded as a multipart file (Django does not count files against
    DATA_UPLOAD_MAX_MEMORY_SIZE: they go to disk); any other body is read into memory."""
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return max(
            settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            settings.IMPORT_MAX_FILE_BYTES + MULTIPART_OVERHEAD,
        )
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class InputBoundsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problems = bounds.url_problems(request)
        if problems:
            return self._refuse(request, bounds.BadInput(problems))
        if is_json_path(request) and _declared_length(request) > _body_limit(request):
            return self._refuse(request, bounds.too_big(_body_limit(request)))
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_json_path(request):
            return None  # the admin's own 400 page
        refusal = bounds.refusal_for(exception)
        if refusal is None:
            return None
        return self._refuse(request, refusal)

    def _refuse(self, request, refusal):
        errors = getattr(refusal, "errors", None) or [
            {"field": refusal.field, "rule": refusal.rule, "message": str(refusal.detail)}
        ]
        logger.warning(
            "refused %s %r: %s", request.method, request.path[:200], errors[0]["message"]
        )
        if is_json_path(request):
            return JsonResponse({"errors": errors}, status=refusal.status_code)
        return HttpResponseBadRequest(
            "\n".join(e["message"] for e in errors), content_type="text/plain; charset=utf-8"
        )
