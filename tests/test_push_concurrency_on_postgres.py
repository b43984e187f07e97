"""On PostgreSQL with the Redis broker: concurrent staff clicks queue one push, and two
workers handed the same task send it once (SQLite serialises writers, so it cannot show this)."""

import threading

import pytest
from django.conf import settings
from django.db import connections

from pushes.models import PushRequest
from pushes.services.push_requests import PushRefused, push_request_create
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="needs PostgreSQL: SQLite takes one writer at a time, so nothing runs concurrently",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8


def _run_together(target, count=THREADS):
    """Run `target(i)` in `count` threads released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


class _CountingClient(FakePushClient):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def create(self, *args, **kwargs):
        with self.lock:
            return super().create(*args, **kwargs)


def test_staff_clicking_push_at_the_same_moment_queue_one_push(push_staff, monkeypatch):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-PG-CLICK")

    results = _run_together(lambda i: push_request_create(record=invoice, user=push_staff))

    created = [r for r in results if isinstance(r, PushRequest)]
    refused = [r for r in results if isinstance(r, PushRefused)]
    assert len(created) == 1 and len(refused) == THREADS - 1, results
    assert PushRequest.objects.count() == 1


def test_two_workers_taking_the_same_task_from_redis_send_once(push_staff, monkeypatch):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: this proves the Redis broker path")
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    from pushes.queue import enqueue_push_submit
    from pushes.tasks import push_submit_task

    client = _CountingClient()
    monkeypatch.setattr("pushes.services.push_requests.get_client", lambda **kw: client)
    broker = get_broker()
    broker.purge_queue()
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-PG-WORKERS")
    push = push_request_create(record=invoice, user=push_staff)  # enqueued on commit
    enqueue_push_submit(push.pk)  # and again, as the dispatcher might
    packages = [broker.dequeue()[0] for _ in range(2)]
    tasks = [SignedPackage.loads(package[1]) for package in packages]
    assert [t["args"] for t in tasks] == [(push.pk,), (push.pk,)]

    _run_together(lambda i: push_submit_task(*tasks[i]["args"]), count=2)

    assert [c[0] for c in client.calls] == ["create"]
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "pending" and push.attempts == 1
    broker.purge_queue()
