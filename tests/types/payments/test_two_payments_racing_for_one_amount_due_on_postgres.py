"""On PostgreSQL: two payments pushed at the same moment that together exceed an invoice's
amount due end with one queued and one refused (the document's row is locked while each
decides; SQLite takes one writer at a time, so it cannot show this)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.conf import settings

from pushes.models import PushRequest
from pushes.services.push_requests import PushRefused, push_request_create
from pushes.services.records import record_create
from pushes.spec import LineData, RecordData
from tests.factories import AccountFactory, ConnectionFactory, CustomerFactory, OpenInvoiceFactory
from tests.fixtures.pushes import *  # noqa: F403
from tests.test_push_concurrency_on_postgres import _run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="needs PostgreSQL: SQLite takes one writer at a time, so nothing runs concurrently",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_two_payments_exceeding_the_amount_due_end_with_one_refused(push_staff, monkeypatch):
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kw: None)
    connection = ConnectionFactory()
    customer = CustomerFactory(connection=connection)
    bank = AccountFactory(connection=connection, is_bank_account=True)
    document = OpenInvoiceFactory(connection=connection, party=customer, amount_due=Decimal(100))
    payments = [
        record_create(
            data_type="invoicePayments",
            data=RecordData(
                connection=connection,
                status="ready",
                customer=customer,
                account=bank,
                date="2026-11-20",
                currency="CAD",
                total_amount=amount,
                lines=[LineData(document=document, amount=amount)],
            ),
        )
        for amount in ("70", "60")
    ]

    # Both plans are made (each payment fits the amount due alone) before either is queued:
    # only the queueing, with the document's row locked, can tell them apart.
    from pushes.services import push_requests

    planned = threading.Barrier(2)
    plan = push_requests.push_plan_for

    def plan_then_wait(**kwargs):
        decided = plan(**kwargs)
        planned.wait(10)
        return decided

    monkeypatch.setattr(push_requests, "push_plan_for", plan_then_wait)
    results = _run_together(
        lambda i: push_request_create(record=payments[i], user=push_staff), count=2
    )

    created = [r for r in results if isinstance(r, PushRequest)]
    refused = [r for r in results if isinstance(r, PushRefused)]
    assert len(created) == 1 and len(refused) == 1, results
    assert "still due" in str(refused[0])
    assert PushRequest.objects.count() == 1
