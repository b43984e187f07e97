"""What identifies a record (number, party, total, date) reads the same from the body a push
sent and from the record Railz returns for it, for any record type; a match needs the number or
party and no identifying field that differs."""

from pushes.services.identity import identity_differences, identity_proves, record_identity
from railzpush.emulator.pushes import read_shape

INVOICE = {
    "invoiceNumber": "INV-7",
    "customerRef": {"id": "C-1"},
    "postedDate": "2025-03-03",
    "lines": [
        {"quantity": 2, "unitAmount": 150.5, "taxAmount": 30},
        {"unitAmount": 19.99},
    ],
}


def test_a_pushed_invoice_and_the_record_read_back_have_one_identity():
    sent = record_identity(INVOICE)
    read = record_identity(
        read_shape(data_type="invoices", data=INVOICE, remote_id="9001", previous=None)
    )
    assert sent == {"number": "INV-7", "party": "C-1", "total": "350.99", "date": "2025-03-03"}
    assert read == sent
    assert identity_proves(sent, read)


def test_bills_are_identified_by_vendor_and_vendor_invoice_number():
    bill = {"vendorInvoiceNumber": "B-1", "vendorRef": {"id": "V-9"}, "totalAmount": "12.5"}
    assert record_identity(bill) == {
        "number": "B-1",
        "party": "V-9",
        "total": "12.50",
        "date": None,
    }


def test_another_number_or_party_is_named_and_never_proves_a_match():
    sent = record_identity(INVOICE)
    other = record_identity({**INVOICE, "invoiceNumber": "INV-8", "customerRef": {"id": "C-2"}})
    assert identity_differences(sent, other, fields=("number", "party")) == [
        "number INV-8 instead of INV-7",
        "party C-2 instead of C-1",
    ]
    assert not identity_proves(sent, other)
    # Same number and party, another total: not proven either.
    assert not identity_proves(sent, record_identity({**INVOICE, "lines": []}))


def test_without_number_or_party_nothing_is_proven():
    bare = record_identity({"lines": [{"unitAmount": 5}]})
    assert not identity_proves(bare, bare)
