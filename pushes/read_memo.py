"""Reads a bulk action would repeat for every record, done once for the whole batch.

Inside `memo_scope()`, `memoized(key, compute)` computes a value once per key and hands the
same value back afterwards; outside any scope it simply computes. A scope lasts one bulk
action (queuing a thousand pushes), so nothing is kept across requests, and a record read
again later is read afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["memo_put", "memo_scope", "memoized"]

T = TypeVar("T")
_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("read_memo", default=None)


@contextmanager
def memo_scope() -> Iterator[None]:
    """Remember reads until the block ends (a scope inside a scope shares the outer one)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def memo_put(key: Hashable, value: Any) -> None:
    """Give the answer to a read ahead of time (no-op outside a scope)."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value
