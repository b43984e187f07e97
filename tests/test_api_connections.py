"""Connections: listed and retrieved by id or connection_uuid; `sync` queues a refs sync."""

import pytest

from refs.models import Connection
from tests.fixtures.api import *  # noqa: F403


@pytest.fixture
def queued(monkeypatch):
    """The connection ids whose sync was sent to the queue (after the commit)."""
    from refs import queue

    sent: list[int] = []
    monkeypatch.setattr(
        queue, "enqueue_connection_sync", lambda *, connection_id: sent.append(connection_id)
    )
    return sent


def test_connections_are_listed_with_whether_they_can_push(
    api, api_connection, api_other_connection
):
    Connection.objects.filter(pk=api_other_connection.pk).update(status="disconnected")
    body = api.get("/api/v1/connections/").json()
    assert body["count"] == 2
    by_uuid = {row["connection_uuid"]: row for row in body["results"]}
    assert by_uuid[api_connection.connection_uuid]["can_push"] is True
    assert by_uuid[api_other_connection.connection_uuid]["can_push"] is False
    assert by_uuid[api_other_connection.connection_uuid]["status"] == "disconnected"


def test_connections_filter_by_status_and_search_by_business(
    api, api_connection, api_other_connection
):
    Connection.objects.filter(pk=api_other_connection.pk).update(status="disconnected")
    active = api.get("/api/v1/connections/", {"status": "active"}).json()
    assert [r["id"] for r in active["results"]] == [api_connection.pk]
    found = api.get("/api/v1/connections/", {"search": "Business 2"}).json()
    assert [r["id"] for r in found["results"]] == [api_other_connection.pk]
    bad = api.get("/api/v1/connections/", {"status": "sleepy"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "status"


def test_a_connection_is_retrieved_by_id_or_connection_uuid(api, api_connection):
    by_id = api.get(f"/api/v1/connections/{api_connection.pk}/")
    by_uuid = api.get(f"/api/v1/connections/{api_connection.connection_uuid}/")
    assert by_id.status_code == by_uuid.status_code == 200
    assert by_id.json() == by_uuid.json()
    assert by_id.json()["business_name"] == "API Business 1"
    assert api.get("/api/v1/connections/CON-nope/").status_code == 404
    assert api.get("/api/v1/connections/99999/").status_code == 404


def test_sync_queues_the_connections_reference_data_and_answers_202(
    api, api_connection, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/connections/{api_connection.pk}/sync/")
    assert response.status_code == 202
    assert response.json()["queued"] is True
    assert response.json()["connection"] == api_connection.pk
    assert queued == [api_connection.pk]


def test_sync_of_an_unknown_connection_is_404_and_queues_nothing(
    api, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/connections/4242/sync/")
    assert response.status_code == 404
    assert queued == []


def test_connections_refuse_anonymous_and_non_staff(
    anonymous_api, api_as, api_user, api_connection
):
    assert anonymous_api.get("/api/v1/connections/").status_code == 401
    assert anonymous_api.post(f"/api/v1/connections/{api_connection.pk}/sync/").status_code == 401
    outsider = api_as(api_user)
    assert outsider.get(f"/api/v1/connections/{api_connection.pk}/").status_code == 403
    assert outsider.post(f"/api/v1/connections/{api_connection.pk}/sync/").status_code == 403


def test_connections_are_read_only(api, api_connection):
    assert api.post("/api/v1/connections/", {"connection_uuid": "CON-x"}).status_code == 405
    assert api.delete(f"/api/v1/connections/{api_connection.pk}/").status_code == 405
