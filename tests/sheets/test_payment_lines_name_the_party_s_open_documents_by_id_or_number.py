"""A payment line's document (an open invoice or bill of the mirror) is found by its id or its
number among the business's documents of the payment's party, one query per file; one that is
missing, another party's or ambiguous is a problem at its cell with the closest candidates."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from pushes import registry
from pushes.spec import Kind
from sheets.checking import sheet_check
from sheets.reading import sheet_read
from sheets.services import import_start
from tests.contract.conftest import RecordKit
from tests.factories import (
    ConnectionFactory,
    CustomerFactory,
    OpenBillFactory,
    OpenInvoiceFactory,
    VendorFactory,
)
from tests.sheets.conftest import csv_bytes, document, sheet_rows

pytestmark = pytest.mark.django_db

# data type: (prefix of its documents' numbers in `refs`, party and document factories)
PAYMENTS = {
    "invoicePayments": ("OI", CustomerFactory, OpenInvoiceFactory),
    "billPayments": ("OB", VendorFactory, OpenBillFactory),
}


@pytest.fixture(params=list(PAYMENTS))
def payment(request):
    return RecordKit(spec=registry.for_data_type(request.param).spec)


def _link_header(kit: RecordKit) -> str:
    link = next(f for f in kit.spec.line_fields if f.kind is Kind.LINK)
    return f"Line {link.label}"


def _import(business, kit, records):
    headers, rows = sheet_rows(kit.data_type, records)
    return import_start(
        connection=business,
        data_type=kit.data_type,
        file_name="payments.csv",
        content=csv_bytes(headers, rows),
    )


def _problem(sheet_import, row, column):
    problems = {(p["row"], p["column"]): p for p in sheet_import.preview["problems"]}
    assert (row, column) in problems, sheet_import.preview["problems"]
    return problems[row, column]


def test_a_document_is_found_by_its_id_or_its_number(payment, business, refs):
    prefix, _, _ = PAYMENTS[payment.data_type]
    link = _link_header(payment)
    records = [
        *document(payment, "by-number", **{link: f"{prefix}-1"}),
        *document(payment, "by-id", **{link: f"{prefix}-ID-2"}),
    ]
    sheet_import = _import(business, payment, records)
    assert sheet_import.preview["counts"]["ready"] == 2, sheet_import.preview["problems"]


def test_another_party_s_document_is_a_problem_at_its_cell(payment, business, refs):
    _, party_factory, document_factory = PAYMENTS[payment.data_type]
    globex = party_factory(connection=business, name="Globex", remote_id="G-1")
    document_factory(connection=business, party=globex, name="G-DOC-1", remote_id="G-ID-1")
    link = _link_header(payment)
    sheet_import = _import(business, payment, document(payment, "K", **{link: "G-DOC-1"}))
    problem = _problem(sheet_import, 2, link)
    assert problem["rule"] == "sameParty"
    assert "G-DOC-1" in problem["message"] and "Acme Ltd" in problem["message"]
    assert sheet_import.preview["counts"]["problem"] == 1


def test_one_number_of_two_parties_is_the_payment_party_s_document(payment, business, refs):
    """The same number on another party's document does not make the cell ambiguous."""
    prefix, party_factory, document_factory = PAYMENTS[payment.data_type]
    globex = party_factory(connection=business, name="Globex", remote_id="G-1")
    document_factory(connection=business, party=globex, name=f"{prefix}-1", remote_id="G-ID-1")
    sheet_import = _import(business, payment, document(payment, "K"))
    assert sheet_import.preview["counts"]["ready"] == 1, sheet_import.preview["problems"]


def test_a_number_twice_for_the_party_is_ambiguous(payment, business, refs):
    prefix, _, document_factory = PAYMENTS[payment.data_type]
    document_factory(
        connection=business, party=refs[payment.spec.party], name=f"{prefix}-1", remote_id="DUP"
    )
    sheet_import = _import(business, payment, document(payment, "K"))
    problem = _problem(sheet_import, 2, _link_header(payment))
    assert problem["rule"] == "ambiguous"
    assert "DUP" in problem["message"] and f"{prefix}-ID-1" in problem["message"]


def test_a_missing_document_offers_the_closest_numbers(payment, business, refs):
    prefix, _, _ = PAYMENTS[payment.data_type]
    link = _link_header(payment)
    sheet_import = _import(business, payment, document(payment, "K", **{link: f"{prefix}-9"}))
    problem = _problem(sheet_import, 2, link)
    assert problem["rule"] == "exists"
    assert "id, number" in problem["message"]
    assert f"Closest: {prefix}-" in problem["message"]


def test_a_document_of_another_business_is_not_found(payment, business, refs):
    _, party_factory, document_factory = PAYMENTS[payment.data_type]
    other = ConnectionFactory(business_name="Other")
    document_factory(connection=other, party=party_factory(connection=other), name="ELSEWHERE")
    link = _link_header(payment)
    sheet_import = _import(business, payment, document(payment, "K", **{link: "ELSEWHERE"}))
    assert _problem(sheet_import, 2, link)["rule"] == "exists"


def test_documents_are_read_once_however_many_rows(payment, business, refs):
    prefix, _, document_factory = PAYMENTS[payment.data_type]
    party = refs[payment.spec.party]
    for n in range(4, 34):
        document_factory(connection=business, party=party, name=f"{prefix}-{n}")
    link = _link_header(payment)
    records = []
    for n in range(4, 34):
        records += document(payment, f"K{n}", **{link: f"{prefix}-{n}"})
    headers, rows = sheet_rows(payment.data_type, records)
    model = payment.spec.column(
        next(f for f in payment.spec.line_fields if f.kind is Kind.LINK), line=True
    ).related_model
    with CaptureQueriesContext(db) as queries:
        checked = sheet_check(
            sheet_read(csv_bytes(headers, rows)),
            data_type=payment.data_type,
            connection=business,
            existing=lambda keys: {},
        )
    assert checked.counts()["ready"] == 30, [p for r in checked.records for p in r.problems]
    table = f'FROM "{model._meta.db_table}"'
    matching_reads = [q for q in queries if table in q["sql"] and '"name" IN' in q["sql"]]
    assert len(matching_reads) == 1
