"""References are found within the chosen business by id, code, email or exact name, one query
per kind for the whole file; a missing or ambiguous one is a problem at its cell that offers
the closest candidates, and every problem reads as the composer says it."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from pushes import registry
from pushes.record_checks import record_check
from sheets.checking import sheet_check
from sheets.reading import sheet_read
from sheets.services import import_start
from tests.contract.conftest import RecordKit
from tests.factories import AccountFactory, ConnectionFactory, CustomerFactory
from tests.sheets.conftest import csv_bytes, document, sheet_rows

pytestmark = pytest.mark.django_db

INVOICES = RecordKit(spec=registry.for_data_type("invoices").spec)


def _import(business, records, user=None):
    headers, rows = sheet_rows("invoices", records)
    return import_start(
        connection=business,
        data_type="invoices",
        file_name="in.csv",
        content=csv_bytes(headers, rows),
        user=user,
    )


def _problems(sheet_import):
    return {(p["row"], p["column"]): p for p in sheet_import.preview["problems"]}


def test_a_reference_is_found_by_id_email_code_or_exact_name(business, refs):
    records = [
        *document(INVOICES, "by-name"),
        *document(INVOICES, "by-id", Customer="C-1"),
        *document(INVOICES, "by-email", Customer="ap@acme.test"),
        *document(INVOICES, "by-code", **{"Line account": "Sales"}),
    ]
    sheet_import = _import(business, records)
    assert sheet_import.preview["counts"]["ready"] == 4, sheet_import.preview["problems"]


def test_a_reference_of_another_business_is_not_found(business, refs):
    other = ConnectionFactory(business_name="Other")
    CustomerFactory(connection=other, name="Globex", remote_id="G-1")
    sheet_import = _import(business, document(INVOICES, "K", Customer="Globex"))
    problem = _problems(sheet_import)[2, "Customer"]
    assert problem["rule"] == "exists"
    assert "No customer of this business has 'Globex'" in problem["message"]


def test_a_missing_reference_offers_the_closest_names(business, refs):
    sheet_import = _import(business, document(INVOICES, "K", Customer="Acme Limited"))
    problem = _problems(sheet_import)[2, "Customer"]
    assert "Closest: Acme Ltd (id C-1)" in problem["message"]
    assert sheet_import.preview["counts"]["problem"] == 1


def test_a_name_shared_by_two_rows_is_ambiguous_and_names_both(business, refs):
    CustomerFactory(connection=business, name="Acme Ltd", remote_id="C-2")
    sheet_import = _import(business, document(INVOICES, "K"))
    problem = _problems(sheet_import)[2, "Customer"]
    assert problem["rule"] == "ambiguous"
    assert "(id C-1)" in problem["message"] and "(id C-2)" in problem["message"]


def test_the_composer_s_problems_come_back_at_their_row_and_column(business, refs):
    records = document(INVOICES, "K", lines=2, Status="ready", **{"Due date": "2026-10-01"})
    records[1]["Line quantity"] = "0"
    sheet_import = _import(business, records)
    problems = _problems(sheet_import)
    assert problems[2, "Due date"]["rule"] == "dueDateBeforePostedDate" or (
        "Due date" in problems[2, "Due date"]["message"]
    )
    assert problems[3, "Line quantity"]["message"] == "Line 2: quantity must be greater than 0."


def test_an_incomplete_record_without_a_status_becomes_a_draft_and_says_what_it_needs(
    business, refs
):
    sheet_import = _import(business, document(INVOICES, "K", Customer=""))
    assert sheet_import.preview["counts"] == {"ready": 0, "draft": 1, "problem": 0, "exists": 0}
    note = sheet_import.preview["draft_notes"][0]
    assert (note["row"], note["column"]) == (2, "Customer")
    assert note["message"] == "Customer is required: choose who the invoice is for."


def test_an_incomplete_record_marked_ready_is_a_problem_not_a_draft(business, refs):
    sheet_import = _import(business, document(INVOICES, "K", Customer="", Status="ready"))
    assert sheet_import.preview["counts"]["problem"] == 1


def test_one_number_twice_in_a_file_is_refused_on_its_second_record(business, refs):
    records = [
        *document(INVOICES, "A", **{"Invoice number": "INV-1"}),
        *document(INVOICES, "B", **{"Invoice number": "INV-1"}),
    ]
    problems = _problems(_import(business, records))
    assert problems[3, "Invoice number"]["rule"] == "unique"


def test_matching_reads_each_reference_kind_once_however_many_rows(business, refs):
    for n in range(30):
        CustomerFactory(connection=business, name=f"Customer {n}", remote_id=f"CX-{n}")
        AccountFactory(connection=business, name=f"Account {n}", code=f"9{n:03d}")
    records = []
    for n in range(30):
        records += document(
            INVOICES, f"K{n}", lines=3, Customer=f"Customer {n}", **{"Line account": f"9{n:03d}"}
        )
    headers, rows = sheet_rows("invoices", records)
    sheet = sheet_read(csv_bytes(headers, rows))
    with CaptureQueriesContext(db) as queries:
        checked = sheet_check(
            sheet, data_type="invoices", connection=business, existing=lambda keys: {}
        )
    assert checked.counts()["ready"] == 30
    assert checked.queries_matching == 2  # customers, accounts: not one per row
    customer_reads = [q for q in queries if 'FROM "refs_customer"' in q["sql"]]
    assert len(customer_reads) == 1


@pytest.mark.parametrize("data_type", ["invoices", "bills"])
def test_numbers_already_used_are_found_for_the_whole_file_at_once_in_the_composer_s_words(
    data_type, business, refs
):
    kit = RecordKit(spec=registry.for_data_type(data_type).spec)
    number = kit.spec.field_at_name(kit.spec.number)
    stored = kit.create(
        connection=business, number="N-K3", **{kit.spec.party: refs[kit.spec.party]}
    )

    def check(count):
        records = [row for n in range(count) for row in document(kit, f"K{n}")]
        sheet = sheet_read(csv_bytes(*sheet_rows(data_type, records)))
        with CaptureQueriesContext(db) as queries:
            checked = sheet_check(
                sheet, data_type=data_type, connection=business, existing=lambda keys: {}
            )
        return checked, len(queries)

    checked, few = check(5)
    _, many = check(40)
    assert many == few  # one look-up for the file's numbers, not one a record
    assert checked.counts()["draft"] == 1
    (draft,) = [r for r in checked.records if r.outcome == "draft"]
    assert draft.key == "K3"
    # What the composer says of the same record, word for word.
    composer = record_check(kit.spec, draft.data, record=None).all()
    assert [(n.column, n.message) for n in draft.notes] == [
        (number.label, p.message) for p in composer if p.rule == "unique"
    ]
    assert f"#{stored.pk}" in draft.notes[0].message
