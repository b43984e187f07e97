"""A request budget shared by every process that talks to Railz.

Railz allows 1,000 requests a minute per team, and accounting systems have their own limits per
connected business (Xero: 60 a minute). Counting in the shared cache (`add` + `incr`, atomic
on Redis) lets the web process and all workers stay under both together; when Railz itself
says the budget is spent (`X-RateLimit-Remaining: 0`, or a 429) everyone pauses until it
resets, instead of each process provoking its own 429.

The team's count is taken a few requests at a time (`RESERVE_MAX`, at most a hundredth of the
limit): a process adds them to the shared counter at once and spends them before counting
again, so most requests cost no cache round trip. What a process reserved and did not spend
by the end of the minute is lost to everyone, which can only make the budget stricter, never
looser. The pause and the providers' per-connection limits are read on every request.

A caller never blocks longer than `max_wait`: beyond that RailzRateLimited(retry_after=…) is
raised, so a background task can be requeued rather than hold a worker.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from railzpush.railz.errors import RailzRateLimited

WINDOW_SECONDS = 60
# The most team requests a process takes from the shared count at once.
RESERVE_MAX = 10
# A reset header larger than this is an epoch timestamp, not "seconds from now".
_EPOCH_THRESHOLD = 1_000_000_000
# A cache value the caller has not read (None is a value: the key is absent).
UNREAD: Any = object()


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def reset_seconds(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds until Railz's counter resets, from `X-RateLimit-Reset`."""
    reset = _number(headers.get("X-RateLimit-Reset"))
    if reset is None:
        return None
    if reset > _EPOCH_THRESHOLD:
        reset -= now
    return max(0.0, reset)


def retry_after_seconds(headers: Mapping[str, str], *, now: float) -> float | None:
    """How long Railz asked us to wait: `Retry-After` (seconds or a date), else the reset."""
    value = headers.get("Retry-After")
    if value is not None:
        seconds = _number(value)
        if seconds is not None:
            return max(0.0, seconds)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    return reset_seconds(headers, now=now)


class RateBudget:
    """Counts requests in the shared cache and waits (or refuses) before a limit is passed."""

    def __init__(
        self,
        *,
        cache: Any,
        scope: str,
        limit_per_minute: int,
        provider_limits: Mapping[str, int] | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        max_wait: float,
    ) -> None:
        self.cache = cache
        self.prefix = f"railz:rate:{scope}"
        self.limit_per_minute = limit_per_minute
        self.provider_limits = dict(provider_limits or {})
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self.reserve = max(1, min(RESERVE_MAX, limit_per_minute // 100))
        # (window, requests of it reserved here and not spent yet)
        self._reserved = (-1, 0)
        self._lock = threading.Lock()

    @property
    def pause_key(self) -> str:
        return f"{self.prefix}:paused-until"

    def acquire(
        self,
        *,
        connection_uuid: str | None = None,
        service_name: str | None = None,
        paused_until: Any = UNREAD,
    ) -> float:
        """Take one request from the budget, waiting if needed; returns the seconds waited.

        Pass `service_name` (and `connection_uuid`) for writes, which also count against the
        provider's per-connection limit. `paused_until` is the pause key's value if the caller
        has just read it from the cache (with others in one round trip); after a wait the
        pause is read again.
        """
        waited = 0.0
        while True:
            wait = self._wait_needed(
                connection_uuid=connection_uuid,
                service_name=service_name,
                paused_until=paused_until,
            )
            paused_until = UNREAD
            if wait <= 0:
                return waited
            if waited + wait > self.max_wait:
                raise RailzRateLimited(retry_after=wait)
            self.sleep(wait)
            waited += wait

    def observe(self, headers: Mapping[str, str], *, status_code: int | None = None) -> None:
        """Learn from Railz's answer: pause everyone when its budget is spent."""
        now = self.clock()
        if status_code == 429:
            # Without a wait from Railz, each caller backs off on its own (exponentially).
            wait = retry_after_seconds(headers, now=now)
            if wait is not None:
                # The team's budget is a minute's: a longer wait is one provider's cap (a day's
                # writes for one connection), which must not stop every other connection.
                self.pause_for(min(wait, WINDOW_SECONDS))
            return
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        if remaining is not None and remaining <= 0:
            reset = reset_seconds(headers, now=now)
            self.pause_for(WINDOW_SECONDS if reset is None else reset)

    def pause_for(self, seconds: float) -> None:
        """Make every process wait `seconds` before its next request (never shortens a pause)."""
        if seconds <= 0:
            return
        until = self.clock() + seconds
        current = self.cache.get(self.pause_key)
        if current is None or until > current:
            self.cache.set(self.pause_key, until, timeout=math.ceil(seconds) + 1)

    def _wait_needed(
        self, *, connection_uuid: str | None, service_name: str | None, paused_until: Any
    ) -> float:
        now = self.clock()
        if paused_until is UNREAD:
            paused_until = self.cache.get(self.pause_key)
        if paused_until is not None and paused_until > now:
            return paused_until - now
        window = int(now // WINDOW_SECONDS)
        until_next_window = (window + 1) * WINDOW_SECONDS - now
        provider_limit = self.provider_limits.get(service_name or "")
        if provider_limit is not None and connection_uuid:
            key = f"{self.prefix}:connection:{connection_uuid}:{window}"
            if self._count(key) > provider_limit:
                return until_next_window
        if not self._team_take(window):
            return until_next_window
        return 0.0

    def _team_take(self, window: int) -> bool:
        """Take one request of the team's budget for `window`: from what this process
        reserved, else by reserving up to `self.reserve` more. False when it is spent."""
        with self._lock:
            reserved_window, left = self._reserved
            if reserved_window == window and left > 0:
                self._reserved = (window, left - 1)
                return True
            count = self._count(f"{self.prefix}:team:{window}", self.reserve)
            granted = min(self.reserve, self.limit_per_minute - (count - self.reserve))
            if granted <= 0:
                self._reserved = (window, 0)
                return False
            self._reserved = (window, granted - 1)
            return True

    def _count(self, key: str, delta: int = 1) -> int:
        """Atomically add `delta` to the window's counter and return the new count."""
        self.cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            return self.cache.incr(key, delta)
        except ValueError:
            # The key expired between add and incr: this request starts a fresh count.
            self.cache.add(key, delta, timeout=WINDOW_SECONDS * 2)
            return delta
