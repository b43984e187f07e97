"""The refs admin: dropdown search limited to one connection's live rows, read-only changelists
that search and filter without counting whole tables, and connections with their last runs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refs.models import Account, Connection, Customer, SyncRun, TaxRate, TrackingCategory
from refs.models import TrackingOption as Option

NOW = timezone.now()


def make(model, connection, remote_id, name, **fields):
    return model.objects.create(
        connection=connection,
        remote_id=remote_id,
        name=name,
        content_hash="x",
        synced_at=NOW,
        raw={"id": remote_id},
        **fields,
    )


@pytest.fixture
def two_connections(db):
    return (
        Connection.objects.create(
            connection_uuid="CON-a", business_name="Alpha", service_name="xero", status="active"
        ),
        Connection.objects.create(
            connection_uuid="CON-b",
            business_name="Beta",
            service_name="quickbooks",
            status="disconnected",
        ),
    )


@pytest.fixture
def customers(two_connections):
    alpha, beta = two_connections
    make(Customer, alpha, "1", "Acme Ltd", email="ap@acme.com", currency="CAD")
    make(Customer, alpha, "2", "Acme Archived", archived_at=NOW)
    make(Customer, alpha, "3", "Acme Closed In Railz", status="archived")
    make(Customer, alpha, "4", "Zenith")
    make(Customer, beta, "5", "Acme Beta")
    return two_connections


def autocomplete(refs_admin, term, **params):
    query = {"app_label": "refs", "model_name": "customer", "field_name": "parent", "term": term}
    return refs_admin.get(reverse("admin:autocomplete"), {**query, **params})


def test_autocomplete_offers_only_the_connections_live_rows(refs_admin, customers):
    alpha, _ = customers
    response = autocomplete(refs_admin, "acme", connection=alpha.pk)
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Acme Ltd · ap@acme.com · CAD"]


def test_autocomplete_accepts_the_connection_uuid(refs_admin, customers):
    response = autocomplete(refs_admin, "acme", connection="CON-b")
    assert [r["text"] for r in response.json()["results"]] == ["Acme Beta"]


def test_autocomplete_without_connection_offers_live_rows_of_every_connection(
    refs_admin, customers
):
    texts = [r["text"] for r in autocomplete(refs_admin, "acme").json()["results"]]
    assert texts == ["Acme Beta", "Acme Ltd · ap@acme.com · CAD"]


def test_autocomplete_refuses_a_connection_that_is_not_an_id(refs_admin, customers):
    response = autocomplete(refs_admin, "acme", connection="alpha")
    assert response.status_code == 400


def test_autocomplete_searches_accounts_by_code_and_tax_rates_by_name(refs_admin, customers):
    alpha, _ = customers
    rate = make(TaxRate, alpha, "T", "GST on Income", total_rate=5)
    make(Account, alpha, "A", "Sales", code="200", account_type="Revenue", tax_rate=rate)
    make(Account, alpha, "B", "Bank", code="090", account_type="Bank")
    url = reverse("admin:autocomplete")
    base = {"app_label": "refs", "model_name": "account", "connection": alpha.pk}
    found = refs_admin.get(url, {**base, "field_name": "parent", "term": "20"}).json()
    assert [r["text"] for r in found["results"]] == ["200 · Sales · Revenue"]
    found = refs_admin.get(url, {**base, "field_name": "tax_rate", "term": "gst"}).json()
    assert [r["text"] for r in found["results"]] == ["GST on Income (5%)"]


def test_autocomplete_labels_tracking_options_with_their_category(refs_admin, customers):
    alpha, _ = customers
    region = make(TrackingCategory, alpha, "R", "Region", category_type="class")
    make(Option, alpha, "R1", "East", category=region, category_remote_id="R")
    response = refs_admin.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "refs",
            "model_name": "trackingoption",
            "field_name": "category",
            "term": "reg",
            "connection": alpha.pk,
        },
    )
    assert [r["text"] for r in response.json()["results"]] == ["Region"]
    assert str(Option.objects.select_related("category").get()) == "Region: East"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "acme"},
        {"q": "ap@acme.com"},
        {"q": "5"},
        {"status__exact": "active"},
        {"archived": "yes"},
        {"archived": "no", "q": "acme"},
    ],
)
def test_customer_changelist_renders_with_search_and_filters(refs_admin, customers, params):
    alpha, _ = customers
    response = refs_admin.get(
        reverse("admin:refs_customer_changelist"), {"business": alpha.pk, **params}
    )
    assert response.status_code == 200


def test_customer_changelist_search_finds_by_email_and_remote_id(refs_admin, customers):
    url = reverse("admin:refs_customer_changelist")
    page = refs_admin.get(url, {"q": "ap@acme.com", "business": "all"})
    assert list(page.context["cl"].result_list.values_list("remote_id", flat=True)) == ["1"]
    page = refs_admin.get(url, {"q": "4", "business": "all"})
    assert list(page.context["cl"].result_list.values_list("remote_id", flat=True)) == ["4"]


def test_changelists_never_count_the_whole_table(
    refs_admin, customers, django_assert_max_num_queries
):
    url = reverse("admin:refs_customer_changelist")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert refs_admin.get(url, follow=True).status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


@pytest.mark.parametrize(
    "model",
    [
        "customer",
        "vendor",
        "account",
        "taxrate",
        "item",
        "trackingcategory",
        "trackingoption",
        "paymentmethod",
        "subsidiary",
        "location",
        "currency",
        "syncrun",
    ],
)
def test_every_reference_changelist_renders_read_only(refs_admin, customers, model):
    response = refs_admin.get(reverse(f"admin:refs_{model}_changelist"), {"q": "a"}, follow=True)
    assert response.status_code == 200
    assert reverse(f"admin:refs_{model}_changelist") + "add/" not in response.content.decode()


def test_connection_admin_shows_the_last_run_of_each_type_and_the_counts(
    refs_admin, customers, django_assert_max_num_queries
):
    alpha, _ = customers
    started = NOW - timedelta(hours=2)
    for data_type, status in (
        ("customers", "failed"),
        ("customers", "succeeded"),
        ("accounts", "not_ready"),
    ):
        started += timedelta(minutes=10)
        SyncRun.objects.create(
            connection=alpha,
            data_type=data_type,
            status=status,
            started_at=started,
            created=7,
            finished_at=started,
        )
    with django_assert_max_num_queries(12):
        page = refs_admin.get(reverse("admin:refs_connection_change", args=[alpha.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<tr><td>customers</td><td>Succeeded</td>" in html  # the newest of two runs
    assert "<td>customers</td><td>Failed</td>" not in html
    assert "not ready, retry scheduled" in html
    assert "<tr><td>customers</td><td>3</td><td>1</td></tr>" in html  # live, archived
    changelist = refs_admin.get(reverse("admin:refs_connection_changelist")).content.decode()
    assert "accounts: not ready, retry scheduled" in changelist
    assert "never synced" in changelist  # Beta


def test_autocomplete_pages_without_counting_the_whole_connection(refs_admin, two_connections):
    alpha, _ = two_connections
    for n in range(25):
        make(Customer, alpha, f"p{n}", f"Pager {n:02d}")
    first = autocomplete(refs_admin, "pager", connection=alpha.pk).json()
    assert len(first["results"]) == 20 and first["pagination"]["more"] is True
    second = autocomplete(refs_admin, "pager", connection=alpha.pk, page=2).json()
    assert [r["text"] for r in second["results"]] == [f"Pager {n}" for n in range(20, 25)]
    assert second["pagination"]["more"] is False


def test_reference_lists_open_on_one_business_and_remember_the_choice(refs_admin, customers):
    alpha, beta = customers
    url = reverse("admin:refs_customer_changelist")
    first = refs_admin.get(url)
    assert first.status_code == 302 and "business=" in first["Location"]
    shown = refs_admin.get(first["Location"])
    connections = {row.connection_id for row in shown.context["cl"].result_list}
    assert len(connections) == 1

    refs_admin.get(url, {"business": beta.pk})
    # Chosen once, the business stays chosen, for every reference list.
    assert refs_admin.get(url)["Location"].endswith(f"business={beta.pk}")
    assert refs_admin.get(reverse("admin:refs_account_changelist"))["Location"].endswith(
        f"business={beta.pk}"
    )
    everything = refs_admin.get(url, {"business": "all"})
    assert {r.connection_id for r in everything.context["cl"].result_list} == {alpha.pk, beta.pk}


def test_a_lines_account_autocomplete_offers_only_accounts_a_line_can_post_to(
    refs_admin, customers
):
    alpha, _ = customers
    from tests.factories import AccountFactory

    AccountFactory(connection=alpha, name="Sales - Wholesale", account_type="Income")
    AccountFactory(
        connection=alpha, name="Operating bank", account_type="Bank", is_bank_account=True
    )
    AccountFactory(connection=alpha, name="Trade payables", account_type="Accounts Payable")
    AccountFactory(connection=alpha, name="Trade receivables", account_type="Accounts Receivable")
    query = {
        "app_label": "pushes",
        "model_name": "invoiceline",
        "field_name": "account",
        "term": "",
        "connection": alpha.pk,
        "postable": "1",  # what a document line's account autocomplete asks
    }
    found = refs_admin.get(reverse("admin:autocomplete"), query).json()
    names = " ".join(r["text"] for r in found["results"])
    assert "Sales - Wholesale" in names
    assert "bank" not in names and "payables" not in names and "receivables" not in names
