"""The Railz API client library (no Django models; the only code that imports `requests`).

from railzpush.railz import get_client
client = get_client()
answer = client.create("invoices", connection_uuid=..., data={...}, service_name="xero")
"""

from __future__ import annotations

from typing import Any

from railzpush.railz.client import MAX_PAGE_LIMIT, Page, RailzClient
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
    RailzSignatureError,
    RailzTransportError,
)
from railzpush.railz.exchange import Exchange

__all__ = [
    "MAX_PAGE_LIMIT",
    "Exchange",
    "Page",
    "RailzAuthError",
    "RailzClient",
    "RailzConflict",
    "RailzDataNotReady",
    "RailzError",
    "RailzNotSupported",
    "RailzOutcomeUnknown",
    "RailzRateLimited",
    "RailzRejected",
    "RailzServerError",
    "RailzSignatureError",
    "RailzTransportError",
    "get_client",
]


def get_client(**overrides: Any) -> RailzClient:
    """A client configured from Django settings, sharing token and budget via Django's cache.

    Keyword arguments override single constructor arguments (e.g. `on_exchange=...`).
    """
    from django.conf import settings
    from django.core.cache import cache

    arguments: dict[str, Any] = {
        "api_url": settings.RAILZ_API_URL,
        "auth_url": settings.RAILZ_AUTH_URL,
        "client_id": settings.RAILZ_CLIENT_ID,
        "secret_key": settings.RAILZ_SECRET_KEY,
        "cache": cache,
        "connect_timeout": settings.RAILZ_CONNECT_TIMEOUT,
        "read_timeout": settings.RAILZ_READ_TIMEOUT,
        "rate_limit_per_minute": settings.RAILZ_RATE_LIMIT_PER_MINUTE,
        "provider_limits": settings.RAILZ_PROVIDER_LIMITS,
        "get_retries": settings.RAILZ_GET_RETRIES,
        "max_wait": settings.RAILZ_MAX_WAIT_SECONDS,
    }
    arguments.update(overrides)
    return RailzClient(**arguments)
