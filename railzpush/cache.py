"""The Redis cache of the scale setup, with one Redis client per server instead of one per call.

Django's Redis backend builds a new `redis.Redis` object for every cache operation, on the
server's shared connection pool. Building one copies redis-py's table of about 180 response
callbacks into a case-insensitive dict, which cost more CPU than the round trip it served: the
push path reads the cache twice a send (the rate budget's pause, the access token). A client
holds no connection of its own and is safe to share between threads (the pool hands each
command a connection, and opens new ones after a fork), so one per server is kept and reused.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}  # by id() of the pool it uses, kept in self._pools

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
