"""Composing an invoice in the admin: connection first, dropdowns of that connection only,
lines inline, problems at their fields, and a preview of the exact request body."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from pushes.models import Invoice
from pushes.payloads import invoice_build_payload, payload_hash
from pushes.services.invoices import invoice_create
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    SubsidiaryFactory,
    TaxRateFactory,
    TrackingOptionFactory,
    invoice_data,
    invoice_line,
    invoice_plain_static,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]

ADD = "/admin/pushes/invoice/add/"


@pytest.fixture
def maple():
    return ConnectionFactory(business_name="Maple Leaf Coffee", service_name="xero")


@pytest.fixture
def harbor():
    return ConnectionFactory(business_name="Harbor Freight", service_name="quickbooks")


def line_fields(index: int, **values) -> dict:
    fields = {
        "description": "",
        "quantity": "",
        "unit_amount": "",
        "discount_percentage": "",
        "account": "",
        "item": "",
        "tax_rate": "",
    }
    fields.update(values)
    return {f"lines-{index}-{name}": value for name, value in fields.items()}


def invoice_post(*, lines: list[dict], initial: int = 0, **values) -> dict:
    post = {
        "status": "ready",
        "customer": "",
        "invoice_number": "",
        "posted_date": "2025-03-03",
        "due_date": "2025-04-02",
        "currency": "CAD",
        "currency_rate": "",
        "memo": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    post.update(values)
    for index, line in enumerate(lines):
        post.update(line_fields(index, **line))
    return post


def test_add_asks_for_the_connection_first(admin_client, maple):
    closed = ConnectionFactory(business_name="Old Mill Bakery", status="pending")
    # Disconnected by the business: its invoices queue behind a pause until it reconnects.
    paused = ConnectionFactory(
        business_name="Paused Pantry", status="disconnected", disconnect_reason="expiredCredentials"
    )

    page = admin_client.get(reverse("admin:pushes_invoice_add")).content.decode()

    assert "choose the connection" in page
    assert f'href="/admin/pushes/invoice/add/?connection={maple.pk}"' in page
    assert "Old Mill Bakery" in page
    assert f"?connection={closed.pk}" not in page
    assert (
        "Not available: pending: Railz reaches the accounting system only through an active "
        "connection"
    ) in page
    assert f'href="/admin/pushes/invoice/add/?connection={paused.pk}"' in page


def test_an_inactive_connection_cannot_be_chosen_by_url(admin_client):
    closed = ConnectionFactory(business_name="Old Mill Bakery", status="removed")

    page = admin_client.get(f"{ADD}?connection={closed.pk}").content.decode()

    assert "cannot take invoices now: it is removed" in page
    assert 'name="invoice_number"' not in page


def test_the_form_offers_only_the_chosen_connections_refs_through_autocomplete(
    admin_client, maple, harbor
):
    CustomerFactory(connection=maple, name="Bean There Cafe")
    AccountFactory(connection=maple, name="Coffee sales")

    page = admin_client.get(f"{ADD}?connection={maple.pk}").content.decode()

    assert "Composing for <strong>Maple Leaf Coffee (xero)</strong>" in page
    urls = set(re.findall(r'data-ajax--url="([^"]+)"', page))
    # Every autocomplete is scoped to the chosen connection; a line's account also to what a
    # line can post to.
    base = f"/admin/autocomplete/?connection={maple.pk}"
    assert urls == {base, f"{base}&amp;postable=1"}
    for field in (
        "customer",
        "lines-0-account",
        "lines-0-item",
        "lines-0-tax_rate",
        "lines-0-tracking_options",
    ):
        assert re.search(rf'name="{field}"[^>]*data-ajax--url', page) or re.search(
            rf'data-ajax--url[^>]*name="{field}"', page
        ), field
    # No choices rendered into the page: they come from the autocomplete view.
    assert "Bean There Cafe" not in page and "Coffee sales" not in page


def autocomplete(client, connection, model_name, field_name, term=""):
    response = client.get(
        "/admin/autocomplete/",
        {
            "connection": connection.pk,
            "app_label": "pushes",
            "model_name": model_name,
            "field_name": field_name,
            "term": term,
        },
    )
    assert response.status_code == 200, response.content
    return sorted(result["text"] for result in response.json()["results"])


def test_the_party_select_is_marked_for_the_currency_to_follow_it(admin_client, maple):
    page = admin_client.get(f"{ADD}?connection={maple.pk}").content.decode()

    party = re.search(r'<select[^>]*name="customer"[^>]*>', page).group(0)
    assert 'data-party="1"' in party


def test_autocomplete_returns_only_the_connections_live_rows(admin_client, maple, harbor):
    CustomerFactory(connection=maple, name="Bean There Cafe", email="", currency="")
    CustomerFactory(
        connection=maple, name="Closed Cafe", email="", currency="", archived_at=timezone.now()
    )
    CustomerFactory(connection=harbor, name="Dock Workers Union", email="", currency="")
    AccountFactory(connection=maple, name="Coffee sales", code="200", account_type="")
    AccountFactory(connection=harbor, name="Freight income", code="400", account_type="")
    TrackingOptionFactory(connection=maple, name="Ontario")
    TrackingOptionFactory(connection=harbor, name="Oakland Yard")

    assert autocomplete(admin_client, maple, "invoice", "customer") == ["Bean There Cafe"]
    assert autocomplete(admin_client, harbor, "invoice", "customer") == ["Dock Workers Union"]
    assert autocomplete(admin_client, maple, "invoiceline", "account") == ["200 · Coffee sales"]
    assert autocomplete(admin_client, maple, "invoiceline", "tracking_options") == [
        "Region: Ontario"
    ]


def test_adding_an_invoice_with_lines(admin_client, admin_user, maple):
    customer = CustomerFactory(connection=maple, name="Bean There Cafe")
    account = AccountFactory(connection=maple, remote_id="200")
    gst = TaxRateFactory(connection=maple, remote_id="TAX-5")
    option = TrackingOptionFactory(connection=maple)
    post = invoice_post(
        customer=customer.pk,
        invoice_number="INV-1001",
        memo="March",
        lines=[
            {
                "description": "Espresso beans",
                "quantity": "2",
                "unit_amount": "100.50",
                "account": account.pk,
                "tax_rate": gst.pk,
                "tracking_options": [option.pk],
            },
            {
                "description": "Delivery",
                "quantity": "1",
                "unit_amount": "15",
                "account": account.pk,
            },
        ],
    )

    response = admin_client.post(f"{ADD}?connection={maple.pk}", post)

    assert response.status_code == 302, response.context and response.context["errors"]
    invoice = Invoice.objects.get()
    assert invoice.connection == maple and invoice.status == "ready"
    assert invoice.created_by == admin_user
    assert [line.description for line in invoice.lines.all()] == ["Espresso beans", "Delivery"]
    assert list(invoice.lines.first().tracking_options.all()) == [option]
    assert response["Location"] == reverse("admin:pushes_invoice_changelist")


def form_errors(response) -> dict:
    main = response.context["adminform"].form.errors
    lines = [form.errors for form in response.context["inline_admin_formsets"][0].formset.forms]
    return {"invoice": dict(main), "lines": [dict(errors) for errors in lines]}


def test_problems_are_shown_at_their_fields_and_nothing_is_saved(admin_client, maple):
    customer = CustomerFactory(connection=maple)
    account = AccountFactory(connection=maple)
    invoice_create(data=invoice_data(connection=maple, invoice_number="INV-7"))
    post = invoice_post(
        customer=customer.pk,
        invoice_number="INV-7",
        posted_date="2025-03-03",
        due_date="2025-03-01",
        lines=[
            {"description": "ok", "quantity": "1", "unit_amount": "5", "account": account.pk},
            {"description": "no account", "quantity": "1", "unit_amount": "5"},
            {
                "description": "too much off",
                "quantity": "1",
                "unit_amount": "5",
                "account": account.pk,
                "discount_percentage": "120",
            },
        ],
    )

    response = admin_client.post(f"{ADD}?connection={maple.pk}", post)

    assert response.status_code == 200
    errors = form_errors(response)
    assert errors["invoice"]["invoice_number"][0].startswith(
        "Invoice number INV-7 is already used by invoice #"
    )
    assert errors["invoice"]["due_date"] == [
        "Due date 2025-03-01 is before the posted date 2025-03-03."
    ]
    assert errors["lines"][0] == {}
    assert errors["lines"][1] == {
        "account": ["Line 2: Xero needs an account or an item on every line; choose one."]
    }
    assert errors["lines"][2] == {
        "discount_percentage": ["Line 3: discount must be between 0 and 100 %."]
    }
    assert Invoice.objects.count() == 1


def test_another_connections_reference_posted_by_hand_is_refused_at_the_field(
    admin_client, maple, harbor
):
    foreign = AccountFactory(connection=harbor, name="Freight income", code="", account_type="")
    post = invoice_post(
        status="draft",
        lines=[{"description": "x", "quantity": "1", "unit_amount": "5", "account": foreign.pk}],
    )

    response = admin_client.post(f"{ADD}?connection={maple.pk}", post)

    assert form_errors(response)["lines"][0]["account"][0].startswith(
        "Line 1: account Freight income belongs to another connection (Harbor Freight"
    )
    assert not Invoice.objects.exists()


def test_a_draft_may_be_saved_incomplete(admin_client, maple):
    post = invoice_post(status="draft", posted_date="", due_date="", currency="", lines=[])

    response = admin_client.post(f"{ADD}?connection={maple.pk}", post)

    assert response.status_code == 302
    assert Invoice.objects.get().status == "draft"


def test_a_badly_typed_date_is_refused_at_the_field(admin_client, maple):
    response = admin_client.post(
        f"{ADD}?connection={maple.pk}",
        invoice_post(status="draft", posted_date="2025-13-45", lines=[]),
    )

    assert form_errors(response)["invoice"]["posted_date"] == ["Enter a valid date."]


def test_the_change_form_previews_the_exact_request_body(admin_client, maple):
    invoice = invoice_create(
        data=invoice_data(
            connection=maple,
            lines=[
                invoice_line(
                    account=AccountFactory(connection=maple), quantity="2", unit_amount="100.5"
                )
            ],
        )
    )
    expected = {"connectionUuid": maple.connection_uuid, "data": invoice_build_payload(invoice)}

    page = admin_client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk]))
    html = page.content.decode()

    shown = re.search(r'<pre class="record-payload">(.*?)</pre>', html, re.S).group(1)
    # Folded, with each referenced record's name beside its id (not part of the body).
    assert "<summary>Show what will be sent</summary>" in html
    account = invoice.lines.get().account
    assert f'"id": "{account.remote_id}"    ← {account.name}' in unescape(shown)
    body = re.sub(r"    ← .*$", "", unescape(shown), flags=re.M)
    assert json.loads(body) == expected
    assert "Request body (POST /v2/accounting/invoices)" in html
    assert 'data-total="total">CAD 201.00<' in html
    # Xero's push rules were never fetched for this connection: it is not called ready.
    assert "Not yet checked against Xero&#x27;s rules" in html
    assert "every check passes" not in html

    preview = admin_client.get(reverse("admin:pushes_invoice_preview", args=[invoice.pk]))
    assert preview.json() == expected


def test_editing_lines_through_the_change_form(admin_client, maple):
    account = AccountFactory(connection=maple)
    invoice = invoice_create(
        data=invoice_data(connection=maple, lines=[invoice_line(account=account, description="a")])
    )
    line = invoice.lines.get()
    post = invoice_post(
        customer=invoice.customer.pk,
        invoice_number="INV-1001",
        initial=1,
        lines=[
            {
                "id": line.pk,
                "invoice": invoice.pk,
                "description": "a, changed",
                "quantity": "3",
                "unit_amount": "1",
                "account": account.pk,
            },
            {"description": "b", "quantity": "1", "unit_amount": "2", "account": account.pk},
        ],
    )

    response = admin_client.post(reverse("admin:pushes_invoice_change", args=[invoice.pk]), post)

    assert response.status_code == 302, form_errors(response)
    assert [(x.pk == line.pk, x.description) for x in invoice.lines.all()] == [
        (True, "a, changed"),
        (False, "b"),
    ]


def test_the_list_searches_filters_and_labels_the_push_state(admin_client, maple):
    ready = invoice_create(
        data=invoice_data(connection=maple, invoice_number="INV-1", memo="beans")
    )
    pushed = invoice_create(
        data=invoice_data(connection=maple, invoice_number="INV-2", memo="cups")
    )
    Invoice.objects.filter(pk=pushed.pk).update(
        last_pushed_at=timezone.now(), last_pushed_hash=payload_hash(invoice_build_payload(pushed))
    )
    url = reverse("admin:pushes_invoice_changelist")

    page = admin_client.get(url).content.decode()
    assert re.search(r'class="push-state push-state--blue"[^>]*>Ready to push</span>', page)
    assert re.search(r'class="push-state push-state--green"[^>]*>Pushed</span>', page)

    def listed(**params):
        response = admin_client.get(url, params)
        return sorted(str(i) for i in response.context["cl"].result_list)

    assert listed(q="beans") == ["INV-1"]
    # Quoted, as staff would: unquoted, "Customer 2" would also find INV-2 by its number.
    assert listed(q=f'"{ready.customer.name}"') == ["INV-1"]
    assert listed(q="INV-2") == ["INV-2"]
    assert listed(push_state="pushed") == ["INV-2"]
    assert listed(push_state="ready") == ["INV-1"]
    assert listed(connection__id__exact=maple.pk) == ["INV-1", "INV-2"]


def test_a_field_the_accounting_system_lacks_is_not_offered(admin_client):
    # Xero has no subsidiaries to choose, even when the mirror lists the company as one.
    xero = ConnectionFactory(business_name="One Company Ltd", service_name="xero")
    SubsidiaryFactory(connection=xero)
    page = admin_client.get(f"{ADD}?connection={xero.pk}").content.decode()
    assert 'name="subsidiaries"' not in page
    netsuite = ConnectionFactory(business_name="Group Inc", service_name="oracleNetsuite")
    page = admin_client.get(f"{ADD}?connection={netsuite.pk}").content.decode()
    assert 'name="subsidiaries"' not in page  # none mirrored: nothing to choose from
    SubsidiaryFactory(connection=netsuite)
    page = admin_client.get(f"{ADD}?connection={netsuite.pk}").content.decode()
    assert 'name="subsidiaries"' in page
