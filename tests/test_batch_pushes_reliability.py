"""Pushes of a type Railz takes in batches go out together, and every way a batch can go wrong
against the emulator still ends with exactly one provider record per pushed record: a lost
answer, one bad item among good ones, duplicated and out-of-order `batchPush` webhooks, a
worker killed mid-batch, and a batch Railz refuses as a whole."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from pushes import registry
from pushes.models import PushRequest, WebhookEvent
from pushes.services.batches import push_submit
from pushes.services.identity import record_identity
from pushes.services.push_requests import push_request_create, pushes_poll_connection
from pushes.services.reconcile import pushes_reconcile_unknown
from pushes.tasks import pushes_reconcile_these_task, webhook_event_apply_task
from railzpush.railz import RailzRejected
from railzpush.railz.datatypes import DATA_TYPES, Op
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import demo_refs, refs_connection_for

pytestmark = pytest.mark.django_db(transaction=True)

BATCHABLE = [
    t
    for t in registry.PUSHABLE_TYPES
    if t in DATA_TYPES and Op.BATCH_CREATE in DATA_TYPES[t].operations
]


@pytest.fixture(autouse=True)
def no_wait(settings):
    settings.PUSH_BATCH_WAIT_SECONDS = 0
    settings.PUSH_BATCH_ENABLED = True


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture(params=BATCHABLE)
def batch_type(request):
    from tests.contract.conftest import RecordKit

    return RecordKit(spec=registry.for_data_type(request.param).spec)


def _records(kit, count, *, connection_uuid=DEMO_QUICKBOOKS, prefix="BATCH"):
    """`count` ready records numbered (or named) PREFIX-0, PREFIX-1... that the emulator's
    accounting system accepts."""
    from pushes.services.records import record_create

    connection = refs_connection_for(connection_uuid)
    spec = kit.spec
    refs = demo_refs(connection, party=spec.party or "customer")
    values = {"subsidiaries": refs.subsidiaries}
    if spec.party:
        values[spec.party] = refs.party
    records = []
    for n in range(count):
        if spec.has_lines:
            values["lines"] = kit.lines(connection, account=refs.account)
        data = kit.data(connection=connection, number=f"{prefix}-{n}", **values)
        records.append(record_create(data_type=kit.data_type, data=data))
    return records


def _push_all(records, user):
    return [push_request_create(record=record, user=user) for record in records]


def _settle(emulator):
    """Let the emulator's webhooks arrive, then run the tasks they enqueued."""
    emulator.wait_for_webhooks()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_apply_task(event.pk)


def _provider_numbers(kit, connection_uuid, prefix="BATCH"):
    """How many records the emulator's accounting system holds per number we pushed."""
    from railzpush.emulator.models import EmuRecord

    numbers = Counter()
    for body in EmuRecord.objects.filter(
        connection__connection_uuid=connection_uuid, data_type=kit.data_type
    ).values_list("body", flat=True):
        number = record_identity(json.loads(body))["number"] or ""
        if number.startswith(prefix + "-"):
            numbers[number] += 1
    return numbers


def _assert_one_record_each(kit, records, connection_uuid=DEMO_QUICKBOOKS, prefix="BATCH"):
    numbers = _provider_numbers(kit, connection_uuid, prefix)
    assert numbers == {f"{prefix}-{n}": 1 for n in range(len(records))}
    for record in records:
        record.refresh_from_db()
        assert record.provider_record_id


def _batch_posts(push):
    return push.events.filter(kind="exchange", path__endswith="/batch")


def test_queued_pushes_go_out_in_one_batch_call_each_keeping_its_own_push(
    batch_type, push_emulator, push_client, push_staff, enqueued
):
    records = _records(batch_type, 3)
    pushes = _push_all(records, push_staff)

    push_submit(push_request_id=pushes[0].pk, client=push_client)
    # The siblings' own tasks find them sent already.
    assert push_submit(push_request_id=pushes[1].pk, client=push_client) is None
    sent = [PushRequest.objects.get(pk=p.pk) for p in pushes]
    # Pending, or already a success where the batchPush webhook beat the worker's write.
    assert {p.state for p in sent} <= {"pending", "success"}
    assert len({p.batch_id for p in sent}) == 1 and sent[0].batch_id
    assert len({p.push_communication_id for p in sent}) == 3
    for index, push in enumerate(sent):
        (exchange,) = _batch_posts(push)
        assert exchange.request_body["batch"] == [push.body["data"]]
        assert exchange.request_body["item"] == f"{index + 1} of 3"
        assert exchange.response_body["batchId"] == push.batch_id
        assert exchange.response_body["batch"][0]["pushCommunicationId"] == (
            push.push_communication_id
        )

    _settle(push_emulator)
    assert {p.state for p in PushRequest.objects.all()} == {"success"}
    _assert_one_record_each(batch_type, records)


def test_a_batch_holds_at_most_the_configured_number_of_items(
    batch_type, push_emulator, push_client, push_staff, enqueued, settings
):
    settings.PUSH_BATCH_MAX_ITEMS = 2
    pushes = _push_all(_records(batch_type, 3), push_staff)

    for push in pushes:
        push_submit(push_request_id=push.pk, client=push_client)

    sent = [PushRequest.objects.get(pk=p.pk) for p in pushes]
    assert sent[0].batch_id == sent[1].batch_id != ""
    # The last one was alone in the queue: sent as a single push.
    assert sent[2].batch_id == "" and sent[2].push_communication_id


@pytest.mark.parametrize("switch", ["setting", "connection"])
def test_with_batching_off_each_record_is_its_own_call(
    batch_type, switch, push_emulator, push_client, push_staff, enqueued, settings
):
    if switch == "setting":
        settings.PUSH_BATCH_ENABLED = False
    else:
        refs_connection_for(DEMO_QUICKBOOKS).__class__.objects.filter(
            connection_uuid=DEMO_QUICKBOOKS
        ).update(batch_pushes=False)
    records = _records(batch_type, 2)
    pushes = _push_all(records, push_staff)

    for push in pushes:
        push_submit(push_request_id=push.pk, client=push_client)

    for push in pushes:
        push.refresh_from_db()
        assert push.push_communication_id and push.batch_id == ""
        assert not _batch_posts(push).exists()
    _settle(push_emulator)
    _assert_one_record_each(batch_type, records)


def test_outcomes_are_polled_by_batch_id(batch_type, emulator, push_client, push_staff, enqueued):
    # No webhook reaches this app here: the outcomes must come from polling.
    pushes = _push_all(_records(batch_type, 2), push_staff)
    push_submit(push_request_id=pushes[0].pk, client=push_client)
    batch_id = PushRequest.objects.get(pk=pushes[0].pk).batch_id
    asked = []

    class Spy:
        def push_status(self, **kwargs):
            asked.append(kwargs)
            return push_client.push_status(**kwargs)

    changed = pushes_poll_connection(connection=refs_connection_for(DEMO_QUICKBOOKS), client=Spy())

    assert asked == [{"connection_uuid": DEMO_QUICKBOOKS, "batch_id": batch_id}]
    assert changed == 2
    assert {p.state for p in PushRequest.objects.all()} == {"success"}


def test_a_lost_batch_answer_makes_every_item_unknown_and_each_adopts_its_own_push(
    batch_type, push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")
    records = _records(batch_type, 3)
    pushes = _push_all(records, push_staff)

    push_submit(push_request_id=pushes[0].pk, client=push_client)

    assert {p.state for p in PushRequest.objects.all()} == {"unknown"}
    # One reconciliation for the whole batch, not one per item.
    reconciles = [c for c in enqueued if c[0] == "pushes.tasks.pushes_reconcile_these_task"]
    assert reconciles == [("pushes.tasks.pushes_reconcile_these_task", [p.pk for p in pushes])]
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    _settle(push_emulator)  # the batchPush webhook names ids nobody here knows yet

    with time_machine.travel(timezone.now() + timedelta(seconds=1), tick=True):
        pushes_reconcile_unknown(client=push_client)

    settled = list(PushRequest.objects.order_by("pk"))
    assert {p.state for p in settled} == {"success"}, [p.reconcile_note for p in settled]
    assert len({p.push_communication_id for p in settled}) == 3
    # Each item adopted the Railz push whose record has its own number.
    for push, record in zip(settled, records, strict=True):
        record.refresh_from_db()
        assert record.provider_record_id == push.source_object_ids[0]
        assert push.batch_id  # learnt from Railz's push log
    # The batchPush webhook that came while the ids were unknown here is applied once adopted.
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert all(_batch_posts(p).count() == 1 for p in settled)  # sent once, never again
    _assert_one_record_each(batch_type, records)


def test_the_reconcile_task_of_a_lost_batch_settles_its_items(
    batch_type, push_emulator, push_client, push_staff, enqueued, monkeypatch
):
    push_emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, lose_answer="drop")
    records = _records(batch_type, 2)
    pushes = _push_all(records, push_staff)
    push_submit(push_request_id=pushes[0].pk, client=push_client)
    push_emulator.clear_faults(connection_uuid=DEMO_QUICKBOOKS)
    monkeypatch.setattr("pushes.services.push_requests.get_client", lambda **kw: push_client)

    pushes_reconcile_these_task([p.pk for p in pushes])

    assert {p.state for p in PushRequest.objects.all()} == {"success"}
    _assert_one_record_each(batch_type, records)


@pytest.mark.skipif("customers" not in BATCHABLE, reason="needs the customers type")
def test_one_bad_item_fails_alone_and_its_siblings_are_created(
    push_emulator, push_client, push_staff, enqueued
):
    from tests.contract.conftest import RecordKit

    kit = RecordKit(spec=registry.for_data_type("customers").spec)
    records = _records(kit, 3, connection_uuid=DEMO_XERO)
    # Xero takes names of at most 255 characters: the accounting system refuses this one.
    bad = records[1]
    type(bad).objects.filter(pk=bad.pk).update(**{kit.spec.number: "BATCH-1 " + "x" * 300})
    bad.refresh_from_db()
    pushes = _push_all(records, push_staff)

    push_submit(push_request_id=pushes[0].pk, client=push_client)
    _settle(push_emulator)

    states = [PushRequest.objects.get(pk=p.pk).state for p in pushes]
    assert states == ["success", "failed", "success"]
    failed = PushRequest.objects.get(pk=pushes[1].pk)
    assert failed.validation_errors and failed.validation_errors[0]["field"] == "customerName"
    assert len({PushRequest.objects.get(pk=p.pk).batch_id for p in pushes}) == 1
    numbers = _provider_numbers(kit, DEMO_XERO)
    assert numbers == {"BATCH-0": 1, "BATCH-2": 1}


def test_duplicated_and_out_of_order_batch_webhooks_leave_one_success_each(
    batch_type, push_emulator, push_client, push_staff, enqueued
):
    push_emulator.set_faults(
        connection_uuid=DEMO_QUICKBOOKS, duplicate_webhooks=True, out_of_order_webhooks=True
    )
    records = _records(batch_type, 3)
    pushes = _push_all(records, push_staff)

    push_submit(push_request_id=pushes[0].pk, client=push_client)
    _settle(push_emulator)

    batch_id = PushRequest.objects.get(pk=pushes[0].pk).batch_id
    deliveries = [d for d in push_emulator.deliveries() if d.event == "batchPush"]
    assert len(deliveries) == 4  # the finished batch twice, then a stale "pending" one twice
    assert WebhookEvent.objects.filter(event="batchPush").count() == 2  # one per outcome
    assert {json.loads(d.body)["data"]["batchId"] for d in deliveries} == {batch_id}
    for push in PushRequest.objects.all():
        assert push.state == "success"
        assert push.events.filter(kind="state", to_state="success").count() == 1
    _assert_one_record_each(batch_type, records)


def test_a_batch_webhook_before_the_answer_is_written_waits_then_applies(
    batch_type, push_emulator, push_client, push_staff, enqueued
):
    records = _records(batch_type, 2)
    pushes = _push_all(records, push_staff)

    class WebhookFirst:
        """Railz's webhook lands (and is applied) before the worker writes the answer down."""

        def __getattr__(self, name):
            return getattr(push_client, name)

        def batch_create(self, *args, **kwargs):
            answer = push_client.batch_create(*args, **kwargs)
            _settle(push_emulator)
            return answer

    push_submit(push_request_id=pushes[0].pk, client=WebhookFirst())

    assert {p.state for p in PushRequest.objects.all()} == {"success"}
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    _assert_one_record_each(batch_type, records)


def test_a_worker_killed_mid_batch_leaves_nothing_sent_twice(
    batch_type, push_emulator, push_client, push_staff, enqueued
):
    records = _records(batch_type, 3)
    pushes = _push_all(records, push_staff)

    class DiesAfterSending:
        """A worker killed right after its batch left: Railz has it, nothing written back."""

        def __getattr__(self, name):
            return getattr(push_client, name)

        def batch_create(self, *args, **kwargs):
            push_client.batch_create(*args, **kwargs)
            raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        push_submit(push_request_id=pushes[0].pk, client=DiesAfterSending())
    _settle(push_emulator)
    assert {p.state for p in PushRequest.objects.all()} == {"submitting"}
    # django-q2 hands the tasks to another worker: none is sent again.
    for push in pushes:
        assert push_submit(push_request_id=push.pk, client=push_client) is None

    later = timezone.now() + timedelta(seconds=settings.PUSH_LEASE_SECONDS + 1)
    with time_machine.travel(later, tick=True):
        pushes_reconcile_unknown(client=push_client)

    settled = list(PushRequest.objects.order_by("pk"))
    assert {p.state for p in settled} == {"success"}, [p.reconcile_note for p in settled]
    for push in settled:
        assert list(push.events.filter(kind="state").values_list("to_state", flat=True)) == [
            "queued",
            "submitting",
            "unknown",
            "success",
        ]
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    _assert_one_record_each(batch_type, records)


def test_a_batch_refused_as_a_whole_is_sent_again_one_record_at_a_time(
    batch_type, push_emulator, push_client, push_staff, enqueued
):
    records = _records(batch_type, 2)
    pushes = _push_all(records, push_staff)

    class RefusesBatches:
        def __getattr__(self, name):
            return getattr(push_client, name)

        def batch_create(self, *args, **kwargs):
            raise RailzRejected(status_code=400, messages=["batch.1.something is wrong"])

    push_submit(push_request_id=pushes[0].pk, client=RefusesBatches())

    for push in pushes:
        push.refresh_from_db()
        assert push.push_communication_id and push.batch_id == ""
        assert push.attempts == 1
        assert push.events.filter(message__contains="Sent again on its own").exists()
    _settle(push_emulator)
    _assert_one_record_each(batch_type, records)
