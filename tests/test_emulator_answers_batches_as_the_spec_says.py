"""The emulator answers batch pushes as Railz documents them: a batchId, one push per item in
request order, outcomes per item (a bad item fails alone), pushStatus filtered by batchId, and
one `batchPush` webhook whose `batch[]` follows the request's order."""

import re

from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO, demo_ref
from tests.railz_openapi import resolve, spec_operation

NAMES = [f"Batch Order {n}" for n in range(6)]


def _batch(client, connection_uuid=DEMO_QUICKBOOKS, items=None):
    items = items or [{"customerName": name} for name in NAMES]
    return client.batch_create("customers", connection_uuid=connection_uuid, items=items), items


def _required(spec, schema):
    return set(resolve(spec, schema).get("required") or [])


def test_the_answer_has_a_batch_id_and_one_push_per_item_in_request_order(
    emulator_client, railz_spec
):
    answer, items = _batch(emulator_client)

    assert re.fullmatch(r"[0-9a-f]{24}", answer["batchId"])
    assert [entry["data"] for entry in answer["batch"]] == items
    ids = [entry["pushCommunicationId"] for entry in answer["batch"]]
    assert len(set(ids)) == len(items)
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)
    assert {entry["status"] for entry in answer["batch"]} == {"pending"}
    operation = spec_operation(railz_spec, "post", "/v2/accounting/customers/batch")
    answer_dto = resolve(
        railz_spec, operation["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert _required(railz_spec, answer_dto) <= set(answer)
    entry_dto = resolve(railz_spec, answer_dto["properties"]["batch"])["items"]
    assert all(_required(railz_spec, entry_dto) <= set(entry) for entry in answer["batch"])


def test_push_status_by_batch_id_lists_only_that_batch_with_each_outcome(emulator_client):
    first, _ = _batch(emulator_client)
    _batch(emulator_client, items=[{"customerName": "Another batch"}])

    listed = emulator_client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, batch_id=first["batchId"]
    )["data"]

    assert {item["pushCommunicationId"] for item in listed} == {
        entry["pushCommunicationId"] for entry in first["batch"]
    }
    assert {item["batchId"] for item in listed} == {first["batchId"]}
    assert all(item["status"] == "success" and item["sourceObjectIds"] for item in listed)


def test_one_bad_item_fails_alone_and_its_siblings_succeed(emulator_client, webhook_receiver):
    items = [
        {"customerName": "Good One"},
        {"customerName": "Too long for Xero " + "x" * 300},
        {"customerName": "Good Two"},
    ]
    answer, _ = _batch(emulator_client, connection_uuid=DEMO_XERO, items=items)

    event = webhook_receiver.wait_for(1)[0].json["data"]

    assert event["batchId"] == answer["batchId"]
    assert [item["status"] for item in event["batch"]] == ["success", "failed", "success"]
    assert event["batch"][1]["validation"]["errors"][0]["field"] == "customerName"
    assert not event["batch"][1]["sourceObjectIds"]


def test_the_batch_push_webhook_lists_items_in_request_order(emulator_client, webhook_receiver):
    answer, _ = _batch(emulator_client)

    (delivery,) = webhook_receiver.wait_for(1)

    event = delivery.json["data"]
    assert event["event"] == "batchPush"
    assert event["connectionId"] == DEMO_QUICKBOOKS
    assert [item["pushCommunicationId"] for item in event["batch"]] == [
        entry["pushCommunicationId"] for entry in answer["batch"]
    ]
    assert {item["dataType"] for item in event["batch"]} == {"customers"}


def test_a_batch_update_targets_each_record_by_its_plain_string_ref(emulator_client):
    targets = [demo_ref(DEMO_QUICKBOOKS, "customers", n) for n in (3, 4)]

    answer = emulator_client.batch_update(
        "customers",
        connection_uuid=DEMO_QUICKBOOKS,
        items=[{"customerRef": t, "customerName": f"Renamed {t}"} for t in targets],
    )

    listed = emulator_client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, batch_id=answer["batchId"]
    )["data"]
    assert sorted(item["sourceObjectIds"][0] for item in listed) == sorted(targets)


def test_out_of_order_faults_send_the_pending_batch_after_the_finished_one(
    emulator, emulator_client, webhook_receiver
):
    emulator.set_faults(connection_uuid=DEMO_QUICKBOOKS, out_of_order_webhooks=True)

    answer, _ = _batch(emulator_client)
    first, second = webhook_receiver.wait_for(2)

    assert {item["status"] for item in first.json["data"]["batch"]} == {"success"}
    assert {item["status"] for item in second.json["data"]["batch"]} == {"pending"}
    assert first.json["data"]["batchId"] == second.json["data"]["batchId"] == answer["batchId"]
