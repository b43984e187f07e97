"""The payment composer's open-documents address: for the chosen customer (or vendor) in the
chosen connection, their documents still owing, oldest first, with number, dates, currency,
total and amount due, then their credit notes with credit remaining; nobody else's, nothing
paid, void or archived, and only for staff who may see payments. The lines' autocomplete
narrows to the same party once it is named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import (
    ConnectionFactory,
    CustomerFactory,
    OpenBillCreditNoteFactory,
    OpenBillFactory,
    OpenInvoiceCreditNoteFactory,
    OpenInvoiceFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

URL = "admin:pushes_invoicepayment_open_documents"


@pytest.fixture
def clerk(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_invoicepayment"))
    client.force_login(user)
    return client


@pytest.fixture
def books():
    connection = ConnectionFactory()
    customer = CustomerFactory(connection=connection)
    other = CustomerFactory(connection=connection)
    newer = OpenInvoiceFactory(
        connection=connection, party=customer, name="INV-2", posted_date=dt.date(2026, 10, 5)
    )
    older = OpenInvoiceFactory(
        connection=connection,
        party=customer,
        name="INV-1",
        posted_date=dt.date(2026, 9, 1),
        due_date=dt.date(2026, 9, 30),
        total_amount=Decimal("500.00"),
        amount_due=Decimal("125.50"),
        document_status="partiallyPaid",
    )
    OpenInvoiceFactory(
        connection=connection, party=customer, name="PAID", amount_due=0, document_status="paid"
    )
    OpenInvoiceFactory(connection=connection, party=customer, name="VOID", document_status="void")
    OpenInvoiceFactory(connection=connection, party=customer, name="GONE", status="archived")
    OpenInvoiceFactory(connection=connection, party=other, name="OTHERS")
    elsewhere = ConnectionFactory()
    OpenInvoiceFactory(connection=elsewhere, party=customer, name="ELSEWHERE")
    return connection, customer, older, newer


def get(client, connection, party):
    return client.get(reverse(URL), {"connection": connection.pk, "party": party.pk})


def test_only_the_party_s_open_documents_in_the_connection_oldest_first(clerk, books):
    connection, customer, older, newer = books

    response = get(clerk, connection, customer)

    assert response.status_code == 200
    documents = response.json()["documents"]
    assert [d["number"] for d in documents] == ["INV-1", "INV-2"]
    assert documents[0] == {
        "field": "document",
        "kind": "invoice",
        "id": older.pk,
        "label": str(older),
        "number": "INV-1",
        "date": "2026-09-01",
        "due_date": "2026-09-30",
        "currency": "CAD",
        "total": "500.00",
        "amount_due": "125.50",
    }
    assert documents[1]["id"] == newer.pk


def test_a_party_of_another_connection_has_none_here(clerk, books):
    connection, customer, *_ = books
    stranger = CustomerFactory(connection=ConnectionFactory(), remote_id=customer.remote_id)

    assert get(clerk, connection, stranger).json() == {"documents": []}


def test_without_a_party_the_answer_names_the_field(clerk, books):
    connection, *_ = books

    response = clerk.get(reverse(URL), {"connection": connection.pk, "party": "x"})

    assert response.status_code == 400
    assert response.json()["field"] == "party"
    assert "<html" not in response.content.decode()


def test_staff_who_may_not_see_payments_are_refused(client, django_user_model, books):
    connection, customer, *_ = books
    user = django_user_model.objects.create_user("nosy", password="pw", is_staff=True)
    client.force_login(user)

    response = get(client, connection, customer)

    assert response.status_code == 403
    assert "INV-1" not in response.content.decode()


def test_someone_not_logged_in_is_sent_to_log_in(client, books):
    connection, customer, *_ = books

    response = get(client, connection, customer)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_bill_payments_list_the_vendor_s_bills(client, django_user_model, books):
    connection, *_ = books
    vendor = VendorFactory(connection=connection)
    OpenBillFactory(connection=connection, party=vendor, name="BILL-9")
    user = django_user_model.objects.create_superuser("boss", password="pw")
    client.force_login(user)

    response = client.get(
        reverse("admin:pushes_billpayment_open_documents"),
        {"connection": connection.pk, "party": vendor.pk},
    )

    assert [d["number"] for d in response.json()["documents"]] == ["BILL-9"]


def test_the_lines_autocomplete_offers_only_the_named_party_s_documents(
    client, django_user_model, books
):
    connection, customer, *_ = books
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw"))
    query = {
        "app_label": "pushes",
        "model_name": "invoicepaymentline",
        "field_name": "document",
        "connection": connection.pk,
        "term": "",
    }

    everyone = client.get(reverse("admin:autocomplete"), query).json()["results"]
    theirs = client.get(reverse("admin:autocomplete"), {**query, "party": customer.pk})

    assert any("OTHERS" in r["text"] for r in everyone)
    assert [r["text"].split(" ")[0] for r in theirs.json()["results"]] == ["INV-1", "INV-2"]


def test_the_party_s_open_credit_notes_follow_their_documents(clerk, books):
    connection, customer, *_ = books
    note = OpenInvoiceCreditNoteFactory(
        connection=connection,
        party=customer,
        name="CN-1",
        due_date=None,
        total_amount=Decimal("80.00"),
        amount_due=Decimal("30.00"),
        document_status="partiallyPaid",
    )
    OpenInvoiceCreditNoteFactory(
        connection=connection, party=customer, name="USED", amount_due=0, document_status="paid"
    )
    OpenInvoiceCreditNoteFactory(connection=connection, name="OTHERS-CN")

    documents = get(clerk, connection, customer).json()["documents"]

    assert [d["number"] for d in documents] == ["INV-1", "INV-2", "CN-1"]
    assert documents[-1] | {"label": ""} == {
        "field": "credit_note",
        "kind": "creditNote",
        "id": note.pk,
        "label": "",
        "number": "CN-1",
        "date": "2026-10-01",
        "due_date": None,
        "currency": "CAD",
        "total": "80.00",
        "amount_due": "30.00",
    }


def test_bill_payments_list_the_vendor_s_bill_credit_notes(client, django_user_model, books):
    connection, *_ = books
    vendor = VendorFactory(connection=connection)
    OpenBillCreditNoteFactory(connection=connection, party=vendor, name="VCN-1")
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw"))

    response = client.get(
        reverse("admin:pushes_billpayment_open_documents"),
        {"connection": connection.pk, "party": vendor.pk},
    )

    assert [(d["number"], d["field"]) for d in response.json()["documents"]] == [
        ("VCN-1", "credit_note")
    ]
