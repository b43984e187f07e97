"""The scale setup's Redis cache keeps one Redis client per server: Django's backend built one
for every cache operation (copying redis-py's table of response callbacks each time), which
cost more CPU than the round trip. Sharing it changes nothing a caller sees, across threads
and across separate cache objects (processes)."""

import os
import threading
import uuid

import pytest

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")


def _cache(prefix):
    from railzpush.cache import RedisCache

    return RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": prefix})


def test_every_operation_uses_the_same_client():
    cache = _cache(f"test-{uuid.uuid4()}")

    cache.set("token", {"token": "t", "refresh_at": 1.0}, timeout=30)
    first = cache._cache.get_client(write=True)
    assert cache.get("token") == {"token": "t", "refresh_at": 1.0}

    assert cache._cache.get_client() is first
    assert cache._cache.get_client("another key", write=True) is first


def test_counts_and_values_are_shared_between_threads_and_cache_objects():
    prefix = f"test-{uuid.uuid4()}"
    web, worker = _cache(prefix), _cache(prefix)
    web.add("count", 0, timeout=30)

    def count():
        for _ in range(50):
            worker.incr("count")

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert web.get("count") == 200
    assert not worker.add("count", 0, timeout=30)
    web.delete("count")
    assert worker.get("count") is None
