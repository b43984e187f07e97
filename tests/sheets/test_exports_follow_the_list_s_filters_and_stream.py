"""Every record list and the push history export as CSV or XLSX with the list's filters and
search, saying each record's push state, provider id, who pushed it, when and the refusal in
words; the download is streamed, not built in memory."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from pushes.models import PushRequest
from tests.factories import ConnectionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]


def _csv(response):
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _url(record_type, tail):
    opts = record_type.spec.model_class._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/{tail}"


def test_a_record_list_exports_with_its_filter_and_push_facts(
    record_type, admin_client, admin_user, business
):
    other = ConnectionFactory(business_name="Other business")
    refused = record_type.create(connection=business, number="R-1")
    record_type.create(connection=business, number="R-2")
    record_type.create(connection=other, number="R-3")
    PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(refused),
        object_id=refused.pk,
        connection=business,
        data_type=record_type.data_type,
        operation="create",
        state=PushRequest.State.REJECTED,
        requested_by=admin_user,
        validation_errors=[{"field": "contact", "message": "The contact is archived in Xero."}],
    )

    page = admin_client.get(_url(record_type, f"?connection__id__exact={business.pk}"))
    assert f"export/csv/?connection__id__exact={business.pk}" in page.content.decode()

    rows = _csv(
        admin_client.get(_url(record_type, f"export/csv/?connection__id__exact={business.pk}"))
    )
    headers, *body = rows
    number = record_type.spec.field_at_name(record_type.spec.number).label
    assert headers[-5:] == [
        "Push state",
        "Provider id",
        "Last pushed by",
        "Last push at",
        "Refusal",
    ]
    by_number = {row[headers.index(number)]: dict(zip(headers, row, strict=True)) for row in body}
    assert set(by_number) == {"R-1", "R-2"}
    assert by_number["R-1"]["Push state"] == "Push failed"
    assert by_number["R-1"]["Last pushed by"] == admin_user.username
    # The provider's words first, then what to do about them (the push list's own words).
    assert by_number["R-1"]["Refusal"].startswith("contact: The contact is archived in Xero. ")
    assert by_number["R-2"]["Push state"] == "Ready to push"


def test_the_search_and_the_xlsx_format_are_honoured(record_type, admin_client, business):
    record_type.create(connection=business, number="FIND-ME")
    record_type.create(connection=business, number="OTHER")
    response = admin_client.get(_url(record_type, "export/xlsx/?q=FIND-ME"))
    assert isinstance(response, FileResponse)
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = [row for row in workbook.worksheets[0].iter_rows(values_only=True)]
    assert len(values) == 2  # the header and the one record the search finds


def test_the_push_history_exports_with_its_filters(admin_client, admin_user, business, record_type):
    record = record_type.create(connection=business, number="P-1")
    for state in (PushRequest.State.SUCCESS, PushRequest.State.FAILED):
        PushRequest.objects.create(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            connection=business,
            data_type=record_type.data_type,
            operation="create",
            state=state,
            provider_record_id="XERO-9" if state == "success" else "",
            requested_by=admin_user,
            last_error="Railz answered 500 six times." if state == "failed" else "",
        )
    page = admin_client.get("/admin/pushes/pushrequest/?state=failed").content.decode()
    assert "export/csv/?state=failed" in page
    headers, *body = _csv(admin_client.get("/admin/pushes/pushrequest/export/csv/?state=failed"))
    assert len(body) == 1
    row = dict(zip(headers, body[0], strict=True))
    assert row["Pushed by"] == admin_user.username
    assert row["Refusal"] == "Railz answered 500 six times."
    headers, *body = _csv(admin_client.get("/admin/pushes/pushrequest/export/csv/?state=success"))
    assert dict(zip(headers, body[0], strict=True))["Provider id"] == "XERO-9"


def test_an_unknown_format_or_a_bad_filter_is_no_500(admin_client):
    assert admin_client.get("/admin/pushes/pushrequest/export/pdf/").status_code == 404
    response = admin_client.get("/admin/pushes/pushrequest/export/csv/?nope__in=1")
    assert response.status_code in (302, 400)
