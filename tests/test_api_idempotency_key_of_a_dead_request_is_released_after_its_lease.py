"""A request that died holding an `Idempotency-Key` does not block its retries for a day.

Its work and its stored answer commit together, so a crash leaves one of two states: the work
and the answer (a retry gets the answer at once, with what was created), or neither (the key
is in progress, and once API_IDEMPOTENCY_LEASE_SECONDS have passed a retry runs the request,
once). A process killed outright runs no cleanup: the tests make the view die with SystemExit
(what gunicorn raises in a worker past its timeout) and keep the key from being released.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pushes.models import Invoice, PushRequest
from railzpush.api import idempotency
from railzpush.api.models import IdempotencyKey
from railzpush.api.services import (
    IdempotencyKeyInProgress,
    IdempotencyKeyTakenOver,
    idempotency_key_claim,
    idempotency_key_complete,
)
from tests.fixtures.api import *  # noqa: F403
from tests.test_api_invoices import INVOICES, draft_body

LEASE = 60


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.API_IDEMPOTENCY_LEASE_SECONDS = LEASE


@pytest.fixture
def killed(monkeypatch):
    """`killed(cls, name)`: the next call of cls.name kills the request (SystemExit), and a
    killed process releases nothing."""

    def kill(cls, name):
        real = getattr(cls, name)
        calls = {"n": 0}

        def dying(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 1:
                raise SystemExit(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(cls, name, dying)

    monkeypatch.setattr(idempotency, "idempotency_key_release", lambda *, claim: None)
    return kill


@pytest.fixture
def ready_invoice(api, api_refs):
    response = api.post(INVOICES, draft_body(api_refs, status="ready"), format="json")
    assert response.status_code == 201, response.json()
    return Invoice.objects.get(pk=response.json()["id"])


@pytest.fixture
def pusher(api_as, api_pusher):
    return api_as(api_pusher)


def post(client, path, body=None, key="dead-key"):
    return client.post(path, body, format="json", headers={"Idempotency-Key": key})


def test_an_invoice_create_killed_before_commit_runs_once_after_the_lease(api, api_refs, killed):
    from pushes.api import RecordViewSet

    body = draft_body(api_refs)
    killed(RecordViewSet, "_answer")  # after record_create, before the answer is stored
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        with pytest.raises(SystemExit):
            post(api, INVOICES, body)
        # Nothing was created, and the key still says in progress.
        assert not Invoice.objects.exists()
        assert IdempotencyKey.objects.get().response_status is None

        traveller.shift(timedelta(seconds=LEASE - 1))
        early = post(api, INVOICES, body)
        assert early.status_code == 409
        assert early.json()["errors"][0]["rule"] == "idempotencyKeyInProgress"

        traveller.shift(timedelta(seconds=2))
        retry = post(api, INVOICES, body)
        assert retry.status_code == 201, retry.json()
        assert "Idempotent-Replayed" not in retry
        assert Invoice.objects.count() == 1
        assert retry.json()["id"] == Invoice.objects.get().pk

        again = post(api, INVOICES, body)
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == retry.json()
        assert Invoice.objects.count() == 1
        key = IdempotencyKey.objects.get()
        assert (key.attempt, key.response_status) == (2, 201)


def test_an_invoice_create_killed_after_commit_answers_its_retry_with_that_invoice(
    api, api_refs, killed
):
    from rest_framework.views import APIView

    body = draft_body(api_refs)
    killed(APIView, "finalize_response")  # the invoice is stored; the answer never left
    with pytest.raises(SystemExit):
        post(api, INVOICES, body)
    invoice = Invoice.objects.get()

    # No lease to wait for: the answer was committed with the invoice.
    retry = post(api, INVOICES, body)
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == invoice.pk
    assert retry.json()["invoice_number"] == "INV-1001"
    assert len(retry.json()["lines"]) == 2
    assert Invoice.objects.count() == 1


def test_a_push_killed_before_commit_is_queued_once_after_the_lease(pusher, ready_invoice, killed):
    from pushes import api as pushes_api

    path = f"{INVOICES}{ready_invoice.pk}/push/"
    killed(pushes_api, "_push_answer")  # after the push row is written, before the answer
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        with pytest.raises(SystemExit):
            post(pusher, path)
        assert not PushRequest.objects.exists()

        assert post(pusher, path).status_code == 409
        traveller.shift(timedelta(seconds=LEASE + 1))
        retry = post(pusher, path)
        assert retry.status_code == 202, retry.json()
        push = PushRequest.objects.get()
        assert (retry.json()["id"], retry.json()["state"]) == (push.pk, "queued")
        assert post(pusher, path).json() == retry.json()
        assert PushRequest.objects.count() == 1


def test_a_push_killed_after_commit_answers_its_retry_with_that_push(pusher, ready_invoice, killed):
    from rest_framework.views import APIView

    path = f"{INVOICES}{ready_invoice.pk}/push/"
    killed(APIView, "finalize_response")
    with pytest.raises(SystemExit):
        post(pusher, path)
    push = PushRequest.objects.get()

    retry = post(pusher, path)
    assert retry.status_code == 202
    assert retry["Idempotent-Replayed"] == "true"
    body = retry.json()
    assert (body["id"], body["record_type"], body["record_id"]) == (
        push.pk,
        "invoice",
        ready_invoice.pk,
    )
    assert PushRequest.objects.count() == 1


def test_a_key_claimed_before_leases_existed_is_released_a_lease_after_its_creation(
    api, api_staff, api_refs
):
    body = draft_body(api_refs)
    first = post(api, INVOICES, body, key="old")
    key = IdempotencyKey.objects.get()
    Invoice.objects.all().delete()
    # What an old request left: a claim with no lease of its own and no answer, long ago.
    IdempotencyKey.objects.filter(pk=key.pk).update(
        response_status=None,
        response_body=None,
        completed_at=None,
        lease_expires_at=None,
        created_at=timezone.now() - timedelta(seconds=LEASE + 1),
    )
    retry = post(api, INVOICES, body, key="old")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Invoice.objects.count() == 1
    assert first.status_code == 201


def test_of_two_retries_after_the_lease_only_one_takes_the_key_over(api_staff):
    claim = dict(user=api_staff, key="k", fingerprint="f" * 64, method="POST", path="/x/")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        dead = idempotency_key_claim(**claim)
        traveller.shift(timedelta(seconds=LEASE + 1))
        taken = idempotency_key_claim(**claim)
        assert (taken.replay, taken.attempt) == (None, 2)
        # The second retry finds the new lease running.
        with pytest.raises(IdempotencyKeyInProgress):
            idempotency_key_claim(**claim)
        # The dead request, had it still been running, could no longer answer...
        with pytest.raises(IdempotencyKeyTakenOver):
            idempotency_key_complete(claim=dead, status=201, body={"id": 1})
        # ...while the retry's answer is stored and replayed.
        idempotency_key_complete(claim=taken, status=201, body={"id": 2})
        assert idempotency_key_claim(**claim).replay == (201, {"id": 2})


def test_a_request_that_outlived_its_lease_is_rolled_back_and_answered_409(
    api, api_refs, monkeypatch
):
    """The request is still running when its lease runs out and a retry takes the key over:
    storing its answer fails, so its invoice is rolled back and it answers 409. (The takeover
    happens here in the request's own transaction; the PostgreSQL test of concurrent requests
    runs it from another connection.)"""
    from pushes import api as pushes_api

    body = draft_body(api_refs)
    real_create = pushes_api.record_create

    def slow_create(**kwargs):
        invoice = real_create(**kwargs)
        # Meanwhile the lease ran out and a retry (elsewhere) took the key over.
        IdempotencyKey.objects.update(attempt=2)
        return invoice

    monkeypatch.setattr(pushes_api, "record_create", slow_create)
    response = post(api, INVOICES, body)
    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "idempotencyKeyInProgress")
    assert "took over" in error["message"]
    assert not Invoice.objects.exists()
