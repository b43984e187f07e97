"""On PostgreSQL: integrators sending the same Idempotency-Key at the same moment create one
invoice; every other request is told the key is in progress (409) or gets the first answer
replayed (SQLite takes one writer at a time, so it cannot show this)."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connections

from pushes.models import Invoice
from railzpush.api.models import IdempotencyKey
from tests.fixtures.api import *  # noqa: F403
from tests.test_api_invoices import INVOICES, draft_body

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="needs PostgreSQL: SQLite takes one writer at a time, so nothing runs concurrently",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 6


def test_simultaneous_creates_with_one_key_make_one_invoice(api_as, api_staff, api_refs):
    clients = [api_as(api_staff) for _ in range(THREADS)]
    body = draft_body(api_refs)
    barrier = threading.Barrier(THREADS)
    answers: list = [None] * THREADS

    def post(i):
        try:
            barrier.wait()
            answers[i] = clients[i].post(
                INVOICES, body, format="json", headers={"Idempotency-Key": "same-moment"}
            )
        except Exception as exc:  # the assertions below show what each thread got
            answers[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    statuses = sorted(getattr(a, "status_code", repr(a)) for a in answers)
    assert Invoice.objects.count() == 1, statuses
    assert set(statuses) <= {201, 409}, statuses
    fresh = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a]
    assert len(fresh) == 1, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["errors"][0]["rule"] == "idempotencyKeyInProgress"
        elif answer is not fresh[0]:
            assert answer.json() == fresh[0].json()
    assert IdempotencyKey.objects.get().response_status == 201


def test_a_retry_taking_over_a_request_that_outlived_its_lease_leaves_one_invoice(
    api_as, api_staff, api_refs, settings, monkeypatch
):
    """The first request is still working when its lease runs out; a retry takes the key
    over and creates the invoice. The first can then no longer store its answer: its invoice
    is rolled back and it answers 409, so the integrator ends up with exactly one invoice."""
    from pushes import api as pushes_api

    settings.API_IDEMPOTENCY_LEASE_SECONDS = 1
    body = draft_body(api_refs)
    headers = {"Idempotency-Key": "outlived"}
    created, release = threading.Event(), threading.Event()
    real_create = pushes_api.record_create

    def slow_create(**kwargs):
        invoice = real_create(**kwargs)
        if threading.current_thread() is not threading.main_thread():
            created.set()
            release.wait(60)
        return invoice

    monkeypatch.setattr(pushes_api, "record_create", slow_create)
    first: list = []

    def post_first():
        try:
            first.append(api_as(api_staff).post(INVOICES, body, format="json", headers=headers))
        finally:
            connections.close_all()

    thread = threading.Thread(target=post_first)
    thread.start()
    assert created.wait(60)
    time.sleep(1.5)  # past the lease
    retry = api_as(api_staff).post(INVOICES, body, format="json", headers=headers)
    release.set()
    thread.join(60)

    assert retry.status_code == 201, retry.json()
    assert "Idempotent-Replayed" not in retry
    [late] = first
    assert late.status_code == 409
    assert late.json()["errors"][0]["rule"] == "idempotencyKeyInProgress"
    assert list(Invoice.objects.values_list("pk", flat=True)) == [retry.json()["id"]]
    key = IdempotencyKey.objects.get()
    assert (key.attempt, key.response_status, key.response_body["id"]) == (
        2,
        201,
        retry.json()["id"],
    )
