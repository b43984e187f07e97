"""`Idempotency-Key`: a retried POST gets the first answer and does nothing new; a reused key
with another body, a key still in progress and an expired key each behave as documented."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from railzpush.api.models import IdempotencyKey
from railzpush.api.services import (
    idempotency_key_claim,
    idempotency_keys_purge,
)
from railzpush.api.tasks import idempotency_keys_purge_task
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.api import composer_permissions


@pytest.fixture
def queued(monkeypatch):
    from refs import queue

    sent: list[int] = []
    monkeypatch.setattr(
        queue, "enqueue_connection_sync", lambda *, connection_id: sent.append(connection_id)
    )
    return sent


@pytest.fixture
def sync(api, api_connection, django_capture_on_commit_callbacks):
    def post(key=None, data=None, client=None):
        headers = {"Idempotency-Key": key} if key is not None else {}
        with django_capture_on_commit_callbacks(execute=True):
            path = f"/api/v1/connections/{api_connection.pk}/sync/"
            return (client or api).post(path, data, format="json", headers=headers)

    return post


def test_a_repeated_request_replays_the_first_answer_and_does_nothing_again(sync, queued):
    first = sync("key-1")
    again = sync("key-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert len(queued) == 1
    assert IdempotencyKey.objects.get().response_status == 202


def test_without_a_key_every_request_runs(sync, queued):
    sync()
    sync()
    assert len(queued) == 2
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_with_another_body_is_refused_with_422(sync, queued):
    sync("key-2", {"note": "first"})
    response = sync("key-2", {"note": "second"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error == {
        "field": "Idempotency-Key",
        "rule": "idempotencyKeyReused",
        "message": error["message"],
    }
    assert "another request" in error["message"]
    assert len(queued) == 1


def test_bodies_that_differ_only_in_key_order_are_the_same_request(sync, queued):
    sync("key-3", {"a": 1, "b": [1, 2]})
    response = sync("key-3", {"b": [1, 2], "a": 1})
    assert response.status_code == 202
    assert response["Idempotent-Replayed"] == "true"
    assert len(queued) == 1


def test_keys_belong_to_their_user(sync, queued, api_as, django_user_model):
    other = django_user_model.objects.create_user("other-staff", is_staff=True)
    other.user_permissions.add(*composer_permissions())
    sync("shared-key")
    response = sync("shared-key", client=api_as(other))
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    assert len(queued) == 2


def test_a_second_request_while_the_first_still_runs_is_409(sync, queued, monkeypatch):
    from refs import api as refs_api

    seen_meanwhile = []
    real_enqueue = refs_api.connections_sync_enqueue

    def slow_enqueue(*, connections):
        # The integrator times out and retries while the first request is still working.
        seen_meanwhile.append(sync("busy"))
        return real_enqueue(connections=connections)

    monkeypatch.setattr(refs_api, "connections_sync_enqueue", slow_enqueue)
    first = sync("busy")
    assert first.status_code == 202
    [meanwhile] = seen_meanwhile
    assert meanwhile.status_code == 409
    [error] = meanwhile.json()["errors"]
    assert error["field"] == "Idempotency-Key"
    assert error["rule"] == "idempotencyKeyInProgress"
    assert "in progress" in error["message"]
    assert len(queued) == 1
    # Once the first has answered, a retry gets that answer.
    monkeypatch.setattr(refs_api, "connections_sync_enqueue", real_enqueue)
    assert sync("busy")["Idempotent-Replayed"] == "true"


def test_the_claim_is_committed_before_the_request_runs(api_staff):
    claim = idempotency_key_claim(
        user=api_staff, key="k", fingerprint="f" * 64, method="POST", path="/api/v1/x/"
    )
    assert claim.replay is None
    assert IdempotencyKey.objects.filter(pk=claim.key.pk, response_status=None).exists()


def test_a_failed_request_releases_its_key(api, queued, django_capture_on_commit_callbacks):
    headers = {"Idempotency-Key": "retry-me"}
    assert api.post("/api/v1/connections/999/sync/", headers=headers).status_code == 404
    assert not IdempotencyKey.objects.exists()


def test_a_key_expires_after_24_hours(sync, queued):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sync("day-key")
        traveller.shift(timedelta(hours=23, minutes=59))
        assert sync("day-key")["Idempotent-Replayed"] == "true"
        assert len(queued) == 1
        traveller.shift(timedelta(minutes=2))
        response = sync("day-key")
        assert response.status_code == 202
        assert "Idempotent-Replayed" not in response
        assert len(queued) == 2
        assert IdempotencyKey.objects.count() == 1


def test_expired_keys_are_purged_by_the_periodic_task(sync, queued):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sync("old")
        traveller.shift(timedelta(hours=12))
        sync("young")
        traveller.shift(timedelta(hours=13))
        assert idempotency_keys_purge_task() == 1
        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
        assert idempotency_keys_purge() == 0


@pytest.mark.parametrize("key", ["", " ", "x" * 256])
def test_an_empty_or_overlong_key_is_a_400_naming_the_header(sync, queued, key):
    response = sync(key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert queued == []


def test_the_purge_is_declared_as_a_periodic_job(db):
    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("setup_schedules", verbosity=0)
    schedule = Schedule.objects.get(name="api: purge expired idempotency keys")
    assert schedule.func == "railzpush.api.tasks.idempotency_keys_purge_task"
    assert schedule.minutes == 60
