"""Bulk pushing writes pushes in batches, refuses what cannot be pushed with its reason, and
enqueues exactly one send per queued push."""

import pytest

from pushes.models import PushRequest
from pushes.services import push_requests
from pushes.services.push_requests import pushes_request_bulk
from tests.fixtures.emulator import DEMO_OLD_MILL, DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import no_longer_listed, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args[1]))
    return calls


def test_bulk_push_queues_each_ready_record_once_and_explains_the_rest(
    push_staff, enqueued, monkeypatch
):
    monkeypatch.setattr(push_requests, "BULK_BATCH", 3)
    ready = [ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=f"INV-B-{i}") for i in range(7)]
    draft = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-B-DRAFT")
    type(draft).objects.filter(pk=draft.pk).update(status="draft")
    draft.refresh_from_db()
    removed = no_longer_listed(ready_invoice(connection_uuid=DEMO_OLD_MILL, number="INV-B-OLD"))

    result = pushes_request_bulk(records=[*ready, draft, removed], user=push_staff)

    assert len(result.created) == 7
    sent = [pk for ids in enqueued for pk in (ids if isinstance(ids, list) else [ids])]
    assert sorted(sent) == sorted(p.pk for p in result.created)
    reasons = dict((record.pk, reason) for record, reason in result.refused)
    assert "draft" in reasons[draft.pk]
    assert "removed" in reasons[removed.pk]
    assert PushRequest.objects.filter(state="queued").count() == 7
    assert all(p.events.filter(to_state="queued").count() == 1 for p in PushRequest.objects.all())

    again = pushes_request_bulk(records=ready, user=push_staff)
    assert again.created == []
    assert all("in progress" in reason for _, reason in again.refused)
