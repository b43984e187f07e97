"""Bad records are skipped and reported; failed reads are retried; an unfinished run archives
nothing; 202, 404 and 429 end the run the way each deserves."""

from datetime import timedelta

import pytest
from django_q.models import Schedule

from railzpush.railz import (
    RailzAuthError,
    RailzDataNotReady,
    RailzNotSupported,
    RailzRateLimited,
    RailzServerError,
)
from refs.models import Customer, SyncRun
from refs.services import MAX_RATE_LIMIT_WAIT, PAGE_RETRIES, refs_sync

CUSTOMERS = "/v2/accounting/customers"


def customer(n, **extra):
    return {"id": str(n), "customerName": f"Customer {n}", "status": "active", **extra}


@pytest.fixture
def seeded(fake_railz, refs_connection):
    """Six customers already mirrored, so an unfinished run has something it could archive."""
    fake_railz.set_records(CUSTOMERS, [customer(n) for n in range(1, 7)])
    refs_sync(connection=refs_connection, data_type="customers", client=fake_railz)
    return refs_connection


def sync(connection, client):
    return refs_sync(connection=connection, data_type="customers", client=client, page_size=2)


def test_malformed_records_are_skipped_and_reported_while_the_rest_is_stored(
    fake_railz, refs_connection
):
    fake_railz.set_records(
        CUSTOMERS,
        [
            customer(1),
            {"customerName": "No id"},
            customer(3, balance=1, customerName="x" * 501),
            "not an object",
            customer(5, parentRef="7"),
            customer(6),
        ],
    )
    run = sync(refs_connection, fake_railz)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created, run.skipped) == (2, 4)
    assert run.skipped_records == [
        {"id": None, "reason": "id should not be empty"},
        {"id": "3", "reason": "customerName must be shorter than or equal to 500 characters"},
        {"id": None, "reason": "the record must be a JSON object, not str"},
        {"id": "5", "reason": "parentRef must be an object with an id"},
    ]
    assert "4 records were skipped" in run.error and "3: customerName" in run.error
    assert set(Customer.objects.values_list("remote_id", flat=True)) == {"1", "6"}


def test_a_page_that_fails_is_read_again_and_the_run_completes(seeded, fake_railz, refs_waits):
    fake_railz.fail(CUSTOMERS, 1, RailzServerError(status_code=502))
    run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.pages, run.unchanged, run.archived) == (3, 6, 0)
    assert len(refs_waits) == 1


def test_a_page_that_keeps_failing_fails_the_run_and_archives_nothing(
    seeded, fake_railz, refs_waits
):
    fake_railz.set_records(CUSTOMERS, [customer(n) for n in range(1, 4)])
    fake_railz.fail(CUSTOMERS, 1, RailzServerError(status_code=500), forever=True)
    run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.FAILED
    assert "Railz is having a problem" in run.error and "nothing was archived" in run.error
    assert run.pages == 1 and run.archived == 0
    assert len(refs_waits) == PAGE_RETRIES  # bounded
    assert not Customer.objects.filter(archived_at__isnull=False).exists()


def test_an_error_that_retrying_cannot_fix_fails_at_once(seeded, fake_railz, refs_waits):
    fake_railz.fail(CUSTOMERS, 0, RailzAuthError(status_code=401), forever=True)
    run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.FAILED
    assert "credentials" in run.error
    assert refs_waits == []


def test_data_not_ready_ends_the_run_and_schedules_one_later_attempt(
    seeded, fake_railz, django_capture_on_commit_callbacks
):
    fake_railz.fail(CUSTOMERS, 0, RailzDataNotReady(status_code=202), forever=True)
    with django_capture_on_commit_callbacks(execute=True):
        run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.NOT_READY
    assert run.get_status_display() == "not ready, retry scheduled"
    assert run.retry_at - run.finished_at == pytest.approx(
        timedelta(minutes=5), abs=timedelta(seconds=5)
    )
    assert run.archived == 0 and Customer.objects.active().count() == 6
    with django_capture_on_commit_callbacks(execute=True):
        sync(seeded, fake_railz)  # a second 202 moves the attempt instead of adding one
    retry = Schedule.objects.get(func="refs.tasks.connection_sync_task")
    assert retry.schedule_type == Schedule.ONCE
    assert retry.args == repr((seeded.pk, ["customers"]))


def test_rate_limit_waits_as_railz_says_then_goes_on(seeded, fake_railz, refs_waits):
    fake_railz.fail(CUSTOMERS, 2, RailzRateLimited(status_code=429, retry_after=42))
    run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert refs_waits == [42]


def test_rate_limit_longer_than_a_run_should_wait_schedules_a_later_attempt(
    seeded, fake_railz, refs_waits, django_capture_on_commit_callbacks
):
    long_wait = MAX_RATE_LIMIT_WAIT + 60
    fake_railz.fail(CUSTOMERS, 1, RailzRateLimited(status_code=429, retry_after=long_wait))
    with django_capture_on_commit_callbacks(execute=True):
        run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.FAILED
    assert refs_waits == []
    assert "try again in 180 seconds" in run.error
    assert run.retry_at is not None and Schedule.objects.count() == 1
    assert run.archived == 0


def test_type_the_provider_does_not_offer_ends_as_unsupported(seeded, fake_railz):
    fake_railz.fail(CUSTOMERS, 0, RailzNotSupported(status_code=404), forever=True)
    run = sync(seeded, fake_railz)
    assert run.status == SyncRun.Status.UNSUPPORTED
    assert Customer.objects.active().count() == 6


def test_second_run_of_the_same_type_does_not_start_while_one_is_running(seeded, fake_railz):
    running = SyncRun.objects.create(
        connection=seeded, data_type="customers", started_at=SyncRun.objects.first().started_at
    )
    run = sync(seeded, fake_railz)
    assert run.pk == running.pk
    assert fake_railz.reads[-1] == (CUSTOMERS, 0) and len(fake_railz.reads) == 1
