"""The invoice form stays small with 100,000 customers: no choices are rendered, and the number
of queries does not grow with the reference data."""

from __future__ import annotations

import pytest
from django.db import connection as connection_db
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pushes.services.invoices import invoice_create
from refs.models import Customer
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    ItemFactory,
    TaxRateFactory,
    TrackingOptionFactory,
    invoice_data,
    invoice_line,
    invoice_plain_static,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]

CUSTOMERS = 100_000


@pytest.fixture(scope="module")
def crowded_connection(django_db_setup, django_db_blocker):
    """A connection with 100,000 customers, made once for this module's tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        connection = ConnectionFactory(business_name="Harbor Freight", service_name="quickbooks")
        now = timezone.now()
        Customer.objects.bulk_create(
            (
                Customer(
                    connection=connection,
                    remote_id=str(n),
                    name=f"Customer {n:06d}",
                    content_hash="0" * 32,
                    synced_at=now,
                )
                for n in range(CUSTOMERS)
            ),
            batch_size=5_000,
        )
    yield connection
    # One statement: the ORM's delete would visit every row for its relations. Customer's
    # parent key is unindexed on purpose (rows are archived, never deleted), so for the delete
    # alone an index spares checking every row's children by a scan of the table. It is dropped
    # only once the delete has committed: PostgreSQL checks deferred keys at COMMIT, and
    # without the index by then each of the 100,000 checks scanned the table (11 minutes).
    with django_db_blocker.unblock():
        with connection_db.cursor() as cursor:
            cursor.execute("CREATE INDEX rp_teardown_parent ON refs_customer (parent_id)")
        try:
            with transaction.atomic():
                with connection_db.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM refs_customer WHERE connection_id = %s", [connection.pk]
                    )
                connection.delete()
        finally:
            with connection_db.cursor() as cursor:
                cursor.execute("DROP INDEX rp_teardown_parent")


@pytest.fixture
def crowded_invoice(crowded_connection):
    connection = crowded_connection
    customer = Customer.objects.get(connection=connection, remote_id="54321")
    lines = [
        invoice_line(
            description=f"Line {n}",
            account=AccountFactory(connection=connection),
            item=ItemFactory(connection=connection),
            tax_rate=TaxRateFactory(connection=connection),
            tracking_options=[TrackingOptionFactory(connection=connection)],
        )
        for n in range(3)
    ]
    return invoice_create(data=invoice_data(connection=connection, customer=customer, lines=lines))


def test_the_change_form_renders_in_bounded_queries(
    admin_client, crowded_invoice, django_assert_max_num_queries
):
    url = reverse("admin:pushes_invoice_change", args=[crowded_invoice.pk])

    # Constant in the number of lines and customers; a few go to naming the referenced
    # records beside their ids in the request body, the last refusal and the currencies.
    with django_assert_max_num_queries(50):
        page = admin_client.get(url).content.decode()

    assert "Customer 054321" in page  # the chosen customer is shown
    assert "Customer 054320" not in page  # no other is rendered
    assert len(page) < 200_000


def test_the_add_form_renders_in_bounded_queries(
    admin_client, crowded_connection, django_assert_max_num_queries
):
    url = f"{reverse('admin:pushes_invoice_add')}?connection={crowded_connection.pk}"

    with django_assert_max_num_queries(15):
        page = admin_client.get(url).content.decode()

    assert "Customer 000001" not in page


def test_the_customer_autocomplete_pages_through_the_crowd(
    admin_client, crowded_connection, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = admin_client.get(
            "/admin/autocomplete/",
            {
                "connection": crowded_connection.pk,
                "app_label": "pushes",
                "model_name": "invoice",
                "field_name": "customer",
                "term": "Customer 09999",
            },
        )

    # Every word must match: "Customer" and "09999".
    assert [r["text"] for r in response.json()["results"]] == [
        "Customer 009999",
        *(f"Customer 09999{n}" for n in range(10)),
    ]
