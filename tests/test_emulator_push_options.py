"""pushOptions tells, per provider and data type, which fields a push needs."""

import pytest

from railzpush.railz import RailzRejected
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_QUICKBOOKS, DEMO_XERO


def _options(client, connection_uuid, data_type="invoices"):
    return client.push_options(connection_uuid=connection_uuid, data_type=data_type)["data"]


def test_entries_name_provider_type_and_method(emulator_client):
    entries = _options(emulator_client, DEMO_QUICKBOOKS)

    titles = {e["title"] for e in entries}
    assert titles == {
        "quickbooks invoices POST",
        "quickbooks invoices PUT",
    }
    post = next(e for e in entries if e["method"] == "POST")
    assert post["requestType"] == "invoices"
    assert post["serviceName"] == "quickbooks"
    assert post["properties"]["customerRef"] == {
        "type": "object",
        "description": "customerRef",
        "required": True,
        "enumValues": [],
    }
    assert post["properties"]["lines"]["required"] is True
    assert post["properties"]["subsidiaryRefs"]["required"] is False
    assert "at most 21 characters" in post["properties"]["invoiceNumber"]["description"]


def test_xero_describes_the_account_or_item_rule_on_lines(emulator_client):
    post = next(e for e in _options(emulator_client, DEMO_XERO) if e["method"] == "POST")

    assert "inventoryRef" in post["properties"]["lines.accountRef"]["description"]
    assert "accountRef" in post["properties"]["lines.inventoryRef"]["description"]


def test_netsuite_requires_subsidiaries(emulator_client):
    post = next(e for e in _options(emulator_client, DEMO_NETSUITE) if e["method"] == "POST")

    assert post["properties"]["subsidiaryRefs"]["required"] is True


def test_enum_fields_list_their_values(emulator_client):
    entries = _options(emulator_client, DEMO_QUICKBOOKS, "invoices")
    post = next(e for e in entries if e["method"] == "POST")

    assert post["properties"]["lines.trackingCategoryRefs.type"]["enumValues"] == [
        "class",
        "department",
        "location",
        "unknown",
    ]


def test_without_a_data_type_every_supported_operation_is_listed(emulator_client):
    entries = emulator_client.push_options(connection_uuid=DEMO_NETSUITE)["data"]

    titles = {e["title"] for e in entries}
    assert "oracleNetsuite invoices POST" in titles
    assert "oracleNetsuite customers batch POST" in titles
    # NetSuite has no invoice delete, and deletes have no body to describe anyway.
    assert not any(e["method"] == "DELETE" for e in entries)


def test_an_unknown_data_type_is_refused(emulator_client):
    with pytest.raises(RailzRejected):
        emulator_client.push_options(connection_uuid=DEMO_XERO, data_type="balanceSheets")
