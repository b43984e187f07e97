"""Every tracking row a business has can be chosen on an invoice line, parent or child, and the
accounting system books exactly the row that was chosen.

Railz lists a tracking category's options as tracking rows whose parentRef is the category;
the v2 push schema's `trackingCategoryRefs[]` is `{id, type}`, so the row chosen goes out in
`id`. Proven on each demo business against the emulator: sync the rows, compose a line with a
parent row and one with a child row, push, and read back what was booked.
"""

from __future__ import annotations

import json

import pytest

from pushes.payloads import invoice_build_payload
from pushes.services.invoices import InvoiceData, invoice_update
from pushes.services.push_requests import push_request_create, push_request_submit
from railzpush.emulator.demo_data import DEMO_CONNECTIONS, records
from railzpush.emulator.models import EmuRecord
from refs.models import SyncRun, TrackingOption
from refs.selectors import refs_for_connection
from refs.services import refs_sync
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_OLD_MILL, DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice, refs_connection_for

pytestmark = pytest.mark.django_db(transaction=True)

# Per demo business: (row chosen, what kind of row it is) by name; "/" joins a Xero option to
# its category, as the demo names them.
CHOICES = {
    DEMO_XERO: [("Region", "parent with options"), ("Ontario", "option")],
    DEMO_QUICKBOOKS: [
        ("Truckload", "parent with sub-classes"),
        ("Reefer", "sub-class"),
        ("Seattle", "location with no children"),
    ],
    DEMO_NETSUITE: [
        ("Sales", "department with children"),
        ("Sales : Wholesale", "child department"),
        ("Footwear", "class with no children"),
        ("Denver HQ", "location"),
    ],
}


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: calls.append(args))
    return calls


def _demo_rows(connection_uuid: str) -> list[dict]:
    demo = next(c for c in DEMO_CONNECTIONS if c["connection_uuid"] == connection_uuid)
    return list(records(demo, "trackingCategories"))


def _synced(connection_uuid: str, client):
    connection = refs_connection_for(connection_uuid)
    run = refs_sync(connection=connection, data_type="trackingCategories", client=client)
    return connection, run


@pytest.mark.parametrize("connection_uuid", [DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE])
def test_every_active_tracking_row_can_be_chosen(emulator, emulator_client, connection_uuid):
    connection, run = _synced(connection_uuid, emulator_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error

    rows = _demo_rows(connection_uuid)
    active = {row["id"] for row in rows if row["status"] == "active"}
    top_level = {row["id"] for row in rows if "parentRef" not in row} & active
    choosable = refs_for_connection(connection=connection, model=TrackingOption)

    assert set(choosable.values_list("remote_id", flat=True)) == active
    # The rows that could never be chosen before: those with no parent.
    assert top_level and top_level <= set(choosable.values_list("remote_id", flat=True))
    for option in choosable:
        row = next(r for r in rows if r["id"] == option.remote_id)
        assert option.category_type == row["type"]


def test_the_composer_autocomplete_offers_parent_rows(emulator, emulator_client, admin_client):
    connection, _run = _synced(DEMO_QUICKBOOKS, emulator_client)

    answer = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "pushes",
            "model_name": "invoiceline",
            "field_name": "tracking_options",
            "connection": connection.pk,
            "term": "Truckload",
        },
    ).json()

    offered = {item["text"] for item in answer["results"]}
    assert "Truckload" in offered  # the class itself, not only its sub-classes
    assert {"Truckload: Dry Van", "Truckload: Reefer", "Truckload: Flatbed"} <= offered


@pytest.mark.parametrize(
    ("connection_uuid", "name", "kind"),
    [(uuid, name, kind) for uuid, choices in CHOICES.items() for name, kind in choices],
)
def test_a_line_is_booked_to_exactly_the_row_chosen(
    push_emulator, push_client, push_staff, enqueued, connection_uuid, name, kind
):
    connection, run = _synced(connection_uuid, push_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    row = next(r for r in _demo_rows(connection_uuid) if r["name"] == name)
    chosen = TrackingOption.objects.get(connection=connection, remote_id=row["id"])

    invoice = ready_invoice(connection_uuid=connection_uuid, number=f"INV-T-{row['id'][-6:]}")
    data = InvoiceData.from_invoice(invoice)
    data.lines[0].tracking_options = [chosen]
    invoice = invoice_update(invoice=invoice, data=data, user=push_staff)

    sent = invoice_build_payload(invoice)["lines"][0]["trackingCategoryRefs"]
    assert sent == [{"id": row["id"], "type": row["type"]}], kind

    push = push_request_create(record=invoice, user=push_staff)
    push = push_request_submit(push_request_id=push.pk, client=push_client)
    assert push.state in ("pending", "success"), push.last_error

    # The one invoice pushed to this business's accounting system (its own open ones aside).
    from railzpush.emulator.demo_data import documents

    own = [item["id"] for item in documents(connection_uuid, "invoices")]
    booked = json.loads(
        EmuRecord.objects.exclude(remote_id__in=own)
        .get(connection__connection_uuid=connection_uuid, data_type="invoices")
        .body
    )
    assert booked["lines"][0]["trackingCategoryRefs"] == [
        {"id": row["id"], "name": row["name"], "type": row["type"]}
    ], kind


def test_the_emulator_refuses_a_row_sent_as_another_kind(emulator, emulator_client):
    from tests.fixtures.emulator import invoice_data

    department = next(r for r in _demo_rows(DEMO_NETSUITE) if r["name"] == "Sales")
    data = invoice_data(DEMO_NETSUITE)
    data["lines"][0]["trackingCategoryRefs"] = [{"id": department["id"], "type": "class"}]

    answer = emulator_client.create("invoices", connection_uuid=DEMO_NETSUITE, data=data)
    status = emulator_client.push_status(
        connection_uuid=DEMO_NETSUITE, push_communication_id=answer["pushCommunicationId"]
    )["data"][0]

    assert status["status"] == "failed"
    assert status["validation"]["errors"] == [
        {
            "field": "lines[0].trackingCategoryRefs[0].type",
            "message": f"Tracking category Sales ({department['id']}) is a department, not a class",
        }
    ]


def test_sage_has_no_tracking_rows_to_choose(emulator, emulator_client):
    connection, run = _synced(DEMO_OLD_MILL, emulator_client)

    assert run.status == SyncRun.Status.UNSUPPORTED
    assert not refs_for_connection(connection=connection, model=TrackingOption).exists()
