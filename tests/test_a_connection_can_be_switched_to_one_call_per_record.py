"""Staff switch batching off for one connection on its admin page; nothing else about a
connection (it comes from Railz) can be edited there."""

from django.urls import reverse

from refs.models import Connection
from tests.fixtures.refs import *  # noqa: F403


def test_staff_switch_batch_pushes_off_and_nothing_else_changes(refs_admin):
    connection = Connection.objects.create(
        connection_uuid="CON-batch", business_name="Alpha", service_name="xero", status="active"
    )
    url = reverse("admin:refs_connection_change", args=[connection.pk])
    assert 'name="batch_pushes"' in refs_admin.get(url).content.decode()

    answer = refs_admin.post(url, {"business_name": "Renamed", "status": "expired"})

    assert answer.status_code == 302
    connection.refresh_from_db()
    assert connection.batch_pushes is False  # an unticked box
    assert (connection.business_name, connection.status) == ("Alpha", "active")
