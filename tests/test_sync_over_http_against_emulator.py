"""The sync against the offline Railz emulator, over real HTTP with the project's client."""

import json

import pytest
from django_q.models import Schedule

from railzpush.emulator.models import EmuConnection, EmuRecord
from railzpush.emulator.records import emulator_seed, record_delete, record_replace
from refs.models import (
    Account,
    Connection,
    Currency,
    Customer,
    Item,
    Location,
    Subsidiary,
    SyncRun,
    TaxRate,
    TrackingOption,
)
from refs.selectors import connections_pushable
from refs.services import PAGE_RETRIES, connection_sync, connections_discover, refs_sync
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_OLD_MILL, DEMO_XERO


@pytest.fixture
def discovered(emulator, emulator_client):
    run = connections_discover(client=emulator_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return {c.connection_uuid: c for c in Connection.objects.all()}


@pytest.fixture
def xero(discovered):
    return discovered[DEMO_XERO]


def emu_customer(remote_id):
    return EmuRecord.objects.get(
        connection__connection_uuid=DEMO_XERO, data_type="customers", remote_id=remote_id
    )


def test_discovery_names_connections_and_marks_the_disconnected_one_not_pushable(discovered):
    assert set(discovered) >= {DEMO_XERO, DEMO_NETSUITE, DEMO_OLD_MILL}
    xero, old_mill = discovered[DEMO_XERO], discovered[DEMO_OLD_MILL]
    assert (xero.business_name, xero.service_name, xero.status) == (
        "Maple Leaf Coffee Roasters",
        "xero",
        "active",
    )
    assert xero.is_active and xero.can_push
    assert old_mill.status == "disconnected" and old_mill.disconnect_reason
    assert not old_mill.is_active and not old_mill.can_push
    assert old_mill not in connections_pushable() and xero in connections_pushable()


def test_discovery_again_changes_nothing_and_marks_vanished_connections(
    discovered, emulator_client
):
    Connection.objects.create(connection_uuid="CON-gone", service_name="xero", status="active")
    run = connections_discover(client=emulator_client)
    assert (run.created, run.updated, run.archived) == (0, 0, 1)
    gone = Connection.objects.get(connection_uuid="CON-gone")
    assert gone.status == Connection.Status.REMOVED and not gone.can_push


def test_full_sync_of_a_connection_mirrors_every_reference_type(xero, emulator_client):
    runs = {run.data_type: run for run in connection_sync(connection=xero, client=emulator_client)}
    assert runs["paymentMethods"].status == SyncRun.Status.UNSUPPORTED  # Xero has none
    for data_type, run in runs.items():
        if data_type != "paymentMethods":
            assert run.status == SyncRun.Status.SUCCEEDED, (data_type, run.error)
            assert run.skipped == 0, run.skipped_records
    assert runs["customers"].created == Customer.objects.filter(connection=xero).count() == 250
    customer = Customer.objects.filter(connection=xero).exclude(email="").first()
    assert str(customer) == f"{customer.name} · {customer.email} · {customer.currency}"
    assert Account.objects.filter(connection=xero).exclude(code="").exists()
    assert TaxRate.objects.filter(connection=xero).exists()
    assert Item.objects.filter(connection=xero).count() == 180
    assert TrackingOption.objects.filter(connection=xero, category__isnull=False).exists()
    assert Currency.objects.get(connection=xero, code="CAD").is_base_currency
    assert Subsidiary.objects.filter(connection=xero).count() == 1
    xero.refresh_from_db()
    assert xero.base_currency == "CAD" and xero.last_synced_at is not None


def test_netsuite_subsidiaries_and_locations_come_from_business_info(discovered, emulator_client):
    netsuite = discovered[DEMO_NETSUITE]
    run = refs_sync(connection=netsuite, data_type="businessInfo", client=emulator_client)
    assert (run.status, run.created) == (SyncRun.Status.SUCCEEDED, 3 + 6 + 4)
    canada = Subsidiary.objects.get(connection=netsuite, remote_id="2")
    assert canada.parent.remote_id == "1"
    assert Location.objects.get(connection=netsuite, remote_id="24").subsidiary == canada


def test_changed_records_are_updated_and_removed_ones_archived(xero, emulator_client):
    refs_sync(connection=xero, data_type="customers", client=emulator_client, page_size=100)
    changed = emu_customer(Customer.objects.order_by("remote_id")[0].remote_id)
    item = json.loads(changed.body)
    item["emailAddress"] = "new-ap@example.com"
    record_replace(record=changed, item=item)
    removed_id = Customer.objects.order_by("remote_id")[1].remote_id
    record_delete(record=emu_customer(removed_id))

    run = refs_sync(connection=xero, data_type="customers", client=emulator_client, page_size=100)
    assert (run.status, run.pages) == (SyncRun.Status.SUCCEEDED, 3)
    assert (run.created, run.updated, run.unchanged, run.archived) == (0, 1, 248, 1)
    assert Customer.objects.get(connection=xero, remote_id=changed.remote_id).email == (
        "new-ap@example.com"
    )
    assert Customer.objects.get(connection=xero, remote_id=removed_id).archived_at is not None


def test_malformed_record_is_skipped_and_reported(xero, emulator_client):
    bad = EmuRecord.objects.filter(
        connection__connection_uuid=DEMO_XERO, data_type="customers"
    ).order_by("seq")[5]
    bad.body = json.dumps({"customerName": "Lost its id", "status": "active"})
    bad.save(update_fields=["body"])
    run = refs_sync(connection=xero, data_type="customers", client=emulator_client)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created, run.skipped) == (249, 1)
    assert run.skipped_records == [{"id": None, "reason": "id should not be empty"}]


def test_data_not_ready_schedules_a_later_attempt(
    xero, emulator, emulator_client, django_capture_on_commit_callbacks
):
    emulator.control("set_data_ready", connectionUuid=DEMO_XERO, seconds=600)
    with django_capture_on_commit_callbacks(execute=True):
        run = refs_sync(connection=xero, data_type="customers", client=emulator_client)
    assert run.status == SyncRun.Status.NOT_READY
    assert "still preparing" in run.error
    assert Schedule.objects.filter(func="refs.tasks.connection_sync_task").count() == 1


def test_no_data_archives_everything(xero, emulator_client):
    refs_sync(connection=xero, data_type="customers", client=emulator_client)
    emulator_seed(counts={"customers": 0}, connection_uuids=[DEMO_XERO])  # Railz answers 204
    run = refs_sync(connection=xero, data_type="customers", client=emulator_client)
    assert (run.status, run.pages, run.archived) == (SyncRun.Status.SUCCEEDED, 0, 250)
    assert not Customer.objects.filter(connection=xero).active().exists()


def test_rate_limit_waits_as_railz_says(xero, emulator, emulator_client, refs_waits):
    emulator.set_faults(connection_uuid=DEMO_XERO, storm_requests=1)
    run = refs_sync(connection=xero, data_type="customers", client=emulator_client)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert refs_waits == [1]  # the emulator's Retry-After
    assert run.created == 250


def test_failure_mid_run_archives_nothing(xero, emulator, emulator_client, refs_waits):
    refs_sync(connection=xero, data_type="customers", client=emulator_client)
    record_delete(record=emu_customer(Customer.objects.order_by("remote_id")[0].remote_id))

    def break_after_first_page(run, page):
        emulator.set_faults(connection_uuid=DEMO_XERO, error_rate=1.0, error_status=500)

    run = refs_sync(
        connection=xero,
        data_type="customers",
        client=emulator_client,
        page_size=100,
        on_page=break_after_first_page,
    )
    assert run.status == SyncRun.Status.FAILED
    assert run.pages == 1 and run.archived == 0
    assert "nothing was archived" in run.error
    assert len(refs_waits) == PAGE_RETRIES
    assert Customer.objects.filter(connection=xero, archived_at__isnull=False).count() == 0


def test_queries_grow_with_pages_not_records(xero, emulator_client, django_assert_max_num_queries):
    emulator_seed(counts={"customers": 1200}, connection_uuids=[DEMO_XERO])
    # The live server shares the test database connection, so the emulator's own queries
    # (token, budget, faults, the page) are counted too: about ten a page on both sides.
    with django_assert_max_num_queries(20 + 3 * 30):
        run = refs_sync(connection=xero, data_type="customers", client=emulator_client)
    assert (run.pages, run.created) == (3, 1200)
    with django_assert_max_num_queries(20 + 3 * 20):
        run = refs_sync(connection=xero, data_type="customers", client=emulator_client)
    assert (run.pages, run.unchanged) == (3, 1200)
    assert EmuConnection.objects.filter(connection_uuid=DEMO_XERO).exists()
