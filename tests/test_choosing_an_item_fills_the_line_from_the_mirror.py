"""Choosing an item on a composer line asks what it puts there: its description, unit price,
account and tax rate from the mirror, on the side the document takes (what is sold on an
invoice, what is bought on a bill). Every registered type with item lines answers; only staff
who may compose it are told."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from pushes import registry
from pushes.admin.base import item_fill_fields
from refs.models import Account, Connection, Item, TaxRate

TYPES = tuple(registry.PUSHABLE_TYPES)
WITH_ITEMS = tuple(t for t in TYPES if item_fill_fields(registry.for_data_type(t).spec))


def fill_url(data_type: str) -> str:
    opts = registry.for_data_type(data_type).spec.model_class._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_item_fill")


@pytest.fixture
def item(db):
    connection = Connection.objects.create(
        connection_uuid="CON-1", service_name="xero", status="active"
    )
    now = timezone.now()

    def ref(model, remote_id, name, **extra):
        return model.objects.create(
            connection=connection,
            remote_id=remote_id,
            name=name,
            content_hash="x",
            synced_at=now,
            **extra,
        )

    sales_account = ref(Account, "A-200", "Sales", code="200")
    ref(Account, "A-300", "Purchases", code="300")
    output_tax = ref(TaxRate, "T-OUT", "Output tax", total_rate=Decimal("20"))
    ref(TaxRate, "T-IN", "Input tax", total_rate=Decimal("20"))
    return ref(
        Item,
        "I-1",
        "Espresso beans",
        code="BEAN-1",
        description="Espresso beans, 1 kg",
        unit_price=Decimal("24.500000"),
        account=sales_account,
        tax_rate=output_tax,
        raw={
            "id": "I-1",
            "invoiceItem": {"description": "Espresso beans, 1 kg", "unitPrice": 24.5},
            "billItem": {
                "description": "Espresso beans, 1 kg (purchase)",
                "unitPrice": 11.025,
                "accountRef": {"id": "A-300"},
                "taxRateRef": {"id": "T-IN"},
            },
        },
    )


def test_every_document_type_with_item_lines_is_covered():
    # The four documents bought or sold declare an item on their lines; the others do not.
    assert {"invoices", "bills", "invoiceCreditNotes", "billCreditNotes"} <= set(WITH_ITEMS)


@pytest.mark.parametrize("data_type", WITH_ITEMS)
def test_the_fill_takes_the_side_the_document_is_on(admin_client, item, data_type):
    spec = registry.for_data_type(data_type).spec
    names = item_fill_fields(spec)
    body = admin_client.get(fill_url(data_type), {"item": item.pk}).json()
    fields = body["fields"]
    sold = spec.party != "vendor"
    assert body["side"] == ("sales" if sold else "purchase")
    if sold:
        assert fields[names["description"]] == "Espresso beans, 1 kg"
        assert fields[names["unit_price"]] == "24.50"
        assert fields[names["account"]]["text"].startswith("200 · Sales")
        assert fields[names["tax_rate"]]["text"] == "Output tax (20%)"
    else:
        assert fields[names["description"]] == "Espresso beans, 1 kg (purchase)"
        assert fields[names["unit_price"]] == "11.025"
        assert fields[names["account"]]["id"] == Account.objects.get(remote_id="A-300").pk
        assert fields[names["tax_rate"]]["text"] == "Input tax (20%)"


@pytest.mark.parametrize("data_type", WITH_ITEMS)
def test_an_archived_account_is_not_filled(admin_client, item, data_type):
    Account.objects.update(archived_at=timezone.now())
    spec = registry.for_data_type(data_type).spec
    fields = admin_client.get(fill_url(data_type), {"item": item.pk}).json()["fields"]
    assert item_fill_fields(spec)["account"] not in fields
    assert item_fill_fields(spec)["description"] in fields


@pytest.mark.parametrize("data_type", [t for t in TYPES if t not in WITH_ITEMS])
def test_a_type_without_item_lines_has_no_fill(admin_client, item, data_type):
    try:
        url = fill_url(data_type)
    except NoReverseMatch:
        return  # not composed in the admin at all
    response = admin_client.get(url, {"item": item.pk})
    assert response.status_code == 404
    assert response.json()["field"] == "item"


@pytest.mark.parametrize("given", ["", "abc", "999999"])
def test_an_unknown_item_is_refused_in_the_error_shape(admin_client, item, given):
    response = admin_client.get(fill_url("invoices"), {"item": given})
    assert response.status_code == 400
    assert response.json() == {
        "field": "item",
        "rule": "exists",
        "message": "Choose an item that exists.",
    }


def test_only_staff_who_may_compose_the_type_are_told(client, item):
    user = get_user_model().objects.create_user("reader", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client.force_login(user)
    assert client.get(fill_url("invoices"), {"item": item.pk}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="add_invoice"))
    client.force_login(get_user_model().objects.get(pk=user.pk))
    assert client.get(fill_url("invoices"), {"item": item.pk}).status_code == 200
    # Composing invoices does not open bills.
    assert client.get(fill_url("bills"), {"item": item.pk}).status_code == 403


def test_anonymous_people_are_sent_to_log_in(client, item):
    response = client.get(fill_url("invoices"), {"item": item.pk})
    assert response.status_code == 302
    assert "/login/" in response["Location"]
