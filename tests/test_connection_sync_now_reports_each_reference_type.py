"""A connection's page starts a sync and reports each reference type's state as it runs:
waiting, syncing, done with its counts, failed with the reason."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from refs.mapping import REF_TYPES
from refs.models import Connection, SyncRun
from tests.fixtures.emulator import DEMO_XERO


def _status(client, connection, **params):
    return client.get(reverse("admin:refs_connection_sync_status", args=[connection.pk]), params)


@pytest.fixture
def xero(db):
    return Connection.objects.create(
        connection_uuid=DEMO_XERO, service_name="xero", status="active"
    )


def test_the_connection_page_offers_sync_now(refs_admin, xero):
    page = refs_admin.get(reverse("admin:refs_connection_change", args=[xero.pk])).content.decode()
    assert "Sync now</button>" in page
    assert reverse("admin:refs_connection_sync_status", args=[xero.pk]) in page
    assert "refs/connection_sync.js" in page


def test_sync_now_runs_every_type_and_the_status_says_done_with_counts(
    emulator, refs_admin, xero, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", True)
    with django_capture_on_commit_callbacks(execute=True):
        started = refs_admin.post(reverse("admin:refs_connection_sync_now", args=[xero.pk]))
    assert started.status_code == 200
    status = refs_admin.get(started.json()["status_url"]).json()
    assert status["finished"] is True
    by_type = {row["type"]: row for row in status["types"]}
    assert list(by_type) == list(REF_TYPES)
    assert by_type["customers"]["state"] == "done"
    assert by_type["customers"]["counts"]["created"] == 250
    assert by_type["customers"]["label"] == REF_TYPES["customers"].label


def test_types_not_started_since_the_request_wait_and_a_failure_gives_its_reason(refs_admin, xero):
    asked = timezone.now()
    SyncRun.objects.create(
        connection=xero,
        data_type="taxRates",
        status=SyncRun.Status.SUCCEEDED,
        started_at=asked - timedelta(minutes=5),
        created=9,
    )  # an earlier sync: not this one
    SyncRun.objects.create(
        connection=xero, data_type="accounts", status=SyncRun.Status.RUNNING, started_at=asked
    )
    SyncRun.objects.create(
        connection=xero,
        data_type="customers",
        status=SyncRun.Status.FAILED,
        started_at=asked,
        error="Railz answered 503 three times",
    )
    body = _status(refs_admin, xero, since=asked.isoformat()).json()
    states = {row["type"]: (row["state"], row["reason"]) for row in body["types"]}
    assert body["finished"] is False
    assert states["taxRates"] == ("waiting", "")
    assert states["accounts"] == ("syncing", "")
    assert states["customers"] == ("failed", "Railz answered 503 three times")
    # Without `since`, each type shows its last run.
    last = {row["type"]: row["state"] for row in _status(refs_admin, xero).json()["types"]}
    assert last["taxRates"] == "done"
    assert last["vendors"] == "never synced"


def test_a_bad_since_is_refused_in_the_error_shape(refs_admin, xero):
    response = _status(refs_admin, xero, since="yesterday")
    assert response.status_code == 400
    assert response.json()["field"] == "since"
    assert response.json()["rule"] == "datetime"


def test_sync_now_must_be_posted(refs_admin, xero):
    response = refs_admin.get(reverse("admin:refs_connection_sync_now", args=[xero.pk]))
    assert response.status_code == 405


def test_staff_without_view_permission_can_neither_start_nor_read(client, xero, enqueued_none):
    user = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(user)
    assert client.post(reverse("admin:refs_connection_sync_now", args=[xero.pk])).status_code == 403
    assert _status(client, xero).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_connection"))
    client.force_login(get_user_model().objects.get(pk=user.pk))
    assert _status(client, xero).status_code == 200


def test_anonymous_people_are_sent_to_log_in(client, xero):
    response = _status(client, xero)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.fixture
def enqueued_none(monkeypatch):
    calls = []
    monkeypatch.setattr("refs.queue.async_task", lambda *a, **k: calls.append(a))
    yield
    assert calls == []
