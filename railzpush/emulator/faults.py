"""Faults switched on per connection or for every request, and the rate limits Railz enforces.

Counters (how many requests a storm has left, which request gets the next 5xx, requests this
minute) live in Django's cache: shared between processes, and never a database write on the
read path. Fault switches live in a table and are read once per request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from railzpush.emulator.models import EmuFault
from railzpush.emulator.responses import ApiError

WINDOW_SECONDS = 60
FAULT_FIELDS = (
    "latency_ms",
    "error_rate",
    "error_status",
    "storm_requests",
    "storm_until",
    "stay_pending",
    "duplicate_webhooks",
    "out_of_order_webhooks",
    "lose_answer",
    "stall_seconds",
)
LOSE_ANSWER_MODES = ("", "drop", "stall")


@dataclass
class Faults:
    """The faults that apply to one request: the global ones and its connection's."""

    rows: list[EmuFault] = field(default_factory=list)

    def _any(self, name: str) -> bool:
        return any(getattr(row, name) for row in self.rows)

    @property
    def stay_pending(self) -> bool:
        return self._any("stay_pending")

    @property
    def duplicate_webhooks(self) -> bool:
        return self._any("duplicate_webhooks")

    @property
    def out_of_order_webhooks(self) -> bool:
        return self._any("out_of_order_webhooks")

    @property
    def lose_answer(self) -> str:
        modes = {row.lose_answer for row in self.rows if row.lose_answer}
        return "drop" if "drop" in modes else ("stall" if modes else "")

    @property
    def stall_seconds(self) -> float:
        configured = max((row.stall_seconds for row in self.rows), default=0.0)
        # Past the client's read timeout, so the client gives up on the answer.
        return configured or settings.RAILZ_READ_TIMEOUT + 1

    @property
    def latency_ms(self) -> int:
        return max((row.latency_ms for row in self.rows), default=0)


def faults_for(connection_uuid: str | None) -> Faults:
    scopes = [""] + ([connection_uuid] if connection_uuid else [])
    return Faults(list(EmuFault.objects.filter(scope__in=scopes).order_by("scope")))


def _counter_key(row: EmuFault, name: str) -> str:
    # Changing a fault starts its counters afresh.
    return f"railz-emulator:fault:{row.pk}:{row.updated_at.timestamp()}:{name}"


def _incr(key: str, timeout: int | None = None) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def faults_apply_to_request(faults: Faults) -> None:
    """Sleep the configured latency, then answer 429 in a storm or 5xx for its share."""
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    now = timezone.now()
    for row in faults.rows:
        if row.storm_until and row.storm_until > now:
            retry_after = max(1, math.ceil((row.storm_until - now).total_seconds()))
            raise _too_many(retry_after)
        if row.storm_requests and _incr(_counter_key(row, "storm")) <= row.storm_requests:
            raise _too_many(1)
    for row in faults.rows:
        if row.error_rate > 0:
            # Deterministic: request n fails when n * rate crosses a whole number, so a share
            # of 0.25 fails exactly every fourth request.
            n = _incr(_counter_key(row, "errors"))
            if math.floor(n * row.error_rate + 1e-9) > math.floor((n - 1) * row.error_rate + 1e-9):
                raise ApiError(row.error_status, "INTERNAL_ERROR")


def _too_many(retry_after: int, message: str = "Too Many Requests") -> ApiError:
    return ApiError(429, message, headers={"Retry-After": str(retry_after)})


# --- rate limits --------------------------------------------------------------------------------


def _window() -> tuple[int, int]:
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return window, reset


def team_budget_hit() -> dict[str, str]:
    """Count one request against the team budget; the X-RateLimit-* headers to answer with.

    Raises the 429 (with Retry-After) once the minute's budget is spent.
    """
    limit = settings.RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE
    window, reset = _window()
    used = _incr(f"railz-emulator:team:{window}", timeout=WINDOW_SECONDS * 2)
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - used)),
        "X-RateLimit-Reset": str(reset),
    }
    if used > limit:
        error = _too_many(reset, f"Rate limit of {limit} requests per minute exceeded")
        error.headers.update(headers)
        raise error
    return headers


def _provider_key(connection_uuid: str, window: int) -> str:
    return f"railz-emulator:provider:{connection_uuid}:{window}"


def faults_counters_reset() -> None:
    """Forget this minute's request counts (fault counters go with their fault rows)."""
    from railzpush.emulator.models import EmuConnection

    window, _ = _window()
    keys = [f"railz-emulator:team:{window}"]
    for uuid in EmuConnection.objects.values_list("connection_uuid", flat=True):
        keys += [_provider_key(uuid, window), _daily_limit_key(uuid)]
    cache.delete_many(keys)


def provider_budget_hit(*, connection_uuid: str, service_name: str) -> None:
    """Count one write against the connection's provider budget, or raise its 429."""
    limit = settings.RAILZ_EMULATOR_PROVIDER_LIMITS.get(service_name)
    if not limit:
        return
    window, reset = _window()
    used = _incr(_provider_key(connection_uuid, window), timeout=WINDOW_SECONDS * 2)
    if used > limit:
        raise _too_many(
            reset, f"{service_name} allows {limit} requests per minute for this connection"
        )


def _daily_limit_key(connection_uuid: str) -> str:
    return f"railz-emulator:daily-limit:{connection_uuid}"


def daily_limit_set(*, connection_uuid: str, limit: int) -> None:
    """The connection's provider takes `limit` writes a UTC day (0: no daily cap)."""
    if limit:
        cache.set(_daily_limit_key(connection_uuid), limit, timeout=None)
    else:
        cache.delete(_daily_limit_key(connection_uuid))


def daily_budget_hit(*, connection_uuid: str, service_name: str) -> None:
    """Count one write against the provider's daily cap, if one is set; past it, the 429 says
    so and its Retry-After runs to the provider's day reset (00:00 UTC)."""
    limit = cache.get(_daily_limit_key(connection_uuid))
    if not limit:
        return
    now = time.time()
    day = int(now // 86400)
    used = _incr(f"railz-emulator:daily:{connection_uuid}:{day}", timeout=2 * 86400)
    if used > limit:
        raise _too_many(
            max(1, math.ceil((day + 1) * 86400 - now)),
            f"{service_name} allows {limit} requests a day for this connection",
        )


# --- switching faults ---------------------------------------------------------------------------


def fault_set(*, scope: str = "", **values) -> EmuFault:
    """Switch faults on (or off) for one connection, or every request with scope ""."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise ApiError(400, [f"{name} is not a fault" for name in sorted(unknown)])
    if values.get("lose_answer", "") not in LOSE_ANSWER_MODES:
        raise ApiError(400, "lose_answer must be one of the following values: drop, stall")
    rate = values.get("error_rate", 0)
    if not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ApiError(400, "error_rate must be a number between 0 and 1")
    row, _ = EmuFault.objects.get_or_create(scope=scope)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


def faults_clear(*, scope: str | None = None) -> int:
    queryset = EmuFault.objects.all()
    if scope is not None:
        queryset = queryset.filter(scope=scope)
    return queryset.delete()[0]


def fault_state(row: EmuFault) -> dict:
    state = {name: getattr(row, name) for name in FAULT_FIELDS}
    state["storm_until"] = row.storm_until.isoformat() if row.storm_until else None
    return {"scope": row.scope or "*", **state}
