"""Reference-data reads page, order and answer 202/204/400/404 the way Railz does."""

import pytest

from railzpush.railz import RailzDataNotReady, RailzNotSupported
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_OLD_MILL, DEMO_QUICKBOOKS, DEMO_XERO

REFERENCE_PATHS = [
    "/v2/accounting/customers",
    "/v2/accounting/vendors",
    "/v2/accounting/accounts",
    "/v2/accounting/taxRates",
    "/v2/accounting/inventory",
    "/v2/accounting/trackingCategories",
    "/v2/accounting/paymentMethods",
]


def test_connections_lists_the_demo_businesses(emulator_client):
    connections = {c["connectionUuid"]: c for c in emulator_client.connections()}

    assert set(connections) == {DEMO_XERO, DEMO_QUICKBOOKS, DEMO_NETSUITE, DEMO_OLD_MILL}
    assert connections[DEMO_XERO]["serviceName"] == "xero"
    assert connections[DEMO_OLD_MILL]["status"] == "disconnected"


def test_businesses_carry_their_connection(emulator_client):
    businesses = emulator_client.businesses()

    by_name = {b["businessName"]: b for b in businesses}
    assert by_name["Summit Outdoor Group"]["connections"][0]["connectionUuid"] == DEMO_NETSUITE


def test_business_info_has_subsidiaries_with_locations_and_currencies(emulator_client):
    info = emulator_client.business_info(connection_uuid=DEMO_NETSUITE)

    assert info["subsidiaryRefs"]
    assert any(s.get("locations") for s in info["subsidiaryRefs"])
    assert info["currencyRefs"]


def test_customers_page_through_all_records_with_unique_ids(emulator_client):
    pages = list(
        emulator_client.iter_pages(
            "/v2/accounting/customers", connection_uuid=DEMO_QUICKBOOKS, limit=100
        )
    )

    ids = [item["id"] for page in pages for item in page.items]
    assert [len(p.items) for p in pages] == [100, 100, 50]
    assert {p.count for p in pages} == {250}
    assert len(set(ids)) == 250


@pytest.mark.parametrize("path", REFERENCE_PATHS)
def test_every_reference_type_reads_for_quickbooks(emulator_client, path):
    pages = list(emulator_client.iter_pages(path, connection_uuid=DEMO_QUICKBOOKS))

    assert pages and all(item["id"] for page in pages for item in page.items)


def test_limit_defaults_to_100(emulator):
    body = emulator.get("/v2/accounting/customers", connectionUuid=DEMO_XERO).json()

    assert body["pagination"] == {"offset": 0, "limit": 100, "count": 250}
    assert len(body["data"]) == 100
    assert body["meta"]["connectionUuid"] == DEMO_XERO


def test_limit_above_500_is_refused(emulator):
    response = emulator.get("/v2/accounting/customers", connectionUuid=DEMO_XERO, limit=501)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == ["limit must not be greater than 500"]


def test_bad_offset_and_limit_are_all_listed(emulator):
    response = emulator.get(
        "/v2/accounting/customers", connectionUuid=DEMO_XERO, offset="x", limit=900
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == [
        "offset must be an integer number",
        "limit must not be greater than 500",
    ]


def test_order_by_name_ascending_and_descending(emulator):
    def names(order_by):
        body = emulator.get(
            "/v2/accounting/customers", connectionUuid=DEMO_XERO, limit=500, orderBy=order_by
        ).json()
        return [c["customerName"].lower() for c in body["data"]]

    ascending = names("customerName")
    descending = names("-customerName")

    assert ascending == sorted(ascending)
    assert descending == sorted(descending, reverse=True)


def test_order_by_any_other_field(emulator):
    body = emulator.get(
        "/v2/accounting/customers",
        connectionUuid=DEMO_XERO,
        limit=500,
        orderBy="-sourceModifiedDate",
    ).json()

    dates = [c["sourceModifiedDate"] for c in body["data"] if "sourceModifiedDate" in c]
    assert dates == sorted(dates, reverse=True)


def test_order_by_id(emulator):
    body = emulator.get(
        "/v2/accounting/accounts", connectionUuid=DEMO_QUICKBOOKS, orderBy="id"
    ).json()

    ids = [a["id"] for a in body["data"]]
    assert ids == sorted(ids)


def test_reads_answer_202_while_data_is_being_prepared(emulator, emulator_client):
    emulator.control("set_data_ready", connectionUuid=DEMO_XERO, seconds=600)

    response = emulator.get("/v2/accounting/customers", connectionUuid=DEMO_XERO)

    assert response.status_code == 202
    assert set(response.json()) == {"pagination", "meta", "data"}
    with pytest.raises(RailzDataNotReady):
        list(emulator_client.iter_pages("/v2/accounting/customers", connection_uuid=DEMO_XERO))
    assert emulator.get("/v2/accounting/customers", connectionUuid=DEMO_NETSUITE).ok


def test_no_data_of_a_type_answers_204_without_body(emulator, emulator_client):
    # The demo business has open invoices and bills to pay, but no payment yet.
    response = emulator.get("/v2/accounting/invoices/payments", connectionUuid=DEMO_XERO)

    assert response.status_code == 204
    assert response.content == b""
    pages = emulator_client.iter_pages(
        "/v2/accounting/invoices/payments", connection_uuid=DEMO_XERO
    )
    assert list(pages) == []


def test_a_type_the_provider_lacks_is_endpoint_not_allowed(emulator, emulator_client):
    response = emulator.get("/v2/accounting/paymentMethods", connectionUuid=DEMO_XERO)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == ["Endpoint Not Allowed"]
    with pytest.raises(RailzNotSupported):
        list(emulator_client.iter_pages("/v2/accounting/paymentMethods", connection_uuid=DEMO_XERO))


def test_missing_connection_uuid_is_a_400(emulator):
    response = emulator.get("/v2/accounting/customers")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "statusCode": 400,
            "message": ["connectionUuid should not be empty"],
            "error": "Bad Request",
        },
        "payload": {},
    }


def test_unknown_connection_is_a_404(emulator):
    response = emulator.get("/v2/accounting/customers", connectionUuid="CON-nope")

    assert response.status_code == 404
    assert response.json()["error"]["statusCode"] == 404


@pytest.mark.parametrize("path", ["/v2/accounting/nothing", "/v3/connections", "/"])
def test_unknown_routes_are_404_in_the_envelope(emulator, path):
    response = emulator.get(path, connectionUuid=DEMO_XERO)

    assert response.status_code == 404
    assert response.json()["error"]["error"] == "Not Found"


def test_outside_the_api_unknown_paths_are_404_too(emulator):
    import requests

    response = requests.get(f"{emulator.base_url}/nothing-here", timeout=10)

    assert response.status_code == 404
    assert response.json()["payload"] == {}


def test_malformed_json_is_a_400(emulator):
    response = emulator.send(
        "POST",
        "/v2/accounting/invoices",
        data=b'{"connectionUuid": ',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"][0].startswith("Unexpected token in JSON")
