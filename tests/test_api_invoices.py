"""Invoices through the API: composed with references by remote or local id inside their own
connection, checked by the composer's rules, and refused with the Railz path of each field."""

import pytest

from pushes.models import Invoice, InvoiceLine
from tests.fixtures.api import *  # noqa: F403

INVOICES = "/api/v1/invoices/"


def draft_body(refs, **overrides):
    body = {
        "connection": refs.connection.connection_uuid,
        "customer": {"remote_id": "C-1"},
        "invoice_number": "INV-1001",
        "posted_date": "2026-11-01",
        "due_date": "2026-12-01",
        "currency": "CAD",
        "memo": "November roasting",
        "lines": [
            {
                "description": "Espresso roast",
                "quantity": "3",
                "unit_amount": "40.00",
                "account": {"remote_id": "200"},
                "tax_rate": {"remote_id": "GST"},
                "tracking_options": [{"remote_id": "EAST"}],
            },
            {
                "description": "Cupping session",
                "quantity": "1",
                "unit_amount": "80",
                "account": {"id": refs.services.pk},
                "item": {"remote_id": "ITEM-1"},
            },
        ],
    }
    body.update(overrides)
    return body


def errors_of(response):
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


def test_a_draft_is_created_with_references_by_remote_or_local_id(api, api_refs):
    response = api.post(INVOICES, draft_body(api_refs), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["connection"] == api_refs.connection.pk
    assert body["status"] == "draft"
    assert body["push_state"] == "draft"
    assert body["customer"] == {"id": api_refs.customer.pk, "remote_id": "C-1", "name": "Acme Ltd"}
    first, second = body["lines"]
    assert first["account"]["id"] == api_refs.sales.pk
    assert first["tracking_options"] == [
        {"id": api_refs.east.pk, "remote_id": "EAST", "name": "East"}
    ]
    assert second["account"]["remote_id"] == "210"
    assert second["item"]["id"] == api_refs.item.pk
    assert body["totals"]["subtotal"] == "200.0000"
    assert body["totals"]["tax"] == "6.0000"
    invoice = Invoice.objects.get(pk=body["id"])
    assert invoice.created_by.username == "staff"
    assert [line.account for line in invoice.lines.order_by("position")] == [
        api_refs.sales,
        api_refs.services,
    ]


def test_a_line_pointing_at_another_connections_account_is_refused_with_its_path(api, api_refs):
    body = draft_body(api_refs)
    body["lines"][1]["account"] = {"id": api_refs.other.sales.pk}
    response = api.post(INVOICES, body, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "lines[1].accountRef"
    assert error["rule"] == "sameConnection"
    assert "API Business 2" in error["message"]
    assert not Invoice.objects.exists()


def test_a_remote_id_known_only_in_another_connection_does_not_exist_here(api, api_refs):
    body = draft_body(api_refs, customer={"remote_id": "C-404"})
    body["lines"][0]["account"] = {"remote_id": "999"}
    response = api.post(INVOICES, body, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [("customerRef", "exists"), ("lines[0].accountRef", "exists")]
    assert "does not exist in API Business 1" in response.json()["errors"][1]["message"]
    assert not Invoice.objects.exists()


def test_a_ready_invoice_is_refused_with_every_problem_the_admin_shows(api, api_refs):
    body = draft_body(api_refs, status="ready", customer=None, due_date="2026-10-01")
    body["lines"][0]["quantity"] = None
    response = api.post(INVOICES, body, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        ("customerRef", "required"),
        ("dueDate", "dateOrder"),
        ("lines[0].quantity", "required"),
    ]
    assert response.json()["errors"][0]["message"] == (
        "Customer is required: choose who the invoice is for."
    )
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"posted_date": "01/11/2026"}, [("postedDate", "invalid")]),
        ({"connection": "nowhere"}, [("connectionUuid", "invalid")]),
        ({"connection": 987654}, [("connectionUuid", "exists")]),
        ({"status": "sent"}, [("status", "enum")]),
        ({"customer": {"remote_id": "C-1", "id": 3}}, [("customerRef", "oneOf")]),
        ({"customer": {}}, [("customerRef", "oneOf")]),
        ({"customer": "C-1"}, [("customerRef", "invalid")]),
        ({"lines": {"not": "a list"}}, [("lines", "type")]),
        ({"currency_rate": "lots"}, [("currencyRate", "invalid")]),
        ({"invoice_number": "X" * 22}, [("invoiceNumber", "maxLength")]),
    ],
)
def test_malformed_fields_are_400s_named_by_their_railz_path(api, api_refs, change, expected):
    response = api.post(INVOICES, draft_body(api_refs, **change), format="json")
    assert response.status_code == 400
    assert errors_of(response) == expected
    assert not Invoice.objects.exists()


def test_malformed_lines_are_named_by_index(api, api_refs):
    body = draft_body(api_refs)
    body["lines"][1]["unit_amount"] = "eighty"
    body["lines"][1]["tracking_options"] = [{"remote_id": "EAST"}, {"id": "x"}]
    response = api.post(INVOICES, body, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        ("lines[1].unitAmount", "invalid"),
        ("lines[1].trackingCategoryRefs[1].id", "invalid"),
    ]


@pytest.mark.parametrize("payload", [[], "text", None, 5])
def test_a_body_that_is_not_an_object_is_a_400(api, payload):
    response = api.post(INVOICES, payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_an_invoice_is_retrieved_and_listed_by_connection_and_state(api, api_refs):
    created = api.post(INVOICES, draft_body(api_refs), format="json").json()
    other = api.post(
        INVOICES,
        {"connection": api_refs.other.connection.pk, "invoice_number": "B-1"},
        format="json",
    ).json()
    Invoice.objects.filter(pk=other["id"]).update(status="ready")

    assert api.get(f"{INVOICES}{created['id']}/").json() == created
    assert api.get(f"{INVOICES}999999/").status_code == 404

    def listed(**params):
        return [row["id"] for row in api.get(INVOICES, params).json()["results"]]

    assert listed() == [other["id"], created["id"]]
    assert listed(connection=api_refs.connection.connection_uuid) == [created["id"]]
    assert listed(push_state="ready") == [other["id"]]
    assert listed(status="draft") == [created["id"]]
    assert listed(search="INV-10") == [created["id"]]
    assert listed(posted_after="2026-11-01", posted_before="2026-11-30") == [created["id"]]


def test_listing_invoices_costs_the_same_queries_for_any_page_size(
    api, api_refs, django_assert_num_queries
):
    for n in range(12):
        response = api.post(INVOICES, draft_body(api_refs, invoice_number=f"N-{n}"), format="json")
        assert response.status_code == 201
    # token + the user's permissions and its groups' + COUNT + invoices + lines + tracking
    # options + subsidiaries
    for size in (2, 10):
        with django_assert_num_queries(8):
            response = api.get(INVOICES, {"page_size": size})
        assert len(response.json()["results"]) == size


def test_put_replaces_the_lines_and_keeps_line_ids_given(api, api_refs):
    created = api.post(INVOICES, draft_body(api_refs), format="json").json()
    kept = created["lines"][0]
    body = draft_body(api_refs, memo="")
    body["lines"] = [
        {
            "id": kept["id"],
            "description": "Espresso roast, 5 kg",
            "quantity": "5",
            "unit_amount": "40",
            "account": {"remote_id": "200"},
        }
    ]
    response = api.put(f"{INVOICES}{created['id']}/", body, format="json")
    assert response.status_code == 200, response.json()
    [line] = response.json()["lines"]
    assert line["id"] == kept["id"]
    assert line["quantity"] == "5.0000"
    assert response.json()["memo"] == ""
    assert InvoiceLine.objects.count() == 1


def test_patch_changes_only_the_fields_given(api, api_refs):
    created = api.post(INVOICES, draft_body(api_refs), format="json").json()
    response = api.patch(
        f"{INVOICES}{created['id']}/", {"memo": "Paid by card", "status": "ready"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["memo"] == "Paid by card"
    assert body["status"] == "ready"
    assert [line["id"] for line in body["lines"]] == [line["id"] for line in created["lines"]]
    assert body["customer"]["remote_id"] == "C-1"


def test_an_update_cannot_point_at_another_connections_reference(api, api_refs):
    created = api.post(INVOICES, draft_body(api_refs), format="json").json()
    response = api.patch(
        f"{INVOICES}{created['id']}/", {"customer": {"id": api_refs.other.customer.pk}}
    )
    assert response.status_code == 400
    assert errors_of(response) == [("customerRef", "sameConnection")]


def test_validate_returns_every_problem_until_the_invoice_is_ready(api, api_refs):
    created = api.post(
        INVOICES, {"connection": api_refs.connection.pk, "invoice_number": "D-1"}, format="json"
    ).json()
    response = api.get(f"{INVOICES}{created['id']}/validate/")
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert errors_of(response) == [("customerRef", "required"), ("lines", "minItems")]

    complete = api.post(INVOICES, draft_body(api_refs, invoice_number="D-2"), format="json").json()
    response = api.get(f"{INVOICES}{complete['id']}/validate/")
    # Every check passes, but the provider's rules were never fetched: the answer says so.
    answer = response.json()
    assert answer["valid"] is True and answer["errors"] == []
    assert answer["provider_rules_checked"] is False
    assert [n["rule"] for n in answer["notes"]] == ["providerRulesUnknown"]


def test_a_draft_is_deleted_but_a_pushed_invoice_is_409(api, api_refs):
    draft = api.post(INVOICES, draft_body(api_refs), format="json").json()
    assert api.delete(f"{INVOICES}{draft['id']}/").status_code == 204
    assert not Invoice.objects.filter(pk=draft["id"]).exists()

    pushed = api.post(INVOICES, draft_body(api_refs), format="json").json()
    Invoice.objects.filter(pk=pushed["id"]).update(provider_record_id="xero-inv-1")
    response = api.delete(f"{INVOICES}{pushed['id']}/")
    assert response.status_code == 409
    assert errors_of(response) == [("", "invoicePushed")]
    assert Invoice.objects.filter(pk=pushed["id"]).exists()


def test_invoices_refuse_anonymous_and_non_staff(anonymous_api, api_as, api_user, api_refs):
    assert anonymous_api.get(INVOICES).status_code == 401
    assert anonymous_api.post(INVOICES, draft_body(api_refs), format="json").status_code == 401
    outsider = api_as(api_user)
    assert outsider.get(INVOICES).status_code == 403
    assert outsider.post(INVOICES, draft_body(api_refs), format="json").status_code == 403
    assert not Invoice.objects.exists()


def test_a_retried_create_with_its_key_creates_one_invoice(api, api_refs):
    headers = {"Idempotency-Key": "create-inv-1001"}
    first = api.post(INVOICES, draft_body(api_refs), format="json", headers=headers)
    again = api.post(INVOICES, draft_body(api_refs), format="json", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Invoice.objects.count() == 1

    changed = api.post(
        INVOICES, draft_body(api_refs, memo="another"), format="json", headers=headers
    )
    assert changed.status_code == 422
    assert Invoice.objects.count() == 1


def test_a_refused_create_releases_its_key_for_the_corrected_request(api, api_refs):
    headers = {"Idempotency-Key": "fix-and-retry"}
    bad = draft_body(api_refs, customer={"remote_id": "nope"})
    assert api.post(INVOICES, bad, format="json", headers=headers).status_code == 400
    good = api.post(INVOICES, draft_body(api_refs), format="json", headers=headers)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good


def test_a_body_that_is_not_json_is_a_400_and_another_media_type_a_415(api):
    response = api.post(INVOICES, '{"connection": ', content_type="application/json")
    assert response.status_code == 400
    assert errors_of(response) == [("", "parseError")]
    response = api.post(INVOICES, "connection=1", content_type="text/plain")
    assert response.status_code == 415
    assert errors_of(response) == [("", "unsupportedMediaType")]


def test_an_unknown_path_under_the_api_is_a_json_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert errors_of(response) == [("", "notFound")]
