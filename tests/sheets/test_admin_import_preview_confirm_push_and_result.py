"""In the admin: upload, see every row's problem, upload a corrected file, confirm, and hand the
ready records to the list's own push action, which shows what will be pushed first."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pushes import registry
from pushes.models import Invoice, PushRequest
from sheets.models import SheetImport
from tests.contract.conftest import RecordKit
from tests.sheets.conftest import csv_bytes, document, sheet_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]

INVOICES = RecordKit(spec=registry.for_data_type("invoices").spec)
UPLOAD = "/admin/sheets/sheetimport/add/"


def _upload(admin_client, business, customer):
    records = [*document(INVOICES, "A"), *document(INVOICES, "B", Customer=customer)]
    return admin_client.post(
        UPLOAD,
        {
            "connection": business.pk,
            "data_type": "invoices",
            "file": SimpleUploadedFile("month.csv", csv_bytes(*sheet_rows("invoices", records))),
        },
        follow=True,
    )


def test_upload_fix_reupload_confirm_and_push_all_ready(admin_client, business, refs):
    page = _upload(admin_client, business, "Acme Lt").content.decode()
    assert re.search(r'data-count="problem">1<', page)
    assert "No customer of this business has &#x27;Acme Lt&#x27;" in page
    assert "Closest: Acme Ltd (id C-1)" in page

    response = _upload(admin_client, business, "Acme Ltd")
    page = response.content.decode()
    assert re.search(r'data-count="ready">2<', page)
    sheet_import = SheetImport.objects.latest("pk")
    assert not Invoice.objects.exists()

    done = admin_client.post(
        f"/admin/sheets/sheetimport/{sheet_import.pk}/confirm/", follow=True
    ).content.decode()
    assert "2 invoices created from the file." in done
    ids = sorted(Invoice.objects.values_list("pk", flat=True))
    assert "Push all ready (2)" in done

    # The form "Push all ready" posts: the list's own action, which previews first.
    preview = admin_client.post(
        "/admin/pushes/invoice/",
        {"action": "push_records_action", "_selected_action": [str(pk) for pk in ids]},
    )
    assert preview.status_code == 200
    assert not PushRequest.objects.exists()
    assert "N-A" in preview.content.decode() and "N-B" in preview.content.decode()

    result = admin_client.get(f"/admin/sheets/sheetimport/{sheet_import.pk}/result/csv/")
    text = b"".join(result.streaming_content).decode("utf-8-sig")
    assert "created, ready" in text


def test_the_import_list_and_a_working_import_s_progress(admin_client, business, refs):
    sheet_import = SheetImport.objects.create(
        connection=business,
        data_type="invoices",
        file_name="big.csv",
        content=b"",
        state=SheetImport.State.CHECKING,
        progress_done=300,
        progress_total=1200,
    )
    page = admin_client.get(f"/admin/sheets/sheetimport/{sheet_import.pk}/change/").content.decode()
    assert '<progress id="sheet-progress" max="100" value="25">' in page
    assert 'http-equiv="refresh"' in page
    assert admin_client.get("/admin/sheets/sheetimport/").status_code == 200
