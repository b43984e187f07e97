"""Files that cannot be read as meant get a sentence that says what is wrong and what to do;
cells that cannot be taken as values are problems at their cell. Never a 500."""

from __future__ import annotations

import datetime as dt

import pytest

from pushes import registry
from pushes.models import Invoice
from sheets.models import SheetImport
from sheets.services import import_confirm, import_start
from tests.contract.conftest import RecordKit
from tests.sheets.conftest import csv_bytes, document, sheet_rows, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]

INVOICES = RecordKit(spec=registry.for_data_type("invoices").spec)
BILLS = RecordKit(spec=registry.for_data_type("bills").spec)
UPLOAD = "/admin/sheets/sheetimport/add/"


def _start(business, content, *, data_type="invoices", name="in.csv"):
    return import_start(connection=business, data_type=data_type, file_name=name, content=content)


def _refused(sheet_import, rule):
    assert sheet_import.state == "refused"
    assert sheet_import.refusal_rule == rule
    return sheet_import.refusal


def test_a_file_not_in_utf8_is_refused_with_how_to_save_it(business, refs):
    headers, rows = sheet_rows("invoices", document(INVOICES, "K", Memo="Café crème"))
    content = csv_bytes(headers, rows).decode().encode("cp1252")
    message = _refused(_start(business, content), "encoding")
    assert "not UTF-8" in message and "line 2" in message and "CSV UTF-8" in message


def test_a_file_separated_by_semicolons_is_refused_naming_the_separator(business, refs):
    headers, rows = sheet_rows("invoices", document(INVOICES, "K"))
    message = _refused(_start(business, csv_bytes(headers, rows, delimiter=";")), "delimiter")
    assert "separated by semicolons, not commas" in message


def test_formulas_are_problems_at_their_cell_in_a_workbook_and_a_csv(business, refs):
    records = document(INVOICES, "K", **{"Line unit amount": "=B2*C2"})
    headers, rows = sheet_rows("invoices", records)
    for content, name in (
        (xlsx_bytes(headers, rows), "in.xlsx"),
        (csv_bytes(headers, rows), "in.csv"),
    ):
        sheet_import = _start(business, content, name=name)
        problem = sheet_import.preview["problems"][0]
        assert (problem["row"], problem["column"], problem["rule"]) == (
            2,
            "Line unit amount",
            "formula",
        )
        assert "paste it back as a value" in problem["message"]


def test_merged_cells_are_refused_naming_the_range(business, refs):
    headers, rows = sheet_rows("invoices", document(INVOICES, "K", lines=3))
    message = _refused(
        _start(business, xlsx_bytes(headers, rows, merge="A2:A4"), name="in.xlsx"), "mergedCells"
    )
    assert "A2:A4" in message and "Unmerge" in message


@pytest.mark.parametrize(
    ("base_currency", "read_as"),
    [("CAD", dt.date(2026, 4, 3)), ("USD", dt.date(2026, 3, 4))],
)
def test_dates_in_several_formats_and_the_business_decides_ambiguous_ones(
    business, refs, base_currency, read_as
):
    business.base_currency = base_currency
    business.save()
    records = [
        *document(INVOICES, "iso", **{"Posted date": "2026-03-04", "Due date": ""}),
        *document(INVOICES, "slashed", **{"Posted date": "03/04/2026", "Due date": ""}),
        *document(INVOICES, "clear", **{"Posted date": "31/03/2026", "Due date": ""}),
        *document(INVOICES, "words", **{"Posted date": "4 Mar 2026", "Due date": ""}),
    ]
    sheet_import = import_confirm(
        sheet_import=_start(business, csv_bytes(*sheet_rows("invoices", records)))
    )
    dates = dict(Invoice.objects.values_list("invoice_number", "posted_date"))
    assert dates["N-iso"] == dates["N-words"] == dt.date(2026, 3, 4)
    assert dates["N-clear"] == dt.date(2026, 3, 31)
    assert dates["N-slashed"] == read_as
    note = sheet_import.preview["notes"][0]
    assert "03/04/2026" in note and base_currency in note
    assert ("month first" if base_currency == "USD" else "day first") in note


def test_an_impossible_date_is_refused_in_the_composer_s_words(business, refs):
    records = document(INVOICES, "K", **{"Posted date": "31/31/2026"})
    problem = _start(business, csv_bytes(*sheet_rows("invoices", records))).preview["problems"][0]
    assert problem["column"] == "Posted date"
    assert problem["message"].startswith("Posted date must be a date formatted as YYYY-MM-DD")


def test_numbers_with_thousands_separators_are_read_as_numbers(business, refs):
    records = document(INVOICES, "K", **{"Line unit amount": "1,234.50", "Line quantity": "1 000"})
    import_confirm(sheet_import=_start(business, csv_bytes(*sheet_rows("invoices", records))))
    line = Invoice.objects.get().lines.get()
    assert (line.unit_amount, line.quantity) == (1234.5, 1000)


@pytest.mark.parametrize(
    "content", [b"", b"  \n\n", "\ufeff".encode()], ids=["zero", "blank", "bom"]
)
def test_an_empty_file_is_refused(business, content):
    assert "empty" in _refused(_start(business, content), "empty")


def test_a_header_without_rows_is_refused(business):
    headers, _ = sheet_rows("invoices", [])
    assert "no rows" in _refused(_start(business, csv_bytes(headers, [])), "empty")


def test_a_file_over_the_limit_is_refused_with_the_limit_stated(admin_client, business, settings):
    settings.IMPORT_MAX_FILE_BYTES = 50 * 1000 * 1000
    big = b"Key,Customer\n" + b"x" * (50 * 1000 * 1000)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        UPLOAD,
        {
            "connection": business.pk,
            "data_type": "invoices",
            "file": SimpleUploadedFile("big.csv", big, content_type="text/csv"),
        },
    )
    assert response.status_code == 200
    assert "files up to 50 MB are accepted" in response.content.decode()
    assert not SheetImport.objects.exists()  # nothing kept of a file refused for its size


def test_a_sheet_of_another_type_is_refused_naming_its_type(business, refs):
    content = csv_bytes(*sheet_rows("bills", document(BILLS, "K")))
    message = _refused(_start(business, content), "otherType")
    assert message.startswith("This is a sheet of bills, not of invoices")


def test_unknown_columns_are_named(business, refs):
    headers, rows = sheet_rows("invoices", document(INVOICES, "K"))
    message = _refused(_start(business, csv_bytes([*headers, "Colour"], rows)), "columns")
    assert "'Colour'" in message


def test_a_bad_upload_in_the_admin_shows_the_refusal_on_the_page(admin_client, business):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        UPLOAD,
        {
            "connection": business.pk,
            "data_type": "invoices",
            "file": SimpleUploadedFile("x.xlsx", b"not a workbook"),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "is not an .xlsx workbook" in response.content.decode()
