"""The emulator treats payments as the providers do: links name existing documents of the
payment's party, no more than the amount due, a paid document's amount due drops and a fully
paid one is locked, and deleting the payment gives the amount back."""

from __future__ import annotations

import pytest

from railzpush.emulator.demo_data import documents
from tests.fixtures.emulator import *  # noqa: F403
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.test_emulator_push_lifecycle import _status

pytestmark = pytest.mark.django_db(transaction=True)


def _invoice(client, remote_id):
    (page,) = client.iter_pages(
        "/v2/accounting/invoices", connection_uuid=DEMO_QUICKBOOKS, params={"id": remote_id}
    )
    return page.items[0]


def _pay(client, invoice, amount, *, customer=None):
    answer = client.create(
        "invoicePayments",
        connection_uuid=DEMO_QUICKBOOKS,
        data={
            "customerRef": {"id": customer or invoice["customerRef"]["id"]},
            "totalAmount": amount,
            "lines": [{"amount": amount, "links": [{"type": "invoice", "id": invoice["id"]}]}],
        },
    )
    return _status(client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])


def test_a_payment_lowers_the_amount_due_locks_a_paid_invoice_and_a_delete_gives_it_back(
    emulator_client,
):
    invoice = documents(DEMO_QUICKBOOKS, "invoices")[1]
    due = invoice["amountDue"]

    paid = _pay(emulator_client, invoice, due)

    assert paid["status"] == "success", paid
    after = _invoice(emulator_client, invoice["id"])
    assert after["amountDue"] == 0 and after["status"] == "paid"
    locked = emulator_client.update(
        "invoices",
        connection_uuid=DEMO_QUICKBOOKS,
        record_id=invoice["id"],
        data={"customerRef": invoice["customerRef"], "lines": invoice["lines"]},
    )
    refused = _status(emulator_client, DEMO_QUICKBOOKS, locked["pushCommunicationId"])
    assert refused["status"] == "failed" and "is paid" in str(refused["validation"])

    emulator_client.delete(
        "invoicePayments", connection_uuid=DEMO_QUICKBOOKS, record_id=paid["sourceObjectIds"][0]
    )
    restored = _invoice(emulator_client, invoice["id"])
    assert restored["amountDue"] == due and restored["status"] == "open"


def test_a_link_to_a_missing_or_another_partys_document_or_above_the_amount_due_is_refused(
    emulator_client,
):
    first, _, other_customers = documents(DEMO_QUICKBOOKS, "invoices")[:3]

    too_much = _pay(emulator_client, first, first["amountDue"] + 1)
    theirs = _pay(emulator_client, other_customers, 10, customer=first["customerRef"]["id"])
    missing = _pay(emulator_client, {**first, "id": "404404"}, 10)

    messages = [s["validation"]["errors"][0]["message"] for s in (too_much, theirs, missing)]
    assert all(s["status"] == "failed" for s in (too_much, theirs, missing))
    assert "exceeds the balance due" in messages[0]
    assert "does not belong to customer" in messages[1]
    assert messages[2] == "Invoice 404404 does not exist"
    assert _invoice(emulator_client, first["id"])["amountDue"] == first["amountDue"]


def _credit_note(client, remote_id):
    (page,) = client.iter_pages(
        "/v2/accounting/invoices/creditNotes",
        connection_uuid=DEMO_QUICKBOOKS,
        params={"id": remote_id},
    )
    return page.items[0]


def _pay_with_credit(client, invoice, paid, note, credit, *, customer=None):
    answer = client.create(
        "invoicePayments",
        connection_uuid=DEMO_QUICKBOOKS,
        data={
            "customerRef": {"id": customer or invoice["customerRef"]["id"]},
            "totalAmount": paid - credit,
            "lines": [
                {"amount": paid, "links": [{"type": "invoice", "id": invoice["id"]}]},
                {"amount": credit, "links": [{"type": "creditNote", "id": note["id"]}]},
            ],
        },
    )
    return _status(client, DEMO_QUICKBOOKS, answer["pushCommunicationId"])


def test_applying_a_credit_note_lowers_its_remaining_credit_and_a_delete_gives_it_back(
    emulator_client,
):
    note = documents(DEMO_QUICKBOOKS, "invoiceCreditNotes")[1]
    invoice = next(
        i for i in documents(DEMO_QUICKBOOKS, "invoices") if i["customerRef"] == note["customerRef"]
    )
    credit = note["remainingCredit"]

    paid = _pay_with_credit(emulator_client, invoice, 100, note, credit)

    assert paid["status"] == "success", paid
    used = _credit_note(emulator_client, note["id"])
    assert used["remainingCredit"] == 0 and used["status"] == "paid"
    assert _invoice(emulator_client, invoice["id"])["amountDue"] == invoice["amountDue"] - 100
    emulator_client.delete(
        "invoicePayments", connection_uuid=DEMO_QUICKBOOKS, record_id=paid["sourceObjectIds"][0]
    )
    restored = _credit_note(emulator_client, note["id"])
    assert restored["remainingCredit"] == credit and restored["status"] == "open"


def test_a_credit_note_missing_of_another_party_or_above_its_remaining_credit_is_refused(
    emulator_client,
):
    mine, theirs = documents(DEMO_QUICKBOOKS, "invoiceCreditNotes")[:2]
    invoice = next(
        i for i in documents(DEMO_QUICKBOOKS, "invoices") if i["customerRef"] == mine["customerRef"]
    )

    too_much = _pay_with_credit(emulator_client, invoice, 100, mine, mine["remainingCredit"] + 1)
    other = _pay_with_credit(emulator_client, invoice, 100, theirs, 5)
    missing = _pay_with_credit(emulator_client, invoice, 100, {**mine, "id": "404404"}, 5)

    messages = [s["validation"]["errors"][0]["message"] for s in (too_much, other, missing)]
    assert all(s["status"] == "failed" for s in (too_much, other, missing))
    assert "exceeds the remaining credit" in messages[0]
    assert "does not belong to customer" in messages[1]
    assert messages[2] == "Credit note 404404 does not exist"
    assert _credit_note(emulator_client, mine["id"])["remainingCredit"] == mine["remainingCredit"]
