"""Lists are read page by page; 202 is waited out (bounded) and 204 means no data."""

from urllib.parse import parse_qs, urlsplit

import pytest

from railzpush.railz import Page, RailzDataNotReady
from tests.fixtures.railz import RAILZ_API, RAILZ_CONNECTION, railz_page

CUSTOMERS = RAILZ_API + "/v2/accounting/customers"


def _customer(n: int) -> dict:
    return {
        "id": str(100 + n),
        "customerName": f"Customer {n}",
        "status": "active",
        "currencyRef": {"id": "CAD", "name": "Canadian Dollar"},
    }


def _queries(mock, url):
    return [
        {k: v[0] for k, v in parse_qs(urlsplit(c.request.url).query).items()}
        for c in mock.calls
        if c.request.url.startswith(url)
    ]


def test_pages_follow_offset_until_the_count_is_reached(railz_api, railz_client):
    customers = [_customer(n) for n in range(5)]
    railz_api.get(CUSTOMERS, json=railz_page(customers[:2], offset=0, limit=2, count=5))
    railz_api.get(CUSTOMERS, json=railz_page(customers[2:4], offset=2, limit=2, count=5))
    railz_api.get(CUSTOMERS, json=railz_page(customers[4:], offset=4, limit=2, count=5))

    pages = list(
        railz_client().iter_pages(
            "/v2/accounting/customers",
            connection_uuid=RAILZ_CONNECTION,
            limit=2,
            params={"orderBy": "customerName"},
        )
    )

    assert [p.offset for p in pages] == [0, 2, 4]
    assert [item for p in pages for item in p.items] == customers
    assert pages[0] == Page(offset=0, limit=2, count=5, items=customers[:2], status_code=200)
    assert _queries(railz_api, CUSTOMERS) == [
        {"connectionUuid": RAILZ_CONNECTION, "orderBy": "customerName", "offset": o, "limit": "2"}
        for o in ("0", "2", "4")
    ]


def test_a_full_last_page_stops_on_the_count(railz_api, railz_client):
    customers = [_customer(n) for n in range(4)]
    railz_api.get(CUSTOMERS, json=railz_page(customers[:2], offset=0, limit=2, count=4))
    railz_api.get(CUSTOMERS, json=railz_page(customers[2:], offset=2, limit=2, count=4))

    pages = list(
        railz_client().iter_pages(
            "/v2/accounting/customers", connection_uuid=RAILZ_CONNECTION, limit=2
        )
    )

    assert len(pages) == 2
    assert len(_queries(railz_api, CUSTOMERS)) == 2


def test_a_short_page_stops_even_when_the_count_is_missing(railz_api, railz_client):
    body = {"data": [_customer(1)]}
    railz_api.get(CUSTOMERS, json=body)

    pages = list(
        railz_client().iter_pages(
            "/v2/accounting/customers", connection_uuid=RAILZ_CONNECTION, limit=2
        )
    )

    assert [p.count for p in pages] == [None]
    assert len(_queries(railz_api, CUSTOMERS)) == 1


def test_202_is_waited_out_then_the_pages_are_read(railz_api, railz_client, railz_clock):
    customers = [_customer(n) for n in range(3)]
    preparing = railz_page([], offset=0, limit=2, count=0)
    railz_api.get(CUSTOMERS, status=202, json=preparing)
    railz_api.get(CUSTOMERS, status=202, json=preparing)
    railz_api.get(CUSTOMERS, json=railz_page(customers[:2], offset=0, limit=2, count=3))
    railz_api.get(CUSTOMERS, status=202, json=preparing)
    railz_api.get(CUSTOMERS, json=railz_page(customers[2:], offset=2, limit=2, count=3))

    pages = list(
        railz_client().iter_pages(
            "/v2/accounting/customers", connection_uuid=RAILZ_CONNECTION, limit=2
        )
    )

    assert [item for p in pages for item in p.items] == customers
    assert [p.status_code for p in pages] == [200, 200]
    assert railz_clock.sleeps == [1.0, 2.0, 1.0]
    assert [q["offset"] for q in _queries(railz_api, CUSTOMERS)] == ["0", "0", "0", "2", "2"]


def test_202_that_persists_raises_data_not_ready(railz_api, railz_client, railz_clock):
    railz_api.get(CUSTOMERS, status=202, json=railz_page([], offset=0, limit=500, count=0))

    with pytest.raises(RailzDataNotReady) as caught:
        list(
            railz_client(not_ready_retries=3).iter_pages(
                "/v2/accounting/customers", connection_uuid=RAILZ_CONNECTION
            )
        )

    assert caught.value.retryable
    assert len(_queries(railz_api, CUSTOMERS)) == 4
    assert railz_clock.sleeps == [1.0, 2.0, 4.0]


def test_204_yields_no_pages(railz_api, railz_client):
    railz_api.get(CUSTOMERS, status=204)

    pages = list(
        railz_client().iter_pages("/v2/accounting/customers", connection_uuid=RAILZ_CONNECTION)
    )

    assert pages == []


@pytest.mark.parametrize("limit", [501, 0, -1, 2.5, "100"])
def test_a_limit_outside_1_to_500_is_refused_before_any_call(railz_api, railz_client, limit):
    with pytest.raises(ValueError, match="limit must be a whole number from 1 to 500"):
        railz_client().iter_pages(
            "/v2/accounting/customers", connection_uuid=RAILZ_CONNECTION, limit=limit
        )

    assert len(railz_api.calls) == 0


def test_connections_reads_every_page(railz_api, railz_client):
    connection = {
        "connectionUuid": RAILZ_CONNECTION,
        "serviceName": "xero",
        "status": "active",
        "businessUuid": "BIZ-9f1c2a4e-0001-4c5a-8b2e-7d1e3f5a0001",
        "businessName": "Maple Leaf Coffee Roasters",
        "createdAt": "2025-01-10T14:03:22.000Z",
        "updatedAt": "2025-03-01T09:12:45.000Z",
    }
    first_page = [dict(connection, connectionUuid=f"CON-{n}") for n in range(500)]
    railz_api.get(RAILZ_API + "/v2/connections", json={"meta": {"count": 501}, "data": first_page})
    railz_api.get(
        RAILZ_API + "/v2/connections", json={"meta": {"count": 501}, "data": [connection]}
    )

    connections = railz_client().connections()

    assert len(connections) == 501
    assert connections[-1] == connection
    offsets = [q["offset"] for q in _queries(railz_api, RAILZ_API + "/v2/connections")]
    assert offsets == ["0", "500"]


def test_businesses_reads_every_page(railz_api, railz_client):
    business = {
        "businessUuid": "BIZ-9f1c2a4e-0002-4c5a-8b2e-7d1e3f5a0002",
        "businessName": "Harbor Freight Logistics",
        "status": "active",
        "connections": [{"connectionUuid": "CON-2", "serviceName": "quickbooks"}],
    }
    meta = {"count": 1, "offset": 0, "limit": 500, "currentPage": 1, "totalPages": 1}
    railz_api.get(RAILZ_API + "/v2/businesses", json={"meta": meta, "data": [business]})

    assert railz_client().businesses() == [business]


def test_business_info_returns_its_data(railz_api, railz_client):
    data = {
        "businessName": "Summit Outdoor Group",
        "baseCurrency": "USD",
        "currencyRefs": [{"id": "1", "symbol": "USD", "isBaseCurrency": True}],
        "subsidiaryRefs": [{"id": "8", "name": "Summit US", "locations": [{"id": "5"}]}],
    }
    railz_api.get(
        RAILZ_API + "/v2/businesses/info",
        json={"meta": {"connectionUuid": RAILZ_CONNECTION, "reportId": "r1"}, "data": data},
    )

    assert railz_client().business_info(connection_uuid=RAILZ_CONNECTION) == data
    (query,) = _queries(railz_api, RAILZ_API + "/v2/businesses/info")
    assert query == {"connectionUuid": RAILZ_CONNECTION}


def test_status_and_options_send_only_the_filters_given(railz_api, railz_client):
    for path in ("/v2/data/pushStatus", "/v2/data/deleteStatus", "/v2/data/pushOptions"):
        railz_api.get(RAILZ_API + path, json={"meta": {}, "data": []})
    client = railz_client()

    client.push_status(connection_uuid=RAILZ_CONNECTION, push_communication_id="65f1c0a2b3d4")
    client.push_status(connection_uuid=RAILZ_CONNECTION, batch_id="65f1c0a2b3d5")
    client.delete_status(connection_uuid=RAILZ_CONNECTION, delete_communication_id="65f1c0a2")
    client.push_options(connection_uuid=RAILZ_CONNECTION, data_type="invoices")
    client.push_options(connection_uuid=RAILZ_CONNECTION)

    assert _queries(railz_api, RAILZ_API + "/v2/data/pushStatus") == [
        {"connectionUuid": RAILZ_CONNECTION, "pushCommunicationId": "65f1c0a2b3d4"},
        {"connectionUuid": RAILZ_CONNECTION, "batchId": "65f1c0a2b3d5"},
    ]
    assert _queries(railz_api, RAILZ_API + "/v2/data/deleteStatus") == [
        {"connectionUuid": RAILZ_CONNECTION, "deleteCommunicationId": "65f1c0a2"}
    ]
    assert _queries(railz_api, RAILZ_API + "/v2/data/pushOptions") == [
        {"connectionUuid": RAILZ_CONNECTION, "dataType": "invoices"},
        {"connectionUuid": RAILZ_CONNECTION},
    ]
