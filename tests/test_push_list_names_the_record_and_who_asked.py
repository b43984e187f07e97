"""The push list names each push's record as people say it ("Invoice INV-1042 for Beacon
Brewing") and who asked for it, in a fixed number of queries; an ended push's page offers no
"next attempt"."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pushes import registry
from pushes.models import PushRequest
from tests.contract.conftest import TYPES, RecordKit
from tests.factories import ConnectionFactory, invoice_plain_static  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]


def pushes_of(records, *, user, state="success"):
    return [
        PushRequest.objects.create(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            connection=record.connection,
            data_type=registry.for_model(record).data_type,
            operation="create",
            state=state,
            requested_by=user,
            completed_on=timezone.now(),
        )
        for record in records
    ]


def every_type(count: int):
    records = []
    for data_type in TYPES:
        kit = RecordKit(spec=registry.for_data_type(data_type).spec)
        connection = ConnectionFactory()
        records += [
            kit.create(connection=connection, number=f"P-{data_type}-{n}") for n in range(count)
        ]
    return records


def test_each_push_names_its_record_and_who_asked(admin_client, admin_user):
    records = every_type(1)
    pushes_of(records, user=admin_user)
    html = admin_client.get(reverse("admin:pushes_pushrequest_changelist")).content.decode()
    for record in records:
        assert registry.for_model(record).describe(record) in html
    assert admin_user.username in html


def test_the_push_list_reads_in_as_many_queries_for_many_records_as_for_few(
    admin_client, admin_user
):
    url = reverse("admin:pushes_pushrequest_changelist")
    pushes_of(every_type(1), user=admin_user)
    admin_client.get(url)
    with CaptureQueriesContext(db) as few:
        admin_client.get(url)
    pushes_of(every_type(5), user=admin_user)
    with CaptureQueriesContext(db) as many:
        admin_client.get(url)
    assert len(many) == len(few)


def test_an_ended_push_offers_no_next_attempt(admin_client, admin_user):
    (ended,) = pushes_of(every_type(1)[:1], user=admin_user, state="failed")
    page = admin_client.get(reverse("admin:pushes_pushrequest_change", args=[ended.pk]))
    assert "field-next_attempt_at" not in page.content.decode()
    PushRequest.objects.filter(pk=ended.pk).update(state="queued", completed_on=None)
    page = admin_client.get(reverse("admin:pushes_pushrequest_change", args=[ended.pk]))
    assert "field-next_attempt_at" in page.content.decode()
