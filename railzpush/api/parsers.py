"""The API's parsers: DRF's, read within the bounds of `railzpush.api.bounds`.

Set as DRF's default parsers, so every endpoint (and any added later) reads its body the same
bounded way; a refusal is an APIException, answered in the API's error shape.
"""

from __future__ import annotations

from django.conf import settings
from django.http import QueryDict
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser, get_encoding

from railzpush.api import bounds


def _read(stream) -> bytes:
    # One byte past the limit is enough to know the body is too large, whatever
    # Content-Length claimed.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise bounds.too_big()
    return raw


def _refusing(parse):
    """Django's own limits (DATA_UPLOAD_MAX_NUMBER_FIELDS...), met while a form is read,
    refused in the API's shape instead of Django's HTML 400 page."""

    def wrapper(self, stream, media_type=None, parser_context=None):
        try:
            return parse(self, stream, media_type, parser_context)
        except Exception as exc:
            refusal = bounds.refusal_for(exc)
            if refusal is None:
                raise
            raise refusal from None

    return wrapper


class BoundedJSONParser(JSONParser):
    """JSON no deeper than MAX_DEPTH, numbers within range, no NaN, no control characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        return bounds.json_loads(_read(stream), encoding=encoding)


class BoundedFormParser(FormParser):
    @_refusing
    def parse(self, stream, media_type=None, parser_context=None):
        data = QueryDict(_read(stream), encoding=get_encoding(parser_context or {}))
        bounds.check_form(data)
        return data


class BoundedMultiPartParser(MultiPartParser):
    # Django's multipart parser bounds the fields' size and count itself; its files are
    # bounded by the size a request may have at all (see InputBoundsMiddleware).
    @_refusing
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        bounds.check_form(parsed.data)
        return parsed
