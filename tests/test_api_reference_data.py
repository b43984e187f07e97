"""Reference data reads: one connection's active rows by default, archived on request, searched
and paged, with a number of queries that does not grow with the page."""

import pytest
from django.utils import timezone

from refs.models import (
    Account,
    Currency,
    Customer,
    Item,
    Location,
    PaymentMethod,
    Subsidiary,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    Vendor,
)
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.api import make_ref

ENDPOINTS = {
    "customers": Customer,
    "vendors": Vendor,
    "accounts": Account,
    "tax-rates": TaxRate,
    "items": Item,
    "tracking-categories": TrackingCategory,
    "tracking-options": TrackingOption,
    "payment-methods": PaymentMethod,
    "subsidiaries": Subsidiary,
    "locations": Location,
    "currencies": Currency,
}


@pytest.mark.parametrize(("endpoint", "model"), ENDPOINTS.items())
def test_each_type_lists_only_the_chosen_connections_active_rows(
    api, api_connection, api_other_connection, endpoint, model
):
    make_ref(model, api_connection, "1", "Alpha")
    make_ref(model, api_connection, "2", "Gone", archived_at=timezone.now())
    make_ref(model, api_connection, "3", "Closed", status="archived")
    make_ref(model, api_other_connection, "1", "Other business")

    response = api.get(f"/api/v1/{endpoint}/", {"connection": api_connection.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [(r["remote_id"], r["name"], r["connection"]) for r in body["results"]] == [
        ("1", "Alpha", api_connection.pk)
    ]

    archived = api.get(
        f"/api/v1/{endpoint}/",
        {"connection": api_connection.connection_uuid, "include_archived": "true"},
    ).json()
    assert sorted(r["remote_id"] for r in archived["results"]) == ["1", "2", "3"]
    assert {r["remote_id"]: r["is_archived"] for r in archived["results"]} == {
        "1": False,
        "2": True,
        "3": True,
    }


@pytest.mark.parametrize(("endpoint", "model"), ENDPOINTS.items())
def test_each_type_retrieves_one_row_and_404s_an_unknown_id(api, api_connection, endpoint, model):
    row = make_ref(model, api_connection, "77", "Seventy-seven")
    response = api.get(f"/api/v1/{endpoint}/{row.pk}/")
    assert response.status_code == 200
    assert response.json()["remote_id"] == "77"
    missing = api.get(f"/api/v1/{endpoint}/{row.pk + 1000}/")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["rule"] == "notFound"
    assert api.get(f"/api/v1/{endpoint}/not-a-number/").status_code == 404


def test_search_matches_names_emails_and_exact_remote_ids(api, api_connection):
    make_ref(Customer, api_connection, "C-1", "Acme Roasting", email="ap@acme.example")
    make_ref(Customer, api_connection, "C-2", "Bean There", email="hello@bean.example")
    make_ref(Customer, api_connection, "C-3", "Grind House", email="acme-alias@grind.example")

    def found(term):
        response = api.get("/api/v1/customers/", {"search": term})
        return sorted(r["remote_id"] for r in response.json()["results"])

    assert found("acme") == ["C-1", "C-3"]
    assert found("bean") == ["C-2"]
    assert found("C-3") == ["C-3"]
    assert found("C-") == []  # remote ids match exactly, not by part


def test_accounts_are_searched_by_code(api, api_connection):
    make_ref(Account, api_connection, "200", "Sales", code="4000")
    make_ref(Account, api_connection, "300", "Rent", code="6100")
    response = api.get("/api/v1/accounts/", {"search": "6100"})
    assert [r["remote_id"] for r in response.json()["results"]] == ["300"]


def test_tracking_categories_carry_their_active_options(api, api_connection):
    region = make_ref(TrackingCategory, api_connection, "R", "Region", category_type="class")
    make_ref(TrackingOption, api_connection, "R-E", "East", category=region)
    make_ref(TrackingOption, api_connection, "R-W", "West", category=region)
    make_ref(TrackingOption, api_connection, "R-X", "Old", category=region, status="archived")

    body = api.get("/api/v1/tracking-categories/").json()
    [category] = body["results"]
    assert category["category_type"] == "class"
    assert [o["remote_id"] for o in category["options"]] == ["R-E", "R-W"]

    archived = api.get("/api/v1/tracking-categories/", {"include_archived": "true"}).json()
    assert [o["remote_id"] for o in archived["results"][0]["options"]] == ["R-E", "R-X", "R-W"]

    options = api.get("/api/v1/tracking-options/").json()["results"]
    assert {o["remote_id"]: o["category"] for o in options} == {"R-E": region.pk, "R-W": region.pk}


@pytest.mark.parametrize("value", ["abc", "12x", "-1", "CON"])
def test_a_malformed_connection_filter_is_a_400_naming_the_parameter(api, value):
    response = api.get("/api/v1/customers/", {"connection": value})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "connection"
    assert error["rule"] == "invalid"
    assert "connection_uuid" in error["message"]


def test_an_unknown_connection_lists_nothing(api, api_connection):
    make_ref(Customer, api_connection, "1")
    for value in ("999999", "CON-does-not-exist"):
        assert api.get("/api/v1/customers/", {"connection": value}).json()["count"] == 0


def test_a_search_with_a_null_character_is_a_400(api):
    response = api.get("/api/v1/customers/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "search"


def test_pages_are_numbered_and_sized_by_the_caller(api, api_connection):
    for n in range(7):
        make_ref(Vendor, api_connection, f"V{n}", f"Vendor {n}")
    first = api.get("/api/v1/vendors/", {"page_size": 3}).json()
    assert first["count"] == 7
    assert [r["remote_id"] for r in first["results"]] == ["V0", "V1", "V2"]
    second = api.get(first["next"]).json()
    assert [r["remote_id"] for r in second["results"]] == ["V3", "V4", "V5"]
    third = api.get("/api/v1/vendors/", {"page_size": 3, "page": 3}).json()
    assert [r["remote_id"] for r in third["results"]] == ["V6"]
    beyond = api.get("/api/v1/vendors/", {"page_size": 3, "page": 4})
    assert beyond.status_code == 404


# The token (with its user), the user's permissions and its groups', COUNT, the page; tracking
# categories add their options.
@pytest.mark.parametrize(
    ("endpoint", "model", "queries"),
    [
        ("tracking-categories", TrackingCategory, 6),
        ("tracking-options", TrackingOption, 5),
        ("items", Item, 5),
        ("customers", Customer, 5),
        ("accounts", Account, 5),
    ],
)
def test_queries_per_page_do_not_grow_with_the_page_size(
    api, api_connection, django_assert_num_queries, endpoint, model, queries
):
    category = make_ref(TrackingCategory, api_connection, "CAT", "Category")
    parent = None
    for n in range(30):
        fields = {}
        if model is TrackingOption:
            fields["category"] = category
        if model in (Customer, Account) and parent is not None:
            fields["parent"] = parent
        row = make_ref(model, api_connection, f"R{n:02}", f"Row {n:02}", **fields)
        if model is TrackingCategory:
            make_ref(TrackingOption, api_connection, f"O{n:02}", "Option", category=row)
        parent = parent or row
    api.get(f"/api/v1/{endpoint}/")  # writes the token's last use, once a minute at most

    for size in (5, 25):
        with django_assert_num_queries(queries):
            response = api.get(f"/api/v1/{endpoint}/", {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
