"""A customer or vendor the accounting system already has is changed from its mirrored row:
"Compose a change" opens a draft holding the row's values (addresses included), whose push is
an update of that party; a second click opens the same record, never a second copy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pushes.models import CustomerRecord, VendorRecord
from pushes.push_options_selectors import push_operation_for
from tests.factories import ConnectionFactory, CustomerFactory, VendorFactory, invoice_plain_static  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]


@pytest.mark.parametrize(
    ("factory", "model"), [(CustomerFactory, CustomerRecord), (VendorFactory, VendorRecord)]
)
def test_compose_a_change_opens_a_draft_with_the_row_s_values(admin_client, factory, model):
    connection = ConnectionFactory()
    row = factory(
        connection=connection,
        remote_id="88",
        name="Acme Ltd",
        email="ap@acme.example",
        raw={"billingAddress": {"city": "Halifax", "country": "CAN", "postalCode": "B3H"}},
    )
    listing = admin_client.get(
        reverse(f"admin:refs_{row._meta.model_name}_changelist"), {"business": connection.pk}
    )
    add = reverse(f"admin:pushes_{model._meta.model_name}_add")
    link = f"{add}?connection={connection.pk}&amp;edits={row.pk}"
    assert link in listing.content.decode()

    opened = admin_client.get(link.replace("&amp;", "&"))

    record = model.objects.get()
    assert opened.status_code == 302
    assert opened.url == reverse(f"admin:pushes_{model._meta.model_name}_change", args=[record.pk])
    assert (record.status, record.provider_record_id) == ("draft", "88")
    assert (record.name, record.email, record.billing_city, record.billing_country) == (
        "Acme Ltd",
        "ap@acme.example",
        "Halifax",
        "CAN",
    )
    assert push_operation_for(record) == "update"
    admin_client.get(link.replace("&amp;", "&"))
    assert model.objects.count() == 1


def test_a_row_of_another_connection_is_not_opened(admin_client):
    connection = ConnectionFactory()
    elsewhere = CustomerFactory(connection=ConnectionFactory())
    add = reverse("admin:pushes_customerrecord_add")

    response = admin_client.get(f"{add}?connection={connection.pk}&edits={elsewhere.pk}")

    assert response.status_code == 302
    assert not CustomerRecord.objects.exists()
