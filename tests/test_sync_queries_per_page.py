"""A page of 500 records costs a handful of statements, never one per record."""

import pytest

from refs.services import refs_sync

CUSTOMERS = "/v2/accounting/customers"
PAGES = 3
PAGE = 500


def customers(count, *, renamed=()):
    return [
        {
            "id": str(n),
            "customerName": f"Customer {n}{' (renamed)' if n in renamed else ''}",
            "emailAddress": f"c{n}@example.com",
            "currency": "USD",
            "status": "active",
        }
        for n in range(count)
    ]


def per_page_limit(first_sync: bool) -> int:
    # SAVEPOINT, SELECT of the page's stored rows, one upsert of the new and changed rows (on
    # a re-sync of unchanged data, none), the run's counters, RELEASE.
    return 4 + (1 if first_sync else 0)


# Starting a run (stale-run check, the running row, the snapshot of live ids) and finishing it
# (archive, link resolution, last_synced_at, the run's outcome) do not depend on the size.
FIXED = 14


@pytest.mark.django_db
def test_first_sync_and_resync_cost_a_bounded_number_of_queries_per_page(
    fake_railz, refs_connection, django_assert_max_num_queries
):
    fake_railz.set_records(CUSTOMERS, customers(PAGES * PAGE))
    with django_assert_max_num_queries(FIXED + PAGES * per_page_limit(first_sync=True)):
        run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert (run.pages, run.created) == (PAGES, PAGES * PAGE)

    with django_assert_max_num_queries(FIXED + PAGES * per_page_limit(first_sync=False)):
        run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert (run.unchanged, run.updated) == (PAGES * PAGE, 0)

    # Changed rows go through the same single upsert as new ones.
    fake_railz.set_records(CUSTOMERS, customers(PAGES * PAGE, renamed=range(0, 1500, 3)))
    with django_assert_max_num_queries(FIXED + PAGES * per_page_limit(first_sync=True)):
        run = refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    assert (run.updated, run.unchanged) == (500, 1000)
