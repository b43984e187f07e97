"""The push state an invoice shows: its latest push request first, then its own fields."""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from pushes.models import Invoice, PushRequest
from pushes.payloads import invoice_build_payload, payload_hash
from pushes.selectors import (
    PushState,
    invoice_push_state,
    invoices_in_push_state,
    invoices_with_push_state,
)
from pushes.services.invoices import invoice_create
from tests.factories import (
    ConnectionFactory,
    invoice_data,
    invoice_plain_static,  # noqa: F401
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection():
    return ConnectionFactory(service_name="quickbooks")


def push(invoice, state, operation="create"):
    return PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(Invoice),
        object_id=invoice.pk,
        connection=invoice.connection,
        data_type="invoices",
        operation=operation,
        state=state,
    )


def mark_pushed(invoice):
    Invoice.objects.filter(pk=invoice.pk).update(
        last_pushed_at=timezone.now(),
        last_pushed_hash=payload_hash(invoice_build_payload(invoice)),
        provider_record_id="SRC-1",
    )


@pytest.mark.parametrize(
    ("state", "operation", "expected"),
    [
        ("queued", "create", PushState.PUSHING),
        ("pending", "create", PushState.PUSHING),
        ("unknown", "create", PushState.UNKNOWN),
        ("failed", "create", PushState.FAILED),
        ("rejected", "create", PushState.FAILED),
        ("cancelled", "create", PushState.READY),
        ("success", "delete", PushState.DELETED),
    ],
)
def test_the_latest_push_request_speaks_first(connection, state, operation, expected):
    invoice = invoice_create(data=invoice_data(connection=connection))
    push(invoice, "failed")  # an older attempt
    push(invoice, state, operation)

    assert invoice_push_state(Invoice.objects.get(pk=invoice.pk)) is expected
    annotated = invoices_with_push_state(Invoice.objects.all()).get()
    assert invoice_push_state(annotated) is expected
    assert list(invoices_in_push_state(Invoice.objects.all(), state=expected.key)) == [invoice]


def test_after_a_success_the_invoice_fields_decide(connection):
    invoice = invoice_create(data=invoice_data(connection=connection))
    push(invoice, "success")
    mark_pushed(invoice)

    assert invoice_push_state(Invoice.objects.get(pk=invoice.pk)) is PushState.PUSHED
    assert [i.pk for i in invoices_in_push_state(Invoice.objects.all(), state="pushed")] == [
        invoice.pk
    ]


def test_every_state_is_found_by_exactly_its_filter(connection):
    invoices = {
        "draft": invoice_create(data=invoice_data(connection=connection, status="draft")),
        "ready": invoice_create(data=invoice_data(connection=connection, invoice_number="R")),
        "pushing": invoice_create(data=invoice_data(connection=connection, invoice_number="P")),
        "failed": invoice_create(data=invoice_data(connection=connection, invoice_number="F")),
    }
    push(invoices["pushing"], "submitting")
    push(invoices["failed"], "rejected")

    for key, invoice in invoices.items():
        found = invoices_in_push_state(Invoice.objects.all(), state=key)
        assert [i.pk for i in found] == [invoice.pk], key
        assert invoice_push_state(invoice).key == key


@pytest.mark.usefixtures("invoice_plain_static")
def test_the_list_shows_the_failed_badge_and_an_invoice_with_history_cannot_be_deleted(
    admin_client, connection, django_assert_max_num_queries
):
    failed = invoice_create(data=invoice_data(connection=connection, invoice_number="F-1"))
    push(failed, "failed")
    for n in range(10):
        invoice_create(data=invoice_data(connection=connection, invoice_number=f"N-{n}"))

    # The push state comes with the list's own query, not one query per invoice.
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:pushes_invoice_changelist")).content.decode()

    assert re.search(r'class="push-state push-state--red"[^>]*>Push failed</span>', page)
    delete = admin_client.get(reverse("admin:pushes_invoice_delete", args=[failed.pk]))
    assert delete.status_code == 403
