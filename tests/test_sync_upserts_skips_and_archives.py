"""A sync stores new rows, rewrites changed ones, skips unchanged ones and archives the gone."""

from decimal import Decimal

import pytest

from refs.models import Account, Customer, SyncRun, TaxRate, TrackingOption
from refs.services import refs_sync

CUSTOMERS = "/v2/accounting/customers"


def customer(n, **extra):
    return {
        "id": str(n),
        "customerName": f"Customer {n}",
        "emailAddress": f"c{n}@example.com",
        "currency": "CAD",
        "status": "active",
        **extra,
    }


@pytest.fixture
def synced(fake_railz, refs_connection):
    fake_railz.set_records(CUSTOMERS, [customer(n) for n in range(1, 6)])
    return refs_sync(
        connection=refs_connection, data_type="customers", client=fake_railz, page_size=2
    )


def test_first_sync_creates_every_record_and_logs_the_run(synced, refs_connection):
    assert synced.status == SyncRun.Status.SUCCEEDED
    assert (synced.pages, synced.created, synced.updated, synced.archived) == (3, 5, 0, 0)
    assert synced.finished_at is not None
    row = Customer.objects.get(connection=refs_connection, remote_id="3")
    assert str(row) == "Customer 3 · c3@example.com · CAD"
    assert row.raw["emailAddress"] == "c3@example.com"
    refs_connection.refresh_from_db()
    assert synced.started_at <= refs_connection.last_synced_at <= synced.finished_at


def test_resync_skips_unchanged_rows_without_writing_them(synced, fake_railz, refs_connection):
    before = dict(Customer.objects.values_list("remote_id", "synced_at"))
    run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert (run.created, run.updated, run.unchanged, run.archived) == (0, 0, 5, 0)
    assert dict(Customer.objects.values_list("remote_id", "synced_at")) == before


def test_changed_record_is_rewritten_and_gone_record_archived(synced, fake_railz, refs_connection):
    records = [customer(n) for n in range(1, 5)]  # 5 is gone
    records[0]["customerName"] = "Customer One Renamed"
    fake_railz.set_records(CUSTOMERS, records)
    run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert (run.created, run.updated, run.unchanged, run.archived) == (0, 1, 3, 1)
    assert Customer.objects.get(remote_id="1").name == "Customer One Renamed"
    gone = Customer.objects.get(remote_id="5")
    assert gone.archived_at is not None  # kept for drafts that point at it, never deleted
    live = set(Customer.objects.active().values_list("remote_id", flat=True))
    assert live == {"1", "2", "3", "4"}


def test_record_that_comes_back_is_unarchived(synced, fake_railz, refs_connection):
    fake_railz.set_records(CUSTOMERS, [customer(n) for n in range(1, 5)])
    refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    fake_railz.set_records(CUSTOMERS, [customer(n) for n in range(1, 6)])
    run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert run.updated == 1
    assert Customer.objects.get(remote_id="5").archived_at is None


def test_railz_archived_status_leaves_the_dropdown_but_is_not_archived_here(
    synced, fake_railz, refs_connection
):
    records = [customer(n) for n in range(1, 6)]
    records[1]["status"] = "archived"
    fake_railz.set_records(CUSTOMERS, records)
    refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    row = Customer.objects.get(remote_id="2")
    assert row.archived_at is None and row.is_archived
    assert "2" not in set(Customer.objects.active().values_list("remote_id", flat=True))


def test_empty_answer_archives_everything(synced, fake_railz, refs_connection):
    fake_railz.set_records(CUSTOMERS, [])  # what iter_pages yields for a 204
    run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.archived == 5
    assert not Customer.objects.active().exists()


def test_sub_customer_points_at_its_parent_even_when_the_parent_comes_later(
    fake_railz, refs_connection
):
    fake_railz.set_records(
        CUSTOMERS,
        [customer(1, parentRef={"id": "2", "name": "Customer 2"}), customer(2)],
    )
    refs_sync(connection=refs_connection, data_type="customers", client=fake_railz, page_size=1)
    child = Customer.objects.get(remote_id="1")
    assert child.parent == Customer.objects.get(remote_id="2")


def test_accounts_tax_rates_and_tracking_options_read_as_a_bookkeeper_knows_them(
    fake_railz, refs_connection
):
    fake_railz.set_records(
        "/v2/accounting/taxRates",
        [{"id": "T5", "name": "GST on Income", "totalTaxRate": 5, "effectiveTaxRate": 5}],
    )
    fake_railz.set_records(
        "/v2/accounting/accounts",
        [
            {
                "id": "A1",
                "nominalCode": "200",
                "name": "Sales",
                "type": "Revenue",
                "section": "Income",
                "subSection": "Revenue",
                "isActive": True,
                "taxRateRef": {"id": "T5"},
                "parentRef": {"id": "A0"},
            },
            {"id": "A0", "name": "Income", "isActive": True, "section": "Income"},
            {"id": "A9", "name": "Old", "isActive": False, "section": "Income"},
        ],
    )
    fake_railz.set_records(
        "/v2/accounting/trackingCategories",
        [
            {
                "id": "R1",
                "name": "East",
                "type": "class",
                "status": "active",
                "parentRef": {"id": "R"},
            },
            {"id": "R", "name": "Region", "type": "class", "status": "active"},
        ],
    )
    for data_type in ("taxRates", "accounts", "trackingCategories"):
        run = refs_sync(connection=refs_connection, data_type=data_type, client=fake_railz)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error

    rate = TaxRate.objects.get(remote_id="T5")
    assert rate.total_rate == Decimal("5")
    assert str(rate) == "GST on Income (5%)"
    sales = Account.objects.get(remote_id="A1")
    assert str(sales) == "200 · Sales · Revenue"
    assert sales.parent.remote_id == "A0" and sales.tax_rate == rate
    assert list(Account.objects.active().values_list("remote_id", flat=True)) == ["A0", "A1"]
    option = TrackingOption.objects.select_related("category").get(remote_id="R1")
    assert str(option) == "Region: East"


def test_list_that_changes_while_read_archives_nothing_this_time(
    synced, fake_railz, refs_connection
):
    records = [customer(n) for n in range(1, 5)]  # 5 is gone for good
    fake_railz.set_records(CUSTOMERS, records)

    def record_deleted_meanwhile(run, page):
        if page.offset == 0:
            # Railz drops record 1 after our first page: every later record shifts one place
            # left, and the run would never see record 3 at all.
            del fake_railz.lists[CUSTOMERS][0]

    run = refs_sync(
        connection=refs_connection,
        data_type="customers",
        client=fake_railz,
        page_size=2,
        on_page=record_deleted_meanwhile,
    )
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.archived == 0
    assert "changed in Railz while it was read" in run.error
    assert Customer.objects.active().count() == 5
    run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert run.archived == 2  # 1 and 5, once the list holds still
