"""POST /api/v1/imports/ takes the admin's steps: the file is checked and nothing written, a
refused file answers in the API's error shape, confirm/ creates, result/ and template/ download,
and a large file is checked by a worker while the import answers its progress."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pushes import registry
from pushes.models import Invoice
from sheets import tasks
from tests.contract.conftest import RecordKit
from tests.fixtures.api import *  # noqa: F403
from tests.sheets.conftest import csv_bytes, document, sheet_rows

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/imports/"
INVOICES = RecordKit(spec=registry.for_data_type("invoices").spec)


@pytest.fixture
def client(api_as, admin_user):
    return api_as(admin_user)


def _upload(client, business, content, *, name="in.csv", data_type="invoices"):
    return client.post(
        IMPORTS,
        {
            "connection": business.connection_uuid,
            "dataType": data_type,
            "file": SimpleUploadedFile(name, content),
        },
        format="multipart",
    )


def _content(*keys, **cells):
    records = [row for key in keys for row in document(INVOICES, key, **cells)]
    return csv_bytes(*sheet_rows("invoices", records))


def test_upload_checks_confirm_creates_and_the_result_names_each_row(client, business, refs):
    response = _upload(client, business, _content("A", "B"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "checked"
    assert body["counts"] == {"ready": 2, "draft": 0, "problem": 0, "exists": 0}
    assert not Invoice.objects.exists()

    confirmed = client.post(f"{IMPORTS}{body['id']}/confirm/")
    assert confirmed.status_code == 200
    assert Invoice.objects.count() == 2

    result = client.get(f"{IMPORTS}{body['id']}/result/?file_format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(result.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Row", "Key", "Outcome", "Record id"]
    assert [r[1:3] for r in rows[1:]] == [["A", "created, ready"], ["B", "created, ready"]]
    assert rows[1][5] == "Ready to push"

    again = client.post(f"{IMPORTS}{body['id']}/confirm/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["rule"] == "state"


def test_problems_come_back_by_row_and_column(client, business, refs):
    response = _upload(client, business, _content("A", Customer="Nobody"))
    problem = response.json()["problems"][0]
    assert (problem["row"], problem["column"], problem["rule"]) == (2, "Customer", "exists")


def test_a_refused_file_answers_in_the_error_shape(client, business):
    response = _upload(client, business, b"Key;Customer\nA;B\n")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"
    assert response.json()["errors"][0]["rule"] == "delimiter"


def test_a_bad_type_or_connection_is_named(client, business):
    response = _upload(client, business, b"Key\nA\n", data_type="journals")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "dataType"


def test_the_template_downloads_for_a_type(client):
    response = client.get(f"{IMPORTS}template/?dataType=bills&file_format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client.get(f"{IMPORTS}template/?dataType=nope")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "dataType"


def test_a_large_file_is_checked_and_written_by_a_worker(
    client, business, refs, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_BYTES = 10
    queued = []
    monkeypatch.setattr(
        "sheets.queue.async_task", lambda name, *args, **kw: queued.append((name, args))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, business, _content("A", "B", "C"))
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "checking"
    assert queued == [("sheets.tasks.import_check_task", (body["id"],))]

    tasks.import_check_task(body["id"])
    progress = client.get(f"{IMPORTS}{body['id']}/").json()
    assert progress["state"] == "checked"
    assert progress["progress"] == {"done": 3, "total": 3, "percent": 100}

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"{IMPORTS}{body['id']}/confirm/")
    assert confirmed.status_code == 202
    assert queued[-1] == ("sheets.tasks.import_write_task", (body["id"],))
    assert not Invoice.objects.exists()
    tasks.import_write_task(body["id"])
    assert Invoice.objects.count() == 3
    assert client.get(f"{IMPORTS}{body['id']}/").json()["state"] == "done"


def test_a_file_over_the_limit_is_refused_with_the_limit_stated(client, business, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1_000_000
    response = _upload(client, business, b"Key\n" + b"A\n" * 600_000)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("file", "maxSize")
    assert "files up to 1 MB are accepted" in error["message"]
