"""The dashboard's "Needs a person" list names each record by its type and links it to that
record's own admin page, whatever the type: a failed bill, invoice credit note, bill credit
note and invoice each show with their type's label and a link that opens their change page."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from pushes import registry
from pushes.models import PushRequest
from railzpush.railz.datatypes import DATA_TYPES
from tests.contract.conftest import RecordKit
from tests.factories import ConnectionFactory
from tests.fixtures.pushes import *  # noqa: F403

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]

ROW = re.compile(r'<tr data-push-id="(\d+)">(.*?)</tr>', re.S)
RECORD_CELL = re.compile(
    r"<td><span class=\"rp-quiet\" data-record-type>(.*?)</span>(.*?)</td>", re.S
)
LINK = re.compile(r'<a href="([^"]+)">(.*?)</a>', re.S)


def _failed_push(record, data_type: str) -> PushRequest:
    return PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        connection=record.connection,
        data_type=data_type,
        operation="create",
        state="failed",
        validation_errors=[{"field": "", "message": f"{data_type} refused by the provider"}],
    )


def _rows(page: str) -> dict[int, tuple[str, str, str]]:
    """{push id: (type label, record link, link text)} of the "Needs a person" table."""
    rows = {}
    for push_id, row in ROW.findall(page):
        type_label, rest = RECORD_CELL.search(row).groups()
        link = LINK.search(rest)
        href, text = (html_lib.unescape(link[1]), link[2].strip()) if link else ("", "")
        rows[int(push_id)] = (type_label.strip(), href, text)
    return rows


def test_each_type_s_failed_push_links_to_its_record_s_change_page(admin_client):
    connection = ConnectionFactory()
    expected = {}
    for data_type in registry.PUSHABLE_TYPES:
        spec = registry.for_data_type(data_type).spec
        record = RecordKit(spec=spec).create(connection=connection, number=f"N-{data_type}")
        push = _failed_push(record, data_type)
        opts = type(record)._meta
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
        expected[push.pk] = (DATA_TYPES[data_type].label, change, str(record), record)
    assert {"bills", "invoiceCreditNotes"} <= set(registry.PUSHABLE_TYPES)

    page = admin_client.get(reverse("admin:index"))
    assert page.status_code == 200
    rows = _rows(page.content.decode())

    assert set(rows) == set(expected)
    for push_id, (label, change, text, record) in expected.items():
        assert rows[push_id] == (label, change, html_lib.escape(text)), push_id
        opened = admin_client.get(rows[push_id][1])
        assert opened.status_code == 200, change
        assert opened.context["original"] == record  # that record, not one sharing its id
