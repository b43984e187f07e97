"""On PostgreSQL: workers racing to send the same queued customers each claim a disjoint set,
so every customer goes out in exactly one call (SQLite serialises writers, so it cannot show
this)."""

import threading

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from pushes.models import PushRequest
from pushes.services.batches import push_submit
from pushes.services.push_requests import push_request_create
from pushes.services.records import record_create
from pushes.spec import RecordData
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, refs_connection_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="needs PostgreSQL: SQLite takes one writer at a time, so nothing runs concurrently",
    ),
    pytest.mark.django_db(transaction=True),
]

CUSTOMERS = 12
WORKERS = 6


class _BatchCountingClient(FakePushClient):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.sent: list[str] = []

    def _remember(self, names):
        with self.lock:
            self.sent.extend(names)
            self.counter += len(names)
            return self.counter

    def batch_create(self, data_type, *, connection_uuid, items, **kwargs):
        last = self._remember([item["customerName"] for item in items])
        now = timezone.now().isoformat().replace("+00:00", "Z")
        return {
            "connectionUuid": connection_uuid,
            "batchId": f"{last:024x}",
            "batch": [
                {"pushCommunicationId": f"b{last:08x}{n:015x}", "requestedOn": now, "data": i}
                for n, i in enumerate(items)
            ],
        }

    def create(self, data_type, *, connection_uuid, data, **kwargs):
        self._remember([data["customerName"]])
        return super().create(data_type, connection_uuid=connection_uuid, data=data)


def test_racing_workers_send_each_queued_customer_once(push_staff, monkeypatch, settings):
    settings.PUSH_BATCH_WAIT_SECONDS = 0
    settings.PUSH_BATCH_MAX_ITEMS = 4
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)
    connection = refs_connection_for(DEMO_QUICKBOOKS)
    pushes = [
        push_request_create(
            record=record_create(
                data_type="customers",
                data=RecordData(connection=connection, status="ready", name=f"PG-{n}"),
            ),
            user=push_staff,
        )
        for n in range(CUSTOMERS)
    ]
    client = _BatchCountingClient()
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker(i):
        try:
            barrier.wait()
            for push in pushes[i::WORKERS]:
                push_submit(push_request_id=push.pk, client=client)
        except BaseException as error:  # a deadlock here once left a customer unsent
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(client.sent) == sorted(f"PG-{n}" for n in range(CUSTOMERS))
    settled = PushRequest.objects.all()
    assert {p.state for p in settled} == {"pending"}
    assert all(p.attempts == 1 for p in settled)
    batches = {p.batch_id for p in settled if p.batch_id}
    assert all(settled.filter(batch_id=b).count() <= 4 for b in batches)
