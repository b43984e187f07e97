"""The emulator's demo data has exactly the shape of Railz's read responses, refers only to
records of its own business, and is the same on every run."""

import copy
import os
import subprocess
import sys
from collections import Counter

import pytest
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from railzpush.emulator import demo_data
from railzpush.emulator.demo_data import (
    DEFAULT_COUNTS,
    DEMO_CONNECTIONS,
    REFERENCE_TYPES,
    business_info,
    business_item,
    connection_item,
    records,
    supports,
)

CONNECTION_IDS = [c["service_name"] for c in DEMO_CONNECTIONS]


def _inline(node, schemas, depth=0):
    """The schema with every `#/components/schemas/...` $ref replaced by its target."""
    assert depth < 30, "unexpectedly deep (recursive?) schema"
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(schemas[node["$ref"].rsplit("/", 1)[1]], schemas, depth + 1)
        return {key: _inline(value, schemas, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, schemas, depth + 1) for value in node]
    return node


def _closed(node):
    """Forbid properties the spec does not declare, so a misspelt field name fails too."""
    if isinstance(node, dict):
        node = {key: _closed(value) for key, value in node.items()}
        if "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [_closed(value) for value in node]
    return node


def _item_validator(spec, path):
    """Validator for one element of `data` in the 200 response of GET `path`."""
    response = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schemas = spec["components"]["schemas"]
    data = _inline(response["schema"], schemas)["properties"]["data"]
    item = data["items"] if data.get("type") == "array" else data["allOf"][0]
    return OAS30ReadValidator(_closed(copy.deepcopy(item)), format_checker=oas30_format_checker)


def _problems(validator, items):
    return [
        f"{item.get('id', '?')}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for item in items
        for error in validator.iter_errors(item)
    ]


@pytest.fixture(scope="module")
def demo_records():
    """Every record of every type for every demo connection, generated once for the module."""
    return {
        (c["connection_uuid"], data_type): list(records(c, data_type))
        for c in DEMO_CONNECTIONS
        for data_type in REFERENCE_TYPES
    }


def test_demo_connections_are_the_four_businesses_of_the_brief():
    table = [
        (c["connection_uuid"], c["business_name"], c["service_name"], c["status"])
        for c in DEMO_CONNECTIONS
    ]
    assert table == [
        (
            "CON-9f1c2a4e-0001-4c5a-8b2e-7d1e3f5a0001",
            "Maple Leaf Coffee Roasters",
            "xero",
            "active",
        ),
        (
            "CON-9f1c2a4e-0002-4c5a-8b2e-7d1e3f5a0002",
            "Harbor Freight Logistics",
            "quickbooks",
            "active",
        ),
        (
            "CON-9f1c2a4e-0003-4c5a-8b2e-7d1e3f5a0003",
            "Summit Outdoor Group",
            "oracleNetsuite",
            "active",
        ),
        (
            "CON-9f1c2a4e-0004-4c5a-8b2e-7d1e3f5a0004",
            "Old Mill Bakery",
            "sageBusinessCloud",
            "disconnected",
        ),
    ]
    business_uuids = [c["business_uuid"] for c in DEMO_CONNECTIONS]
    assert all(uuid.startswith("BIZ-") for uuid in business_uuids)
    assert len(set(business_uuids)) == 4


@pytest.mark.parametrize("data_type", REFERENCE_TYPES)
def test_every_record_matches_the_spec_item_schema(railz_spec, demo_records, data_type):
    validator = _item_validator(railz_spec, f"/v2/accounting/{data_type}")
    for c in DEMO_CONNECTIONS:
        items = demo_records[(c["connection_uuid"], data_type)]
        assert _problems(validator, items) == [], c["service_name"]


def test_connection_business_and_info_items_match_the_spec(railz_spec):
    checks = [
        ("/v2/connections", connection_item),
        ("/v2/businesses", business_item),
        ("/v2/businesses/info", business_info),
    ]
    for path, build in checks:
        validator = _item_validator(railz_spec, path)
        assert _problems(validator, [build(c) for c in DEMO_CONNECTIONS]) == [], path


def test_a_field_the_spec_does_not_declare_is_caught(railz_spec):
    # Guards the check above: the closed schemas really reject invented or misspelt fields.
    validator = _item_validator(railz_spec, "/v2/accounting/customers")
    customer = next(records(DEMO_CONNECTIONS[0], "customers"))
    assert _problems(validator, [{**customer, "customerNmae": "x"}]) != []
    assert _problems(validator, [{**customer, "status": "inactive"}]) != []


@pytest.mark.parametrize("data_type", REFERENCE_TYPES)
def test_ids_are_unique_within_each_connection_and_type(demo_records, data_type):
    for c in DEMO_CONNECTIONS:
        ids = Counter(item["id"] for item in demo_records[(c["connection_uuid"], data_type)])
        assert [i for i, n in ids.items() if n > 1] == [], c["service_name"]


def test_ids_look_like_the_providers_own():
    xero, quickbooks, netsuite, sage = DEMO_CONNECTIONS
    xero_id = next(records(xero, "customers"))["id"]
    assert len(xero_id) == 36 and xero_id.count("-") == 4
    assert next(records(quickbooks, "customers"))["id"].isdigit()
    assert next(records(netsuite, "customers"))["id"].isdigit()
    sage_id = next(records(sage, "customers"))["id"]
    assert len(sage_id) == 32 and int(sage_id, 16) >= 0


# A fingerprint of everything the module generates, including a longer customer list. Kept as
# a script so a fresh interpreter can run it without importing the test machinery.
DIGEST_SCRIPT = """
import hashlib, json
from railzpush.emulator import demo_data as d
h = hashlib.sha256()
for c in d.DEMO_CONNECTIONS:
    parts = [d.connection_item(c), d.business_item(c), d.business_info(c)]
    parts += [list(d.records(c, t)) for t in d.REFERENCE_TYPES]
    parts.append(list(d.records(c, "customers", count=2_000)))
    h.update(json.dumps(parts, sort_keys=True).encode())
digest = h.hexdigest()
"""


def _digest():
    namespace = {}
    exec(DIGEST_SCRIPT, namespace)  # noqa: S102 - our own constant
    return namespace["digest"]


def test_generation_is_the_same_in_every_run_and_process():
    here = _digest()
    assert _digest() == here
    # A fresh interpreter with another hash seed: nothing may depend on hash() or on state
    # left behind by an earlier call.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT + "print(digest)"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    )
    assert out.stdout.strip() == here


def test_a_longer_list_starts_with_the_default_one():
    c = DEMO_CONNECTIONS[1]
    assert list(records(c, "customers", count=400))[:250] == list(records(c, "customers"))


@pytest.mark.parametrize("connection", DEMO_CONNECTIONS, ids=CONNECTION_IDS)
def test_references_point_to_records_of_the_same_connection(demo_records, connection):
    def by_id(data_type):
        return {r["id"]: r for r in demo_records[(connection["connection_uuid"], data_type)]}

    accounts, tax_rates = by_id("accounts"), by_id("taxRates")
    customers, vendors = by_id("customers"), by_id("vendors")
    tracking, payment_methods = by_id("trackingCategories"), by_id("paymentMethods")
    info = business_info(connection)
    subsidiaries = {s["id"]: s for s in info["subsidiaryRefs"]}
    info_locations = {loc["id"] for s in info["subsidiaryRefs"] for loc in s["locations"]}
    currency_ids = {ref["id"] for ref in info["currencyRefs"]}
    currency_codes = {ref["symbol"] for ref in info["currencyRefs"]}

    def assert_ref(ref, target, what):
        assert ref["id"] in target, f"{what} {ref} not found"
        if "name" in ref:
            name_field = next(
                f for f in ("name", "customerName", "vendorName") if f in target[ref["id"]]
            )
            assert ref["name"] == target[ref["id"]][name_field], f"{what} {ref} has a stale name"

    for account in accounts.values():
        if "parentRef" in account:
            assert_ref(account["parentRef"], accounts, "account parent")
        if "taxRateRef" in account:
            assert_ref(account["taxRateRef"], tax_rates, "account tax rate")
    for item in by_id("inventory").values():
        for side in ("invoiceItem", "billItem"):
            assert_ref(item[side]["accountRef"], accounts, f"inventory {side} account")
            if "taxRateRef" in item[side]:
                ref = item[side]["taxRateRef"]
                assert_ref(ref, tax_rates, f"inventory {side} tax rate")
                assert ref["effectiveTaxRate"] == tax_rates[ref["id"]]["effectiveTaxRate"]
        for stock in item.get("quantityOnHand", []):
            assert_ref(stock["accountRef"], accounts, "inventory stock account")
            if "locationRef" in stock:
                assert_ref(stock["locationRef"], tracking, "inventory location")
                assert stock["locationRef"]["id"] in info_locations
    for party in [*customers.values(), *vendors.values()]:
        if "parentRef" in party:
            assert_ref(party["parentRef"], customers, "parent customer")
        if "paymentMethodRef" in party:
            assert_ref(party["paymentMethodRef"], payment_methods, "payment method")
            assert (
                party["paymentMethodRef"]["type"]
                == payment_methods[party["paymentMethodRef"]["id"]]["type"]
            )
        if "currency" in party:
            assert party["currency"] in currency_codes
    for record in [*accounts.values(), *customers.values(), *vendors.values(), *tracking.values()]:
        for ref in record.get("subsidiaryRefs", []):
            assert ref["id"] in subsidiaries
            assert ref["name"] == subsidiaries[ref["id"]]["name"]
    for category in tracking.values():
        if "parentRef" in category:
            assert_ref(category["parentRef"], tracking, "tracking category parent")
            assert tracking[category["parentRef"]["id"]]["hasChildren"] is True
    for sub in info["subsidiaryRefs"]:
        assert {cur["id"] for cur in sub["currencies"]} <= currency_ids
        if "parentRef" in sub:
            assert sub["parentRef"]["id"] in subsidiaries
    location_categories = {t["id"] for t in tracking.values() if t["type"] == "location"}
    if connection["service_name"] != "xero":
        # Xero has no locations: its "Region" category is a reporting dimension only.
        assert info_locations <= location_categories


def test_the_references_check_notices_a_dangling_ref(demo_records):
    # Guards the test above: it reads the refs where the records really keep them.
    c = DEMO_CONNECTIONS[2]
    items = demo_records[(c["connection_uuid"], "inventory")]
    account_ids = {a["id"] for a in demo_records[(c["connection_uuid"], "accounts")]}
    assert all(item["invoiceItem"]["accountRef"]["id"] in account_ids for item in items)
    assert any(a.get("parentRef") for a in demo_records[(c["connection_uuid"], "accounts")])


def test_each_business_has_its_home_currency_and_subsidiaries():
    expected = {
        "xero": "CAD",
        "quickbooks": "USD",
        "oracleNetsuite": "USD",
        "sageBusinessCloud": "GBP",
    }
    for c in DEMO_CONNECTIONS:
        info = business_info(c)
        home = expected[c["service_name"]]
        assert info["baseCurrency"] == home
        bases = [ref["symbol"] for ref in info["currencyRefs"] if ref["isBaseCurrency"]]
        assert bases == [home]
        assert len(info["currencyRefs"]) > 1, "a few foreign currencies too"
        currencies = Counter(p.get("currency") for p in records(c, "customers"))
        assert currencies.most_common(1)[0][0] == home
        assert len(currencies) > 2, "some customers bill in foreign currencies"
        subsidiaries = info["subsidiaryRefs"]
        if c["service_name"] == "oracleNetsuite":
            assert len(subsidiaries) == 3
            assert all(s["locations"] for s in subsidiaries)
        else:
            assert len(subsidiaries) == 1


def test_tax_rates_fit_where_each_business_trades():
    names = {
        c["service_name"]: {r["name"]: r for r in records(c, "taxRates")} for c in DEMO_CONNECTIONS
    }
    assert names["xero"]["GST + PST (BC)"]["totalTaxRate"] == 12.0
    assert names["xero"]["HST (ON)"]["effectiveTaxRate"] == 13.0
    assert any("CA" in n for n in names["quickbooks"])
    assert {"CO - Denver", "CA-GST", "UK-Standard Rate (S)"} <= set(names["oracleNetsuite"])
    assert names["sageBusinessCloud"]["Standard 20.00%"]["totalTaxRate"] == 20.0
    for rates in names.values():
        for rate in rates.values():
            assert rate["totalTaxRate"] == pytest.approx(sum(p["rate"] for p in rate["components"]))


def test_tracking_categories_follow_each_provider():
    xero, quickbooks, netsuite, sage = DEMO_CONNECTIONS
    xero_top = [t["name"] for t in records(xero, "trackingCategories") if "parentRef" not in t]
    assert xero_top == ["Region", "Channel"]
    netsuite_types = Counter(t["type"] for t in records(netsuite, "trackingCategories"))
    assert set(netsuite_types) == {"department", "class", "location"}
    assert {t["type"] for t in records(quickbooks, "trackingCategories")} == {"class", "location"}
    assert not supports(sage, "trackingCategories")
    assert list(records(sage, "trackingCategories")) == []
    assert not supports(xero, "paymentMethods")
    # The emulator asks by provider for connections of any business, demo or not.
    assert not supports("xero", "paymentMethods")
    assert supports("quickbooks", "paymentMethods")
    assert supports(netsuite["connection_uuid"], "trackingCategories")


@pytest.mark.parametrize("connection", DEMO_CONNECTIONS, ids=CONNECTION_IDS)
def test_tricky_but_valid_records_are_there(demo_records, connection):
    uuid = connection["connection_uuid"]
    names = [c.get("customerName", "") for c in demo_records[(uuid, "customers")]]
    assert any("'" in n and "é" in n for n in names), "apostrophe and accents"
    assert max(len(n) for n in names) == 255, "a name at Xero's contact-name limit"
    assert any('"' in n for n in names), "quotes"
    assert any(not n.isascii() and "é" not in n for n in names), "non-Latin script"
    assert any(
        set(c) == {"id", "customerName", "status", "isPerson"}
        for c in demo_records[(uuid, "customers")]
    )
    assert any("code" not in item for item in demo_records[(uuid, "inventory")]), (
        "item without code"
    )
    for data_type in ("customers", "vendors", "inventory"):
        statuses = Counter(r["status"] for r in demo_records[(uuid, data_type)])
        assert statuses["active"] > statuses["archived"] > 0, data_type


def test_counts_default_per_type_and_follow_the_count_argument():
    c = DEMO_CONNECTIONS[0]
    for data_type, n in DEFAULT_COUNTS.items():
        assert sum(1 for _ in records(c, data_type)) == n
    assert sum(1 for _ in records(c, "customers", count=7)) == 7
    assert sum(1 for _ in records(c, "inventory", count=400)) == 400
    assert sum(1 for _ in records(c, "accounts", count=5)) == 5
    assert list(records(c, "vendors", count=0)) == []


def test_records_are_fresh_dicts_each_call():
    c = DEMO_CONNECTIONS[2]
    first = next(records(c, "accounts"))
    first["name"] = "changed"
    assert next(records(c, "accounts"))["name"] != "changed"


def test_bad_arguments_get_a_clear_error():
    c = DEMO_CONNECTIONS[0]
    with pytest.raises(ValueError, match="data_type must be one of"):
        records(c, "invoices")
    with pytest.raises(ValueError, match="count must be"):
        records(c, "customers", count=-1)
    with pytest.raises(KeyError, match="not one of the demo connections"):
        records("CON-unknown", "customers")


def test_records_accept_a_connection_uuid_as_well_as_the_dict():
    c = DEMO_CONNECTIONS[3]
    assert list(records(c["connection_uuid"], "taxRates")) == list(records(c, "taxRates"))
    assert demo_data.connection_item(c["connection_uuid"]) == connection_item(c)
