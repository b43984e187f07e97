"""invoice_create / invoice_update write an invoice and its lines together or not at all, and
the invoice knows whether it changed since its last successful push."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.utils import timezone

from pushes.models import Invoice, InvoiceLine
from pushes.payloads import invoice_build_payload, payload_hash
from pushes.selectors import PushState, invoice_push_state, invoice_totals, invoices_in_push_state
from pushes.services.invoices import (
    InvoiceData,
    InvoiceInvalid,
    invoice_create,
    invoice_update,
)
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    TaxRateFactory,
    TrackingOptionFactory,
    invoice_data,
    invoice_line,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection():
    return ConnectionFactory(service_name="quickbooks")


@pytest.fixture
def clerk():
    return get_user_model().objects.create_user("clerk")


def test_create_stores_the_invoice_its_lines_and_who_wrote_it(connection, clerk):
    account = AccountFactory(connection=connection)
    option = TrackingOptionFactory(connection=connection)
    data = invoice_data(
        connection=connection,
        lines=[
            invoice_line(description="first", account=account, tracking_options=[option]),
            invoice_line(description="second", account=account),
        ],
    )

    invoice = invoice_create(data=data, user=clerk)

    assert [(line.position, line.description) for line in invoice.lines.all()] == [
        (0, "first"),
        (1, "second"),
    ]
    assert list(invoice.lines.first().tracking_options.all()) == [option]
    assert invoice.created_by == clerk and invoice.updated_by == clerk
    assert invoice.created_at is not None
    assert invoice.payload_hash == payload_hash(invoice_build_payload(invoice))


def test_update_changes_lines_in_place_adds_and_removes(connection, clerk):
    invoice = invoice_create(
        data=invoice_data(
            connection=connection,
            lines=[invoice_line(description="keep"), invoice_line(description="drop")],
        ),
        user=clerk,
    )
    keep = invoice.lines.get(description="keep")
    other = get_user_model().objects.create_user("other")
    data = InvoiceData.from_invoice(invoice)
    data.lines = [
        invoice_line(id=keep.pk, description="kept, changed", quantity="5"),
        invoice_line(description="new"),
    ]

    updated = invoice_update(invoice=invoice, data=data, user=other)

    lines = list(updated.lines.all())
    assert [line.description for line in lines] == ["kept, changed", "new"]
    assert lines[0].pk == keep.pk and lines[0].quantity == Decimal("5")
    assert updated.created_by == clerk
    assert updated.updated_by == other


def test_a_failing_line_leaves_the_invoice_as_it_was(connection, monkeypatch):
    invoice = invoice_create(data=invoice_data(connection=connection, memo="before"))
    data = InvoiceData.from_invoice(invoice)
    data.memo = "after"
    data.lines = [*data.lines, invoice_line(description="boom")]
    # Lines are written in bulk: the insert carrying the new line fails.
    real_bulk_create = InvoiceLine.objects.bulk_create

    def fail_on_boom(lines, *args, **kwargs):
        if any(line.description == "boom" for line in lines):
            raise IntegrityError("disk full")
        return real_bulk_create(lines, *args, **kwargs)

    monkeypatch.setattr(InvoiceLine.objects, "bulk_create", fail_on_boom)

    with pytest.raises(IntegrityError):
        invoice_update(invoice=invoice, data=data)

    invoice.refresh_from_db()
    assert invoice.memo == "before"
    assert invoice.lines.count() == 1


def test_a_line_of_another_invoice_cannot_be_taken_over(connection):
    first = invoice_create(data=invoice_data(connection=connection, invoice_number="A"))
    second = invoice_create(data=invoice_data(connection=connection, invoice_number="B"))
    data = InvoiceData.from_invoice(second)
    data.lines = [invoice_line(id=first.lines.get().pk, description="stolen")]

    with pytest.raises(InvoiceInvalid, match="Line 1 is not a line of this invoice"):
        invoice_update(invoice=second, data=data)

    assert first.lines.get().description == "Roasting services"


def test_push_state_follows_the_last_successful_push(connection):
    draft = invoice_create(data=invoice_data(connection=connection, status="draft"))
    assert invoice_push_state(draft) is PushState.DRAFT
    ready = invoice_update(invoice=draft, data=invoice_data(connection=connection))
    assert invoice_push_state(ready) is PushState.READY
    assert not ready.changed_since_push

    # What the push pipeline writes when a push succeeds.
    Invoice.objects.filter(pk=ready.pk).update(
        provider_record_id="INV-SRC-1",
        last_pushed_at=timezone.now(),
        last_pushed_hash=payload_hash(invoice_build_payload(ready)),
    )
    pushed = Invoice.objects.get(pk=ready.pk)
    assert invoice_push_state(pushed) is PushState.PUSHED
    assert not pushed.changed_since_push

    data = InvoiceData.from_invoice(pushed)
    data.memo = "Corrected memo"
    changed = invoice_update(invoice=pushed, data=data)
    assert changed.changed_since_push
    assert invoice_push_state(changed) is PushState.CHANGED
    assert changed.provider_record_id == "INV-SRC-1"

    every = Invoice.objects.all()
    assert list(invoices_in_push_state(every, state="changed")) == [changed]
    assert not invoices_in_push_state(every, state="pushed").exists()
    assert not invoices_in_push_state(every, state="no-such-state").exists()


def test_totals_round_each_line_half_up_in_the_currency(connection):
    gst = TaxRateFactory(connection=connection, total_rate=Decimal("5"))
    unknown = TaxRateFactory(connection=connection, total_rate=None, effective_rate=None)
    invoice = invoice_create(
        data=invoice_data(
            connection=connection,
            lines=[
                # 3 x 0.335 = 1.005 -> 1.01; 10 % off 1.005 = 0.1005 -> 0.10; tax on 0.91
                invoice_line(
                    quantity="3", unit_amount="0.335", discount_percentage="10", tax_rate=gst
                ),
                invoice_line(quantity="1", unit_amount="20", tax_rate=unknown),
            ],
        )
    )

    totals = invoice_totals(lines=invoice.lines.all(), currency="CAD")

    assert totals.subtotal == Decimal("21.01")
    assert totals.discount == Decimal("0.10")
    assert totals.tax == Decimal("0.05")  # 5 % of 0.91 = 0.0455
    assert totals.total == Decimal("20.96")
    assert totals.tax_complete is False
    assert invoice_totals(lines=invoice.lines.all(), currency="JPY").subtotal == Decimal("21")
