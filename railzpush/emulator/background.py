"""Work the emulator does off the request thread: webhook deliveries and a completion ticker.

Threads here are daemons of the serving process, so a demo needs no worker. Each closes its
database connection when done; under an in-memory SQLite test database, which exists only on
the connection that created it, a thread borrows the serving thread's connection instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import OperationalError, connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

_threads: set[threading.Thread] = set()
_lock = threading.RLock()
_ticker: threading.Thread | None = None
_ticker_stop = threading.Event()

# Unix time of the earliest push due to complete, shared between processes through the cache so
# the ticker touches the database only when something is due.
NEXT_DUE_KEY = "railz-emulator:next-due"
TICK_SECONDS = 0.25


def _in_memory(connection) -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


def _borrowable_connection():
    connection = connections["default"]
    if _in_memory(connection):
        connection.inc_thread_sharing()
        return connection
    return None


def retry_when_locked(write: Callable[[], T], *, attempts: int = 8) -> T:
    """Run a database write from a background thread, again if SQLite reports a locked table.

    The test suite's in-memory SQLite database is one shared-cache connection used by every
    thread at once, and it answers "database table is locked" instead of waiting; file SQLite
    (busy timeout) and PostgreSQL wait on their own, so this never loops there.
    """
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OperationalError as exc:
            if "table is locked" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def run_in_background(target: Callable[[], None], *, name: str) -> threading.Thread:
    """Run `target` in a daemon thread that cleans up its database connection."""
    borrowed = _borrowable_connection()

    def run() -> None:
        if borrowed is not None:
            connections["default"] = borrowed
        try:
            target()
        except Exception:
            logger.exception("emulator background task %s failed", name)
        finally:
            if borrowed is not None:
                borrowed.dec_thread_sharing()
            else:
                connections.close_all()
            with _lock:
                _threads.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"railz-emulator-{name}", daemon=True)
    with _lock:
        _threads.add(thread)
    thread.start()
    return thread


def background_wait(timeout: float = 15.0) -> bool:
    """Wait for every background task started so far (not the ticker); True if all finished."""
    deadline = time.monotonic() + timeout
    while True:
        with _lock:
            pending = [t for t in _threads if t is not _ticker]
        if not pending:
            return True
        for thread in pending:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            with _lock:
                return not any(t is not _ticker for t in _threads)


def next_due_note(due: float | None) -> None:
    """Tell the ticker (in this or another process) when the next push is due."""
    if due is None:
        cache.delete(NEXT_DUE_KEY)
        return
    current = cache.get(NEXT_DUE_KEY)
    if current is None or due < current:
        cache.set(NEXT_DUE_KEY, due, timeout=None)


def ticker_ensure_started(complete_due: Callable[..., float | None]) -> None:
    """Complete due pushes (and so fire their webhooks) even when nobody polls.

    `complete_due` is `pushes.pushes_complete_due`, handed in by the caller: this module runs
    the emulator's threads and knows nothing of what they do (pushes use it to note what is
    due, so importing them here would make the two import each other).
    """
    global _ticker
    if _ticker is not None and _ticker.is_alive():
        return
    with _lock:
        if _ticker is not None and _ticker.is_alive():
            return
        _ticker_stop.clear()
        _ticker = run_in_background(lambda: _tick_forever(complete_due), name="ticker")


def ticker_stop(timeout: float = 5.0) -> None:
    global _ticker
    thread = _ticker
    if thread is None:
        return
    _ticker_stop.set()
    thread.join(timeout)
    _ticker = None


def _tick_forever(complete_due: Callable[..., float | None]) -> None:
    while not _ticker_stop.wait(TICK_SECONDS):
        try:
            due = cache.get(NEXT_DUE_KEY)
            if due is None or due > time.time():
                continue
            cache.delete(NEXT_DUE_KEY)
            next_due = retry_when_locked(lambda: complete_due(report_next=True))
            if next_due is not None:
                next_due_note(next_due)
        except Exception:
            logger.exception("emulator ticker failed")
        finally:
            if not _in_memory(connections["default"]):
                connections.close_all()
