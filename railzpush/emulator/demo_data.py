"""Deterministic demo data served by the offline Railz emulator.

Four demo businesses, one per accounting provider, with reference data shaped exactly like the
items of Railz's GET endpoints (`/v2/connections`, `/v2/businesses`, `/v2/businesses/info`,
`/v2/accounting/<data type>`). Everything is a pure function of the connection and the record's
position: the same call gives the same records on every run and every machine, so tests,
screenshots and benchmarks can name a record by its id.

Randomness comes from `random.Random` seeded with a stable string (never `hash()`, which is
salted per process). Bulk lists (customers, vendors) draw from one stream per (connection,
data type), so record i depends only on the connection, the type and i; re-seeding a
generator per record would cost more than building the record itself, and the 100k-customer
benchmark needs the whole list in well under two seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

# Every timestamp below is fixed, so nothing depends on the day the data is generated.
AS_OF = "2024-11-29T17:00:00.000Z"

DEMO_CONNECTIONS: list[dict[str, Any]] = [
    {
        "connection_uuid": "CON-9f1c2a4e-0001-4c5a-8b2e-7d1e3f5a0001",
        "business_name": "Maple Leaf Coffee Roasters",
        "business_uuid": "BIZ-3b7e5d21-0001-4f0a-9c6d-2a8b4c6e0001",
        "service_name": "xero",
        "status": "active",
        "home_currency": "CAD",
        "created_at": "2023-04-18T14:22:31.000Z",
        "updated_at": "2024-11-28T09:15:02.000Z",
        "service_account_id": "8c2b61f4-3d0e-4b7a-9e15-6a4f0d2c7b93",
    },
    {
        "connection_uuid": "CON-9f1c2a4e-0002-4c5a-8b2e-7d1e3f5a0002",
        "business_name": "Harbor Freight Logistics",
        "business_uuid": "BIZ-3b7e5d21-0002-4f0a-9c6d-2a8b4c6e0002",
        "service_name": "quickbooks",
        "status": "active",
        "home_currency": "USD",
        "created_at": "2023-06-02T18:05:47.000Z",
        "updated_at": "2024-11-28T09:16:40.000Z",
        "service_account_id": "9130357766900456",
    },
    {
        "connection_uuid": "CON-9f1c2a4e-0003-4c5a-8b2e-7d1e3f5a0003",
        "business_name": "Summit Outdoor Group",
        "business_uuid": "BIZ-3b7e5d21-0003-4f0a-9c6d-2a8b4c6e0003",
        "service_name": "oracleNetsuite",
        "status": "active",
        "home_currency": "USD",
        "created_at": "2023-09-11T15:40:12.000Z",
        "updated_at": "2024-11-28T09:18:26.000Z",
        "service_account_id": "5184227",
    },
    {
        "connection_uuid": "CON-9f1c2a4e-0004-4c5a-8b2e-7d1e3f5a0004",
        "business_name": "Old Mill Bakery",
        "business_uuid": "BIZ-3b7e5d21-0004-4f0a-9c6d-2a8b4c6e0004",
        "service_name": "sageBusinessCloud",
        "status": "disconnected",
        "home_currency": "GBP",
        "created_at": "2023-02-27T10:12:55.000Z",
        "updated_at": "2024-10-03T08:47:19.000Z",
        "service_account_id": "f1d3c5b7a9e24c6f8b0d2e4a6c8e0f13",
        "disconnect_reason": "disconnectedByCustomer",
    },
]

REFERENCE_TYPES = (
    "customers",
    "vendors",
    "accounts",
    "taxRates",
    "inventory",
    "trackingCategories",
    "paymentMethods",
)

# Generated lists take any count; the other types have the natural size of each provider's
# chart of accounts, tax table and so on, which `records(conn, t)` returns when count is None.
DEFAULT_COUNTS: dict[str, int] = {"customers": 250, "vendors": 120, "inventory": 180}

# From the `**Supported for:**` notes of the read endpoints: Railz answers 404 "Endpoint Not
# Allowed" for these provider/type pairs, so the demo businesses have no such records.
_UNSUPPORTED = {
    ("xero", "paymentMethods"),
    ("sageBusinessCloud", "trackingCategories"),
}


def supports(provider: Mapping[str, Any] | str, data_type: str) -> bool:
    """Whether a provider offers `data_type` at all (else Railz answers 404).

    `provider` is a service name ("xero"), a demo connection or its connection_uuid.
    """
    _check_type(data_type)
    if isinstance(provider, str) and not provider.startswith("CON-"):
        service_name = provider
    else:
        service_name = _connection(provider)["service_name"]
    return (service_name, data_type) not in _UNSUPPORTED


# --------------------------------------------------------------------------------------------
# Connections, businesses, business info


def connection_item(conn: Mapping[str, Any] | str) -> dict[str, Any]:
    """One item of GET /v2/connections `data`."""
    c = _connection(conn)
    item = _base_connection(c)
    item["businessUuid"] = c["business_uuid"]
    item["businessName"] = c["business_name"]
    return item


def business_item(conn: Mapping[str, Any] | str) -> dict[str, Any]:
    """One item of GET /v2/businesses `data`, with the business's one connection."""
    c = _connection(conn)
    return {
        "businessUuid": c["business_uuid"],
        "businessName": c["business_name"],
        # The business stays active when its accounting connection is disconnected.
        "status": "active",
        "createdAt": c["created_at"],
        "updatedAt": c["updated_at"],
        # The spec types metadata as an array of strings (its example shows objects).
        "metadata": [],
        "connections": [_base_connection(c)],
    }


def _base_connection(c: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "connectionUuid": c["connection_uuid"],
        "serviceName": c["service_name"],
        "status": c["status"],
        "createdAt": c["created_at"],
        "updatedAt": c["updated_at"],
        "syncTime": 41.27,
        "isMockData": False,
        "serviceAccountRef": {"id": c["service_account_id"]},
    }
    if "disconnect_reason" in c:
        item["disconnectReason"] = c["disconnect_reason"]
    return item


def business_info(conn: Mapping[str, Any] | str) -> dict[str, Any]:
    """The `data` of GET /v2/businesses/info: identity, currencies, subsidiaries, locations."""
    c = _connection(conn)
    profile = _PROFILES[c["service_name"]]
    currency_ids = {code: cid for cid, code, _ in profile.currencies}
    subsidiaries = []
    for sub in profile.subsidiaries:
        entry: dict[str, Any] = {
            "id": sub.id,
            "name": sub.name,
            "currencies": [{"id": currency_ids[sub.currency]}],
            "locations": [{"id": loc_id} for loc_id, _ in sub.locations],
        }
        if sub.parent_id:
            entry["parentRef"] = {"id": sub.parent_id, "name": _subsidiary(profile, sub.parent_id)}
        subsidiaries.append(entry)
    return {
        **profile.info,
        "businessName": c["business_name"],
        "baseCurrency": c["home_currency"],
        "currencyRefs": [
            {
                "id": cid,
                "isActive": True,
                "isBaseCurrency": code == c["home_currency"],
                "symbol": code,
                "name": name,
            }
            for cid, code, name in profile.currencies
        ],
        "subsidiaryRefs": subsidiaries,
    }


# --------------------------------------------------------------------------------------------
# Reference-data records


def records(
    conn: Mapping[str, Any] | str, data_type: str, *, count: int | None = None
) -> Iterator[dict[str, Any]]:
    """Items of GET /v2/accounting/<data_type> for a demo connection, in the spec's item shape.

    `count` sets the length of customers, vendors and inventory (default DEFAULT_COUNTS) and
    caps the fixed lists (accounts, taxRates, trackingCategories, paymentMethods). Types the
    provider does not offer (see `supports`) yield nothing. Each call builds fresh dicts, so
    callers may change what they get.
    """
    _check_type(data_type)
    c = _connection(conn)
    if count is not None and (not isinstance(count, int) or count < 0):
        raise ValueError(f"count must be a whole number of records, 0 or more (got {count!r})")
    if not supports(c, data_type):
        return iter(())
    profile = _PROFILES[c["service_name"]]
    if data_type in ("customers", "vendors"):
        n = DEFAULT_COUNTS[data_type] if count is None else count
        return _parties(c, profile, data_type, n)
    if data_type == "inventory":
        n = DEFAULT_COUNTS[data_type] if count is None else count
        return _inventory(c, profile, n)
    build = {
        "accounts": _accounts,
        "taxRates": _tax_rates,
        "trackingCategories": _tracking_categories,
        "paymentMethods": _payment_methods,
    }[data_type]
    items = build(c, profile)
    return iter(items if count is None else items[:count])


def _check_type(data_type: str) -> None:
    if data_type not in REFERENCE_TYPES:
        raise ValueError(
            f"data_type must be one of {', '.join(REFERENCE_TYPES)} (got {data_type!r})"
        )


def _connection(conn: Mapping[str, Any] | str) -> Mapping[str, Any]:
    connection_uuid = conn if isinstance(conn, str) else conn["connection_uuid"]
    for c in DEMO_CONNECTIONS:
        if c["connection_uuid"] == connection_uuid:
            return c
    raise KeyError(f"{connection_uuid!r} is not one of the demo connections")


def _guid(*parts: str, dashes: bool = True) -> str:
    """A GUID-like id (Xero, Sage) that is a stable function of `parts`."""
    digest = hashlib.blake2b("/".join(parts).encode(), digest_size=16).digest()
    value = uuid.UUID(bytes=digest, version=4)
    return str(value) if dashes else value.hex


def _timestamp(rng: random.Random) -> str:
    """A sourceModifiedDate between 2022-01-01 and AS_OF."""
    day = _DAYS[int(rng.random() * len(_DAYS))]
    seconds = int(rng.random() * 86_400)
    return (
        f"{day}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        f".{int(rng.random() * 1000):03d}Z"
    )


def _days() -> tuple[str, ...]:
    start, end = dt.date(2022, 1, 1), dt.date(2024, 11, 28)
    return tuple((start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1))


_DAYS = _days()


# --------------------------------------------------------------------------------------------
# Per-provider profiles: ids, currencies, subsidiaries and the fixed reference lists


@dataclass(frozen=True)
class _Subsidiary:
    id: str
    name: str
    currency: str
    parent_id: str | None = None
    locations: tuple[tuple[str, str], ...] = ()  # (id, name); names live in trackingCategories


@dataclass(frozen=True)
class _Profile:
    id_style: str  # "guid" (Xero), "int" (QuickBooks, NetSuite), "hex" (Sage)
    first_party_id: dict[str, int]  # first integer id per party type, for "int" providers
    currencies: tuple[tuple[str, str, str], ...]  # (provider's currency id, ISO code, name)
    currency_mix: tuple[tuple[str, float], ...]  # party currency, cumulative share
    subsidiaries: tuple[_Subsidiary, ...]
    info: dict[str, Any]


def _subsidiary(profile: _Profile, subsidiary_id: str) -> str:
    return next(s.name for s in profile.subsidiaries if s.id == subsidiary_id)


_PROFILES: dict[str, _Profile] = {
    "xero": _Profile(
        id_style="guid",
        first_party_id={},
        currencies=(
            ("CAD", "CAD", "Canadian Dollar"),
            ("USD", "USD", "United States Dollar"),
            ("EUR", "EUR", "Euro"),
            ("GBP", "GBP", "British Pound"),
        ),
        currency_mix=(("CAD", 0.80), ("USD", 0.94), ("EUR", 0.97), ("GBP", 1.0)),
        subsidiaries=(
            _Subsidiary(
                "8c2b61f4-3d0e-4b7a-9e15-6a4f0d2c7b93", "Maple Leaf Coffee Roasters", "CAD"
            ),
        ),
        info={
            "legalName": "Maple Leaf Coffee Roasters Ltd.",
            "businessEmail": "accounts@mapleleafcoffee.ca",
            "website": "www.mapleleafcoffee.ca",
            "primaryPhoneNumber": "604-555-0182",
            "fiscalYearEndDay": 31,
            "fiscalYearEndMonth": 12,
            "industryType": "Food Manufacturing",
            "industryCode": "311920",
            "businessShortCode": "!mK4pR",
            "businessRegistrationNumber": "794532681RT0001",
            "mailingAddress": {
                "line1": "1420 Powell Street",
                "line2": "Unit 6",
                "city": "Vancouver",
                "region": "BC",
                "country": "Canada",
                "postalCode": "V5L 1G8",
            },
            "legalAddress": {
                "line1": "1420 Powell Street",
                "line2": "Unit 6",
                "city": "Vancouver",
                "region": "BC",
                "country": "Canada",
                "postalCode": "V5L 1G8",
            },
            "businessType": "corporation",
            "accountingMethod": "accrual",
        },
    ),
    "quickbooks": _Profile(
        id_style="int",
        first_party_id={"customers": 1, "vendors": 1001},
        currencies=(
            ("USD", "USD", "United States Dollar"),
            ("CAD", "CAD", "Canadian Dollar"),
            ("MXN", "MXN", "Mexican Peso"),
        ),
        currency_mix=(("USD", 0.88), ("CAD", 0.96), ("MXN", 1.0)),
        subsidiaries=(
            _Subsidiary(
                "9130357766900456",
                "Harbor Freight Logistics",
                "USD",
                locations=(("1", "Long Beach Terminal"), ("2", "Oakland Yard"), ("3", "Seattle")),
            ),
        ),
        info={
            "legalName": "Harbor Freight Logistics, LLC",
            "businessEmail": "billing@harborfreightlogistics.com",
            "website": "www.harborfreightlogistics.com",
            "primaryPhoneNumber": "562-555-0147",
            "fiscalYearEndDay": 31,
            "fiscalYearEndMonth": 12,
            "industryType": "Transportation and Warehousing",
            "industryCode": "484121",
            "businessRegistrationNumber": "95-4861273",
            "mailingAddress": {
                "line1": "2200 E Pacific Coast Hwy",
                "line2": "Suite 310",
                "city": "Long Beach",
                "region": "CA",
                "country": "United States",
                "postalCode": "90806",
            },
            "legalAddress": {
                "line1": "2200 E Pacific Coast Hwy",
                "line2": "Suite 310",
                "city": "Long Beach",
                "region": "CA",
                "country": "United States",
                "postalCode": "90806",
            },
            "businessType": "limitedLiability",
            "accountingMethod": "accrual",
        },
    ),
    "oracleNetsuite": _Profile(
        id_style="int",
        first_party_id={"customers": 2101, "vendors": 8301},
        # NetSuite's own internal ids for these currencies.
        currencies=(
            ("1", "USD", "US Dollar"),
            ("2", "GBP", "British Pound"),
            ("3", "CAD", "Canadian Dollar"),
            ("4", "EUR", "Euro"),
        ),
        currency_mix=(("USD", 0.70), ("CAD", 0.88), ("GBP", 0.97), ("EUR", 1.0)),
        subsidiaries=(
            _Subsidiary(
                "1",
                "Summit Outdoor Group, Inc.",
                "USD",
                locations=(("21", "Denver HQ"), ("22", "Salt Lake City DC"), ("23", "Boise Store")),
            ),
            _Subsidiary(
                "2",
                "Summit Outdoor Group Canada Ltd.",
                "CAD",
                parent_id="1",
                locations=(("24", "Calgary Warehouse"), ("25", "Vancouver Store")),
            ),
            _Subsidiary(
                "3",
                "Summit Outdoor Group UK Ltd",
                "GBP",
                parent_id="1",
                locations=(("26", "Manchester DC"),),
            ),
        ),
        info={
            "legalName": "Summit Outdoor Group, Inc.",
            "businessEmail": "ap@summitoutdoorgroup.com",
            "website": "www.summitoutdoorgroup.com",
            "primaryPhoneNumber": "303-555-0119",
            "fiscalYearEndDay": 31,
            "fiscalYearEndMonth": 1,
            "industryType": "Retail Trade",
            "industryCode": "459110",
            "businessRegistrationNumber": "84-2937165",
            "mailingAddress": {
                "line1": "1601 Wewatta Street",
                "line2": "Floor 9",
                "city": "Denver",
                "region": "CO",
                "country": "United States",
                "postalCode": "80202",
            },
            "legalAddress": {
                "line1": "251 Little Falls Drive",
                "city": "Wilmington",
                "region": "DE",
                "country": "United States",
                "postalCode": "19808",
            },
            "businessType": "corporation",
            "accountingMethod": "accrual",
        },
    ),
    "sageBusinessCloud": _Profile(
        id_style="hex",
        first_party_id={},
        currencies=(("GBP", "GBP", "Pound Sterling"), ("EUR", "EUR", "Euro")),
        currency_mix=(("GBP", 0.90), ("EUR", 1.0)),
        subsidiaries=(_Subsidiary("f1d3c5b7a9e24c6f8b0d2e4a6c8e0f13", "Old Mill Bakery", "GBP"),),
        info={
            "legalName": "Old Mill Bakery Ltd",
            "businessEmail": "hello@oldmillbakery.co.uk",
            "website": "www.oldmillbakery.co.uk",
            "primaryPhoneNumber": "+44 1225 496031",
            "fiscalYearEndDay": 31,
            "fiscalYearEndMonth": 3,
            "industryType": "Food Manufacturing",
            "industryCode": "10710",
            "businessRegistrationNumber": "08417265",
            "mailingAddress": {
                "line1": "The Old Mill, Mill Lane",
                "city": "Bath",
                "region": "Somerset",
                "country": "United Kingdom",
                "postalCode": "BA2 4QR",
            },
            "legalAddress": {
                "line1": "The Old Mill, Mill Lane",
                "city": "Bath",
                "region": "Somerset",
                "country": "United Kingdom",
                "postalCode": "BA2 4QR",
            },
            "businessType": "limitedLiability",
            "accountingMethod": "accrual",
        },
    ),
}


# --------------------------------------------------------------------------------------------
# Chart of accounts
#
# section/subSection/group are Railz's normalised classification; classification, type and
# subType are what the provider itself calls the account (passed through by Railz).

# Railz's section -> the provider-neutral classification most providers report.
_CLASSIFICATIONS = {
    "Assets": "Asset",
    "Liabilities": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Expenses": "Expense",
}
# fmt: off
_KINDS: dict[str, tuple[str, str, str | None, str]] = {
    # kind: (section, subSection, group, subType)
    "bank": ("Assets", "Current Assets", "Cash And Cash Equivalents", "cash&Bank"),
    "receivable": ("Assets", "Current Assets", "Accounts Receivables", "currentAsset"),
    "current_asset": ("Assets", "Current Assets", "Other Current Assets", "currentAsset"),
    "fixed_asset": ("Assets", "Non-Current Assets", "Fixed Assets", "propertyPlantAndEquipment"),
    "depreciation": ("Assets", "Non-Current Assets", "Depreciation", "propertyPlantAndEquipment"),
    "payable": ("Liabilities", "Current Liabilities", "Accounts Payables", "currentLiability"),
    "credit_card": ("Liabilities", "Current Liabilities", "Credit Cards", "currentLiability"),
    "tax_liability": ("Liabilities", "Current Liabilities", "Tax Liabilities", "currentLiability"),
    "current_liability":
        ("Liabilities", "Current Liabilities", "Other Current Liabilities", "currentLiability"),
    "long_term_debt":
        ("Liabilities", "Non-Current Liabilities", "Non-Current Debt", "longTermLiability"),
    "share_capital": ("Equity", "Equity", "Share Capital", "equity"),
    "retained_earnings": ("Equity", "Equity", "Retained Earnings", "equity"),
    "dividends": ("Equity", "Equity", "Dividends", "equity"),
    "revenue": ("Income", "Income", None, "income"),
    "other_income": ("Income", "Other Income", None, "income"),
    "cogs": ("Expenses", "Cost Of Goods Sold", "Cost Of Goods Sold", "costOfGoodsSold"),
    "operating": ("Expenses", "Operating Expenses", "Operating Expenses", "operatingExpense"),
    "employment": ("Expenses", "Operating Expenses", "Employment Expenses", "operatingExpense"),
    "marketing": ("Expenses", "Operating Expenses", "Marketing Expenses", "operatingExpense"),
    "professional": ("Expenses", "Operating Expenses", "Professional Fees", "operatingExpense"),
    "financing": ("Expenses", "Other Expenses", "Financing Expenses", "operatingExpense"),
    "tax_expense": ("Expenses", "Other Expenses", "Tax Expenses", "operatingExpense"),
    "other_expense": ("Expenses", "Other Expenses", "Other Expenses", "operatingExpense"),
}
# fmt: on

# The provider's own account type for each kind.
# fmt: off
_PROVIDER_TYPES: dict[str, dict[str, str]] = {
    "xero": {
        "bank": "BANK", "receivable": "CURRENT", "current_asset": "CURRENT",
        "fixed_asset": "FIXED", "depreciation": "FIXED", "payable": "CURRLIAB",
        "credit_card": "CURRLIAB", "tax_liability": "CURRLIAB", "current_liability": "CURRLIAB",
        "long_term_debt": "TERMLIAB", "share_capital": "EQUITY", "retained_earnings": "EQUITY",
        "dividends": "EQUITY", "revenue": "REVENUE", "other_income": "OTHERINCOME",
        "cogs": "DIRECTCOSTS", "*": "EXPENSE",
    },
    "quickbooks": {
        "bank": "Bank", "receivable": "Accounts receivable (A/R)",
        "current_asset": "Other Current Assets", "fixed_asset": "Fixed Assets",
        "depreciation": "Fixed Assets", "payable": "Accounts payable (A/P)",
        "credit_card": "Credit Card", "tax_liability": "Other Current Liabilities",
        "current_liability": "Other Current Liabilities",
        "long_term_debt": "Long Term Liabilities", "share_capital": "Equity",
        "retained_earnings": "Equity", "dividends": "Equity", "revenue": "Income",
        "other_income": "Other Income", "cogs": "Cost of Goods Sold",
        "tax_expense": "Other Expense", "other_expense": "Other Expense", "*": "Expenses",
    },
    "oracleNetsuite": {
        "bank": "Bank", "receivable": "Accounts Receivable",
        "current_asset": "Other Current Asset", "fixed_asset": "Fixed Asset",
        "depreciation": "Fixed Asset", "payable": "Accounts Payable", "credit_card": "Credit Card",
        "tax_liability": "Other Current Liability", "current_liability": "Other Current Liability",
        "long_term_debt": "Long Term Liability", "share_capital": "Equity",
        "retained_earnings": "Equity", "dividends": "Equity", "revenue": "Income",
        "other_income": "Other Income", "cogs": "Cost of Goods Sold",
        "tax_expense": "Other Expense", "other_expense": "Other Expense",
        "financing": "Other Expense", "*": "Expense",
    },
    "sageBusinessCloud": {
        "bank": "Bank", "receivable": "Current Assets", "current_asset": "Current Assets",
        "fixed_asset": "Fixed Assets", "depreciation": "Fixed Assets",
        "payable": "Current Liabilities", "credit_card": "Bank",
        "tax_liability": "Current Liabilities", "current_liability": "Current Liabilities",
        "long_term_debt": "Future Liabilities", "share_capital": "Equity",
        "retained_earnings": "Equity", "dividends": "Equity", "revenue": "Sales",
        "other_income": "Other Income", "cogs": "Direct Expenses", "*": "Overheads",
    },
}
# fmt: on

# (key, name, kind, parent key, options). The key is the nominal code where the provider shows
# one; options: currency, subsidiaries, inactive, header (a parent that takes no postings),
# tax (key of the default tax rate), bank (account number), description.
_A = tuple[str, str, str, str | None, dict[str, Any]]

_XERO_CHART: tuple[_A, ...] = (
    ("090", "Business Bank Account", "bank", None, {"bank": "06012-4417823"}),
    ("091", "Business Savings Account", "bank", None, {"bank": "06012-4417831"}),
    ("092", "USD Business Account", "bank", None, {"bank": "06012-9920145", "currency": "USD"}),
    ("610", "Accounts Receivable", "receivable", None, {}),
    ("620", "Prepayments", "current_asset", None, {"type": "PREPAYMENT"}),
    ("630", "Inventory - Green Coffee", "current_asset", None, {"type": "INVENTORY"}),
    ("631", "Inventory - Roasted Coffee", "current_asset", None, {"type": "INVENTORY"}),
    ("632", "Inventory - Packaging", "current_asset", None, {"type": "INVENTORY"}),
    ("710", "Office Equipment", "fixed_asset", None, {}),
    ("711", "Less Accumulated Depreciation on Office Equipment", "depreciation", None, {}),
    ("720", "Computer Equipment", "fixed_asset", None, {}),
    ("721", "Less Accumulated Depreciation on Computer Equipment", "depreciation", None, {}),
    ("730", "Roasting Equipment", "fixed_asset", None, {}),
    ("731", "Less Accumulated Depreciation on Roasting Equipment", "depreciation", None, {}),
    ("800", "Accounts Payable", "payable", None, {}),
    ("801", "Unpaid Expense Claims", "current_liability", None, {}),
    ("820", "GST/HST Payable", "tax_liability", None, {}),
    ("821", "PST Payable (BC)", "tax_liability", None, {}),
    ("825", "Payroll Liabilities", "current_liability", None, {}),
    ("830", "Income Tax Payable", "tax_liability", None, {}),
    ("840", "Historical Adjustment", "current_liability", None, {}),
    ("850", "Suspense", "current_liability", None, {}),
    ("860", "Rounding", "current_liability", None, {}),
    ("877", "Tracking Transfers", "current_liability", None, {}),
    ("900", "Loan - Roaster Financing", "long_term_debt", None, {}),
    ("960", "Retained Earnings", "retained_earnings", None, {}),
    ("970", "Common Shares", "share_capital", None, {}),
    ("200", "Sales - Wholesale", "revenue", None, {"tax": "ZERORATED"}),
    ("201", "Sales - Online Store", "revenue", None, {"tax": "ZERORATED"}),
    ("202", "Sales - Café", "revenue", None, {"tax": "OUTPUT"}),
    ("260", "Other Revenue", "revenue", None, {"tax": "OUTPUT"}),
    ("270", "Interest Income", "other_income", None, {"tax": "NONE"}),
    ("300", "Purchases - Green Coffee", "cogs", None, {"tax": "INPUT"}),
    ("310", "Cost of Goods Sold", "cogs", None, {"tax": "NONE"}),
    ("320", "Packaging Materials", "cogs", None, {"tax": "INPUT"}),
    ("330", "Freight In", "cogs", None, {"tax": "INPUT"}),
    ("400", "Advertising", "marketing", None, {"tax": "INPUT"}),
    ("404", "Bank Fees", "financing", None, {"tax": "NONE"}),
    ("408", "Cleaning", "operating", None, {"tax": "INPUT"}),
    ("412", "Consulting & Accounting", "professional", None, {"tax": "INPUT"}),
    ("416", "Depreciation", "operating", None, {"tax": "NONE", "type": "DEPRECIATN"}),
    ("420", "Entertainment", "operating", None, {"tax": "INPUT"}),
    ("425", "Freight & Courier", "operating", None, {"tax": "INPUT"}),
    ("429", "General Expenses", "operating", None, {"tax": "INPUT"}),
    ("433", "Insurance", "operating", None, {"tax": "EXEMPTOUTPUT"}),
    ("437", "Interest Expense", "financing", None, {"tax": "NONE"}),
    ("441", "Legal Expenses", "professional", None, {"tax": "INPUT"}),
    ("445", "Light, Power, Heating", "operating", None, {"tax": "INPUT"}),
    ("449", "Motor Vehicle Expenses", "operating", None, {"tax": "INPUT"}),
    ("453", "Office Expenses", "operating", None, {"tax": "INPUT"}),
    ("461", "Printing & Stationery", "operating", None, {"tax": "INPUT"}),
    ("469", "Rent", "operating", None, {"tax": "INPUT"}),
    ("473", "Repairs and Maintenance", "operating", None, {"tax": "INPUT"}),
    ("477", "Wages and Salaries", "employment", None, {"tax": "NONE"}),
    ("478", "CPP & EI Expense", "employment", None, {"tax": "NONE"}),
    ("485", "Subscriptions", "operating", None, {"tax": "INPUT"}),
    ("489", "Telephone & Internet", "operating", None, {"tax": "INPUT"}),
    ("493", "Travel - National", "operating", None, {"tax": "INPUT"}),
    ("494", "Travel - International", "operating", None, {"tax": "NONE", "inactive": True}),
    ("505", "Income Tax Expense", "tax_expense", None, {"tax": "NONE"}),
)

_QUICKBOOKS_CHART: tuple[_A, ...] = (
    ("checking", "Business Checking", "bank", None, {"bank": "4417823901"}),
    ("savings", "Business Savings", "bank", None, {"bank": "4417823919"}),
    ("ar", "Accounts Receivable (A/R)", "receivable", None, {}),
    ("undeposited", "Undeposited Funds", "current_asset", None, {}),
    ("prepaid", "Prepaid Expenses", "current_asset", None, {}),
    ("trucks", "Trucks & Trailers", "fixed_asset", None, {}),
    ("trucks_cost", "Original Cost", "fixed_asset", "trucks", {}),
    ("trucks_dep", "Depreciation", "depreciation", "trucks", {}),
    ("warehouse_eq", "Warehouse Equipment", "fixed_asset", None, {}),
    ("office_eq", "Office Furniture & Equipment", "fixed_asset", None, {}),
    ("ap", "Accounts Payable (A/P)", "payable", None, {}),
    ("mastercard", "Mastercard", "credit_card", None, {}),
    ("amex", "American Express", "credit_card", None, {}),
    ("payroll_liab", "Payroll Liabilities", "current_liability", None, {}),
    ("federal_wh", "Federal Withholding", "current_liability", "payroll_liab", {}),
    ("ca_pit", "CA PIT / SDI", "current_liability", "payroll_liab", {}),
    ("boe", "Board of Equalization Payable", "tax_liability", None, {}),
    ("truck_loan", "Truck Financing", "long_term_debt", None, {}),
    ("equipment_loan", "Equipment Loan", "long_term_debt", None, {}),
    ("obe", "Opening Balance Equity", "share_capital", None, {}),
    ("retained", "Retained Earnings", "retained_earnings", None, {}),
    ("owner_inv", "Owner's Investment", "share_capital", None, {}),
    ("owner_draw", "Owner's Pay & Personal Expenses", "dividends", None, {}),
    ("freight_rev", "Freight Revenue", "revenue", None, {}),
    ("ftl", "Full Truckload", "revenue", "freight_rev", {}),
    ("ltl", "Less-than-Truckload", "revenue", "freight_rev", {}),
    ("drayage", "Drayage", "revenue", "freight_rev", {}),
    ("warehousing_rev", "Warehousing & Storage", "revenue", None, {}),
    ("brokerage_rev", "Brokerage Fees", "revenue", None, {}),
    ("fuel_surcharge", "Fuel Surcharge Income", "revenue", None, {}),
    ("accessorial", "Accessorial Charges", "revenue", None, {}),
    ("interest_earned", "Interest Earned", "other_income", None, {}),
    ("carriers", "Subcontracted Carriers", "cogs", None, {}),
    ("fuel", "Fuel", "cogs", None, {}),
    ("tolls", "Tolls & Scales", "cogs", None, {}),
    ("driver_wages", "Driver Wages", "cogs", None, {}),
    ("advertising", "Advertising & Marketing", "marketing", None, {}),
    ("vehicle", "Vehicle Expenses", "operating", None, {}),
    ("vehicle_repairs", "Repairs & Maintenance", "operating", "vehicle", {}),
    ("vehicle_permits", "Registration & Permits", "operating", "vehicle", {}),
    ("bank_charges", "Bank Charges & Fees", "financing", None, {}),
    ("dues", "Dues & Subscriptions", "operating", None, {}),
    ("equipment_rental", "Equipment Rental", "operating", None, {}),
    ("insurance", "Insurance", "operating", None, {}),
    ("cargo_ins", "Cargo Insurance", "operating", "insurance", {}),
    ("liability_ins", "Liability Insurance", "operating", "insurance", {}),
    ("workers_comp", "Workers Compensation", "operating", "insurance", {}),
    ("legal_prof", "Legal & Professional Fees", "professional", None, {}),
    ("accounting_fees", "Accounting", "professional", "legal_prof", {}),
    ("lawyer", "Lawyer", "professional", "legal_prof", {}),
    ("meals", "Meals", "operating", None, {}),
    ("office", "Office Supplies & Software", "operating", None, {}),
    ("rent", "Rent & Lease", "operating", None, {}),
    ("warehouse_lease", "Warehouse Lease", "operating", "rent", {}),
    ("utilities", "Utilities", "operating", None, {}),
    ("payroll_exp", "Payroll Expenses", "employment", None, {}),
    ("wages", "Wages", "employment", "payroll_exp", {}),
    ("payroll_tax", "Taxes", "employment", "payroll_exp", {}),
    ("travel", "Travel", "operating", None, {}),
    ("depreciation_exp", "Depreciation", "operating", None, {}),
    ("interest_exp", "Interest Paid", "financing", None, {}),
    ("uncategorized", "Uncategorized Expense", "other_expense", None, {}),
    ("penalties", "Penalties & Settlements", "other_expense", None, {"inactive": True}),
)

_ALL_SUBS = ("1", "2", "3")
_NETSUITE_CHART: tuple[_A, ...] = (
    ("1000", "Cash & Cash Equivalents", "bank", None, {"header": True}),
    (
        "1010",
        "Operating Account - Wells Fargo",
        "bank",
        "1000",
        {"bank": "7720418833", "subsidiaries": ("1",)},
    ),
    (
        "1020",
        "Payroll Account - Wells Fargo",
        "bank",
        "1000",
        {"bank": "7720418841", "subsidiaries": ("1",)},
    ),
    (
        "1030",
        "Operating Account - RBC",
        "bank",
        "1000",
        {"bank": "01482-1044297", "currency": "CAD", "subsidiaries": ("2",)},
    ),
    (
        "1040",
        "Operating Account - Barclays",
        "bank",
        "1000",
        {"bank": "20-32-06 53718294", "currency": "GBP", "subsidiaries": ("3",)},
    ),
    ("1100", "Accounts Receivable", "receivable", None, {}),
    ("1150", "Allowance for Doubtful Accounts", "receivable", None, {}),
    ("1200", "Inventory Asset", "current_asset", None, {}),
    ("1210", "Inventory In Transit", "current_asset", "1200", {}),
    ("1250", "Undeposited Funds", "current_asset", None, {}),
    ("1300", "Prepaid Expenses", "current_asset", None, {}),
    ("1500", "Fixed Assets", "fixed_asset", None, {"header": True}),
    ("1510", "Furniture & Fixtures", "fixed_asset", "1500", {}),
    ("1520", "Computer Equipment", "fixed_asset", "1500", {}),
    ("1530", "Warehouse Equipment", "fixed_asset", "1500", {}),
    ("1590", "Accumulated Depreciation", "depreciation", "1500", {}),
    ("2000", "Accounts Payable", "payable", None, {}),
    ("2050", "Corporate Card - Amex", "credit_card", None, {"subsidiaries": ("1",)}),
    ("2100", "Accrued Liabilities", "current_liability", None, {}),
    ("2200", "Sales Tax Payable", "tax_liability", None, {"subsidiaries": ("1",)}),
    ("2210", "GST/HST Payable", "tax_liability", None, {"subsidiaries": ("2",)}),
    ("2220", "VAT Payable", "tax_liability", None, {"subsidiaries": ("3",)}),
    ("2300", "Payroll Liabilities", "current_liability", None, {}),
    ("2400", "Deferred Revenue", "current_liability", None, {}),
    ("2500", "Gift Card Liability", "current_liability", None, {}),
    ("2700", "Term Loan", "long_term_debt", None, {"subsidiaries": ("1",)}),
    ("3000", "Common Stock", "share_capital", None, {}),
    ("3100", "Retained Earnings", "retained_earnings", None, {}),
    ("3200", "Opening Balance", "share_capital", None, {}),
    ("3300", "Cumulative Translation Adjustment", "retained_earnings", None, {}),
    ("4000", "Sales", "revenue", None, {"header": True}),
    ("4010", "Sales - Retail Stores", "revenue", "4000", {}),
    ("4020", "Sales - Wholesale", "revenue", "4000", {}),
    ("4030", "Sales - E-commerce", "revenue", "4000", {}),
    ("4100", "Shipping & Handling Income", "revenue", None, {}),
    ("4900", "Sales Returns & Allowances", "revenue", None, {}),
    ("5000", "Cost of Goods Sold", "cogs", None, {"header": True}),
    ("5010", "COGS - Product", "cogs", "5000", {}),
    ("5020", "Freight-In", "cogs", "5000", {}),
    ("5030", "Inventory Shrinkage", "cogs", "5000", {}),
    ("5040", "Inventory Adjustments (old)", "cogs", "5000", {"inactive": True}),
    ("6000", "Operating Expenses", "operating", None, {"header": True}),
    ("6010", "Salaries & Wages", "employment", "6000", {}),
    ("6020", "Payroll Taxes & Benefits", "employment", "6000", {}),
    ("6100", "Rent & Occupancy", "operating", "6000", {}),
    ("6110", "Utilities", "operating", "6000", {}),
    ("6200", "Advertising & Marketing", "marketing", "6000", {}),
    ("6300", "Travel & Entertainment", "operating", "6000", {}),
    ("6400", "Professional Fees", "professional", "6000", {}),
    ("6500", "Depreciation Expense", "operating", "6000", {}),
    ("6600", "Merchant & Bank Fees", "financing", "6000", {}),
    ("6700", "Software & IT", "operating", "6000", {}),
    ("6800", "Office Supplies", "operating", "6000", {}),
    ("7010", "Interest Income", "other_income", None, {}),
    ("7020", "Realized Gain/Loss", "other_expense", None, {}),
    ("7030", "Unrealized Gain/Loss", "other_expense", None, {}),
    ("7100", "Interest Expense", "financing", None, {}),
    ("7900", "Income Tax Expense", "tax_expense", None, {}),
)

_SAGE_CHART: tuple[_A, ...] = (
    ("0020", "Plant and Machinery", "fixed_asset", None, {}),
    ("0021", "Plant and Machinery Depreciation", "depreciation", None, {}),
    ("0030", "Office Equipment and IT", "fixed_asset", None, {}),
    ("0031", "Office Equipment and IT Depreciation", "depreciation", None, {}),
    ("0050", "Motor Vehicles", "fixed_asset", None, {}),
    ("0051", "Motor Vehicles Depreciation", "depreciation", None, {}),
    ("1001", "Stock", "current_asset", None, {}),
    ("1100", "Trade Debtors", "receivable", None, {}),
    ("1103", "Prepayments", "current_asset", None, {}),
    ("1200", "Current Account", "bank", None, {"bank": "20-45-77 43871209"}),
    ("1210", "Cash in Hand", "bank", None, {}),
    ("1220", "Business Deposit Account", "bank", None, {"bank": "20-45-77 90214467"}),
    ("1240", "Company Credit Card", "credit_card", None, {}),
    ("2100", "Trade Creditors", "payable", None, {}),
    ("2200", "VAT on Sales", "tax_liability", None, {}),
    ("2201", "VAT on Purchases", "tax_liability", None, {}),
    ("2202", "VAT Liability", "tax_liability", None, {}),
    ("2210", "PAYE", "current_liability", None, {}),
    ("2211", "National Insurance", "current_liability", None, {}),
    ("2230", "Pension Fund", "current_liability", None, {}),
    ("2300", "Loans", "long_term_debt", None, {}),
    ("3000", "Ordinary Shares", "share_capital", None, {}),
    ("3200", "Retained Earnings", "retained_earnings", None, {}),
    ("3260", "Dividends", "dividends", None, {}),
    ("4000", "Sales - Bread", "revenue", None, {"tax": "GB_ZERO"}),
    ("4001", "Sales - Pastries", "revenue", None, {"tax": "GB_ZERO"}),
    ("4002", "Sales - Celebration Cakes", "revenue", None, {"tax": "GB_ZERO"}),
    ("4003", "Sales - Café (Eat In)", "revenue", None, {"tax": "GB_STANDARD"}),
    ("4010", "Sales - Wholesale", "revenue", None, {"tax": "GB_ZERO"}),
    ("4900", "Other Income", "other_income", None, {"tax": "GB_EXEMPT"}),
    ("4905", "Bank Interest Received", "other_income", None, {"tax": "GB_NO_TAX"}),
    ("5000", "Cost of Sales - Flour and Grains", "cogs", None, {"tax": "GB_ZERO"}),
    ("5001", "Cost of Sales - Dairy and Eggs", "cogs", None, {"tax": "GB_ZERO"}),
    ("5002", "Cost of Sales - Packaging", "cogs", None, {"tax": "GB_STANDARD"}),
    ("5100", "Carriage", "cogs", None, {"tax": "GB_STANDARD"}),
    ("6201", "Advertising", "marketing", None, {"tax": "GB_STANDARD"}),
    ("7000", "Gross Wages", "employment", None, {"tax": "GB_NO_TAX"}),
    ("7006", "Employer's NI", "employment", None, {"tax": "GB_NO_TAX"}),
    ("7100", "Rent and Rates", "operating", None, {"tax": "GB_EXEMPT"}),
    ("7200", "Electricity", "operating", None, {"tax": "GB_STANDARD"}),
    ("7201", "Gas", "operating", None, {"tax": "GB_STANDARD"}),
    ("7300", "Fuel and Oil", "operating", None, {"tax": "GB_STANDARD"}),
    ("7400", "Travelling", "operating", None, {"tax": "GB_STANDARD", "inactive": True}),
    ("7500", "Printing", "operating", None, {"tax": "GB_STANDARD"}),
    ("7502", "Telephone and Internet", "operating", None, {"tax": "GB_STANDARD"}),
    ("7600", "Legal Fees", "professional", None, {"tax": "GB_STANDARD"}),
    ("7601", "Audit and Accountancy Fees", "professional", None, {"tax": "GB_STANDARD"}),
    ("7700", "Equipment Hire", "operating", None, {"tax": "GB_STANDARD"}),
    ("7800", "Repairs and Renewals", "operating", None, {"tax": "GB_STANDARD"}),
    ("7900", "Bank Charges", "financing", None, {"tax": "GB_EXEMPT"}),
    ("8000", "Depreciation", "operating", None, {"tax": "GB_NO_TAX"}),
    ("8100", "Bad Debt Write Off", "other_expense", None, {"tax": "GB_NO_TAX"}),
)

_CHARTS: dict[str, tuple[_A, ...]] = {
    "xero": _XERO_CHART,
    "quickbooks": _QUICKBOOKS_CHART,
    "oracleNetsuite": _NETSUITE_CHART,
    "sageBusinessCloud": _SAGE_CHART,
}
_SHOWS_CODES = {"xero", "oracleNetsuite", "sageBusinessCloud"}
# Magnitude of a typical balance per kind, so the demo ledger looks like a small business.
# fmt: off
_BALANCE_SCALE = {
    "bank": 180_000, "receivable": 240_000, "current_asset": 60_000, "fixed_asset": 400_000,
    "depreciation": -120_000, "payable": 150_000, "credit_card": 12_000, "tax_liability": 30_000,
    "current_liability": 25_000, "long_term_debt": 350_000, "share_capital": 100_000,
    "retained_earnings": 600_000, "dividends": 40_000, "revenue": 900_000, "other_income": 4_000,
    "cogs": 400_000,
}
# fmt: on


def _account_id(c: Mapping[str, Any], key: str, position: int) -> str:
    style = c["service_name"]
    if style == "xero":
        return _guid(c["connection_uuid"], "accounts", key)
    if style == "sageBusinessCloud":
        return _guid(c["connection_uuid"], "accounts", key, dashes=False)
    # QuickBooks and NetSuite hand out small integers in creation order.
    return str(position + (1 if style == "quickbooks" else 201))


@cache
def _account_refs(connection_uuid: str) -> dict[str, dict[str, str]]:
    """Account key -> {"id", "name"}, for the refs other records carry."""
    c = _connection(connection_uuid)
    return {
        key: {"id": _account_id(c, key, n), "name": name}
        for n, (key, name, *_rest) in enumerate(_CHARTS[c["service_name"]])
    }


def _accounts(c: Mapping[str, Any], profile: _Profile) -> list[dict[str, Any]]:
    service = c["service_name"]
    chart = _CHARTS[service]
    refs = _account_refs(c["connection_uuid"])
    by_key = {spec[0]: spec for spec in chart}
    tax_refs = _tax_rate_refs(c["connection_uuid"])
    types = _PROVIDER_TYPES[service]
    separator = " : " if service == "oracleNetsuite" else ":"
    rng = random.Random(f"{c['connection_uuid']}/accounts")
    items = []
    for key, name, kind, parent, opts in chart:
        section, sub_section, group, sub_type = _KINDS[kind]
        classification = _CLASSIFICATIONS[section]
        path = [name]
        ancestor = parent
        while ancestor:
            path.insert(0, by_key[ancestor][1])
            ancestor = by_key[ancestor][3]
        inactive = opts.get("inactive", False)
        scale = _BALANCE_SCALE.get(kind, 60_000)
        balance = 0.0 if inactive or opts.get("header") else round(scale * rng.random(), 2)
        item: dict[str, Any] = {
            "id": refs[key]["id"],
            "name": name,
            "fullyQualifiedName": separator.join(path),
            "depth": len(path),
            "classification": classification.upper() if service == "xero" else classification,
            "type": opts.get("type", types.get(kind, types["*"])),
            "subType": sub_type,
            "section": section,
            "subSection": sub_section,
            "isBankAccount": kind == "bank",
            "isSubAccount": parent is not None,
            "isActive": not inactive,
            "isPosting": not opts.get("header", False),
            "currentBalance": balance,
            "currency": opts.get("currency", c["home_currency"]),
            "sourceModifiedDate": _timestamp(rng),
        }
        if service in _SHOWS_CODES:
            item["nominalCode"] = key
        if group:
            item["group"] = group
        if parent:
            item["parentRef"] = dict(refs[parent])
        if "bank" in opts:
            item["bankAccountNumber"] = opts["bank"]
            item["paymentsEnabled"] = True
        if "tax" in opts:
            item["taxRateRef"] = {
                "id": tax_refs[opts["tax"]]["id"],
                "name": tax_refs[opts["tax"]]["name"],
            }
        if service == "oracleNetsuite":
            subs = opts.get("subsidiaries", _ALL_SUBS)
            item["subsidiaryRefs"] = [{"id": s, "name": _subsidiary(profile, s)} for s in subs]
        if service == "xero":
            item["accountUuid"] = item["id"]
        items.append(item)
    return items


# --------------------------------------------------------------------------------------------
# Tax rates: (id, name, code, components as (name, rate, is sales tax, is purchases tax)).
# Ids are the provider's own: Xero tax types, QuickBooks and NetSuite integers (NetSuite's
# built-in "-Not Taxable-" code really is -7), Sage's country-prefixed rate ids.

_T = tuple[str, str, str, tuple[tuple[str, float, bool, bool], ...]]

_XERO_TAX_RATES: tuple[_T, ...] = (
    ("OUTPUT", "GST on Sales", "GST", (("GST", 5.0, True, False),)),
    ("INPUT", "GST on Purchases", "GST", (("GST", 5.0, False, True),)),
    ("TAX001", "HST (ON)", "HST", (("HST", 13.0, True, True),)),
    ("TAX002", "HST (NS)", "HST", (("HST", 15.0, True, True),)),
    ("TAX003", "HST (NB, NL, PE)", "HST", (("HST", 15.0, True, True),)),
    ("TAX004", "GST + PST (BC)", "GST/PST", (("GST", 5.0, True, False), ("PST", 7.0, True, False))),
    ("TAX005", "PST (BC) on Purchases", "PST", (("PST", 7.0, False, True),)),
    (
        "TAX006",
        "GST + QST (QC)",
        "GST/QST",
        (("GST", 5.0, True, True), ("QST", 9.975, True, True)),
    ),
    ("TAX007", "GST + PST (SK)", "GST/PST", (("GST", 5.0, True, False), ("PST", 6.0, True, False))),
    ("TAX008", "GST + RST (MB)", "GST/RST", (("GST", 5.0, True, False), ("RST", 7.0, True, False))),
    ("ZERORATED", "Zero Rated", "ZR", (("Zero Rated", 0.0, True, True),)),
    ("EXEMPTOUTPUT", "Exempt", "E", (("Exempt", 0.0, True, True),)),
    ("NONE", "No GST", "N", (("No GST", 0.0, True, True),)),
)

_QUICKBOOKS_TAX_RATES: tuple[_T, ...] = (
    (
        "3",
        "Long Beach, CA",
        "CA-LB",
        (
            ("California", 7.25, True, False),
            ("Los Angeles County District", 2.25, True, False),
            ("Long Beach City", 0.75, True, False),
        ),
    ),
    (
        "4",
        "Oakland, CA",
        "CA-OAK",
        (("California", 7.25, True, False), ("Alameda County District", 3.5, True, False)),
    ),
    (
        "5",
        "Seattle, WA",
        "WA-SEA",
        (("Washington", 6.5, True, False), ("Seattle RTA/City", 3.85, True, False)),
    ),
    (
        "6",
        "Phoenix, AZ",
        "AZ-PHX",
        (
            ("Arizona TPT", 5.6, True, False),
            ("Maricopa County", 0.7, True, False),
            ("Phoenix City", 2.3, True, False),
        ),
    ),
    (
        "7",
        "Las Vegas, NV",
        "NV-LV",
        (("Nevada", 6.85, True, False), ("Clark County", 1.525, True, False)),
    ),
    ("8", "Oregon (no sales tax)", "OR", (("Oregon", 0.0, True, False),)),
    ("9", "Exempt - Resale", "EXEMPT", (("Exempt", 0.0, True, False),)),
    ("2", "Out of scope", "OOS", (("Out of scope", 0.0, True, True),)),
)

_NETSUITE_TAX_RATES: tuple[_T, ...] = (
    ("-7", "-Not Taxable-", "NT", (("Not Taxable", 0.0, True, True),)),
    (
        "11",
        "CO - Denver",
        "CO-DEN",
        (
            ("Colorado State", 2.9, True, False),
            ("RTD", 1.0, True, False),
            ("Cultural Facilities District", 0.1, True, False),
            ("Denver City", 4.81, True, False),
        ),
    ),
    (
        "12",
        "UT - Salt Lake City",
        "UT-SLC",
        (("Utah State", 4.85, True, False), ("Salt Lake City Local", 3.6, True, False)),
    ),
    ("13", "ID - Boise", "ID-BOI", (("Idaho State", 6.0, True, False),)),
    (
        "14",
        "WA - Seattle",
        "WA-SEA",
        (("Washington State", 6.5, True, False), ("Seattle RTA/City", 3.85, True, False)),
    ),
    ("21", "CA-GST", "GST", (("GST", 5.0, True, True),)),
    ("22", "CA-ON-HST", "HST", (("HST", 13.0, True, True),)),
    ("23", "CA-BC-GST/PST", "GST/PST", (("GST", 5.0, True, True), ("PST", 7.0, True, False))),
    ("31", "UK-Standard Rate (S)", "S", (("VAT", 20.0, True, True),)),
    ("32", "UK-Reduced Rate (R)", "R", (("VAT", 5.0, True, True),)),
    ("33", "UK-Zero Rate (Z)", "Z", (("VAT", 0.0, True, True),)),
    ("34", "UK-Exempt (E)", "E", (("VAT", 0.0, True, True),)),
)

_SAGE_TAX_RATES: tuple[_T, ...] = (
    ("GB_STANDARD", "Standard 20.00%", "S", (("Standard", 20.0, True, True),)),
    ("GB_LOWER", "Lower Rate 5.00%", "R", (("Lower Rate", 5.0, True, True),)),
    ("GB_ZERO", "Zero 0.00%", "Z", (("Zero", 0.0, True, True),)),
    ("GB_EXEMPT", "Exempt 0.00%", "E", (("Exempt", 0.0, True, True),)),
    ("GB_NO_TAX", "No VAT", "N", (("No VAT", 0.0, True, True),)),
)

_TAX_RATES: dict[str, tuple[_T, ...]] = {
    "xero": _XERO_TAX_RATES,
    "quickbooks": _QUICKBOOKS_TAX_RATES,
    "oracleNetsuite": _NETSUITE_TAX_RATES,
    "sageBusinessCloud": _SAGE_TAX_RATES,
}


def _total_rate(components: tuple[tuple[str, float, bool, bool], ...]) -> float:
    return round(sum(rate for _, rate, _, _ in components), 4)


@cache
def _tax_rate_refs(connection_uuid: str) -> dict[str, dict[str, Any]]:
    """Tax rate id -> {"id", "name", "effectiveTaxRate"}, for the refs other records carry."""
    c = _connection(connection_uuid)
    return {
        rate_id: {"id": rate_id, "name": name, "effectiveTaxRate": _total_rate(components)}
        for rate_id, name, _, components in _TAX_RATES[c["service_name"]]
    }


def _tax_rates(c: Mapping[str, Any], profile: _Profile) -> list[dict[str, Any]]:
    rng = random.Random(f"{c['connection_uuid']}/taxRates")
    items = []
    component_id = 0
    for rate_id, name, code, components in _TAX_RATES[c["service_name"]]:
        parts = []
        for part_name, rate, is_sales, is_purchases in components:
            component_id += 1
            parts.append(
                {
                    "id": str(component_id),
                    "name": part_name,
                    "rate": rate,
                    "isCompound": False,
                    "isSalesTax": is_sales,
                    "isPurchasesTax": is_purchases,
                }
            )
        total = _total_rate(components)
        items.append(
            {
                "id": rate_id,
                "name": name,
                "code": code,
                "effectiveTaxRate": total,
                "totalTaxRate": total,
                "components": parts,
                "sourceModifiedDate": _timestamp(rng),
            }
        )
    return items


# --------------------------------------------------------------------------------------------
# Tracking categories: (id, name, type, parent id, status, subsidiary ids)

_C = tuple[str, str, str, str | None, str, tuple[str, ...]]


def _xero_tracking(connection_uuid: str) -> tuple[_C, ...]:
    # Xero has two tracking categories, each with options; Railz lists the category and its
    # options as parent and children.
    def gid(name: str) -> str:
        return _guid(connection_uuid, "trackingCategories", name)

    region, channel = gid("Region"), gid("Channel")
    rows: list[_C] = [(region, "Region", "location", None, "active", ())]
    for option, status in (
        ("British Columbia", "active"),
        ("Prairies", "active"),
        ("Ontario", "active"),
        ("Québec", "active"),
        ("Atlantic Canada", "active"),
        ("United States", "active"),
        ("Yukon", "archived"),
    ):
        rows.append((gid(f"Region/{option}"), option, "location", region, status, ()))
    rows.append((channel, "Channel", "class", None, "active", ()))
    for option in ("Wholesale", "Café", "Online Store", "Subscriptions", "Farmers Markets"):
        rows.append((gid(f"Channel/{option}"), option, "class", channel, "active", ()))
    return tuple(rows)


_QUICKBOOKS_TRACKING: tuple[_C, ...] = (
    ("1", "Long Beach Terminal", "location", None, "active", ()),
    ("2", "Oakland Yard", "location", None, "active", ()),
    ("3", "Seattle", "location", None, "active", ()),
    ("4", "Phoenix Cross-Dock", "location", None, "archived", ()),
    ("5000000000000123451", "Truckload", "class", None, "active", ()),
    ("5000000000000123452", "Dry Van", "class", "5000000000000123451", "active", ()),
    ("5000000000000123453", "Reefer", "class", "5000000000000123451", "active", ()),
    ("5000000000000123454", "Flatbed", "class", "5000000000000123451", "active", ()),
    ("5000000000000123455", "LTL", "class", None, "active", ()),
    ("5000000000000123456", "Drayage", "class", None, "active", ()),
    ("5000000000000123457", "Warehousing", "class", None, "active", ()),
    ("5000000000000123458", "Brokerage", "class", None, "active", ()),
)

_NETSUITE_TRACKING: tuple[_C, ...] = (
    ("1", "Sales", "department", None, "active", _ALL_SUBS),
    ("2", "Sales : Retail Stores", "department", "1", "active", ("1", "2")),
    ("3", "Sales : Wholesale", "department", "1", "active", _ALL_SUBS),
    ("4", "Sales : E-commerce", "department", "1", "active", _ALL_SUBS),
    ("5", "Marketing", "department", None, "active", _ALL_SUBS),
    ("6", "Operations", "department", None, "active", _ALL_SUBS),
    ("7", "Finance & Administration", "department", None, "active", _ALL_SUBS),
    ("8", "Product Development", "department", None, "active", ("1",)),
    ("9", "Customer Service", "department", None, "archived", ("1",)),
    ("101", "Camping", "class", None, "active", _ALL_SUBS),
    ("102", "Climbing", "class", None, "active", _ALL_SUBS),
    ("103", "Apparel", "class", None, "active", _ALL_SUBS),
    ("104", "Apparel : Outerwear", "class", "103", "active", _ALL_SUBS),
    ("105", "Apparel : Base Layers", "class", "103", "active", _ALL_SUBS),
    ("106", "Footwear", "class", None, "active", _ALL_SUBS),
    ("107", "Paddle Sports", "class", None, "active", ("1", "2")),
    ("21", "Denver HQ", "location", None, "active", ("1",)),
    ("22", "Salt Lake City DC", "location", None, "active", ("1",)),
    ("23", "Boise Store", "location", None, "active", ("1",)),
    ("24", "Calgary Warehouse", "location", None, "active", ("2",)),
    ("25", "Vancouver Store", "location", None, "active", ("2",)),
    ("26", "Manchester DC", "location", None, "active", ("3",)),
)


def _tracking_categories(c: Mapping[str, Any], profile: _Profile) -> list[dict[str, Any]]:
    service = c["service_name"]
    rows = (
        _xero_tracking(c["connection_uuid"])
        if service == "xero"
        else {"quickbooks": _QUICKBOOKS_TRACKING, "oracleNetsuite": _NETSUITE_TRACKING}[service]
    )
    names = {row[0]: row[1] for row in rows}
    parents = {row[3] for row in rows if row[3]}
    rng = random.Random(f"{c['connection_uuid']}/trackingCategories")
    items = []
    for cat_id, name, cat_type, parent, status, subs in rows:
        item: dict[str, Any] = {
            "id": cat_id,
            "name": name,
            "type": cat_type,
            "status": status,
            "isEditable": True,
            "hasChildren": cat_id in parents,
            "sourceModifiedDate": _timestamp(rng),
        }
        if parent:
            item["parentRef"] = {"id": parent, "name": names[parent]}
        if subs:
            item["subsidiaryRefs"] = [{"id": s, "name": _subsidiary(profile, s)} for s in subs]
        items.append(item)
    return items


# --------------------------------------------------------------------------------------------
# Payment methods: (id, name, type, status)

_PAYMENT_METHODS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "quickbooks": (
        ("1", "Cash", "cash", "active"),
        ("2", "Check", "check", "active"),
        ("3", "Visa", "creditCard", "active"),
        ("4", "MasterCard", "creditCard", "active"),
        ("5", "Discover", "creditCard", "active"),
        ("6", "American Express", "creditCard", "active"),
        ("7", "Diners Club", "creditCard", "archived"),
        ("8", "ACH", "bankTransfer", "active"),
        ("9", "Wire Transfer", "bankTransfer", "active"),
        ("10", "Comchek", "other", "active"),
    ),
    "oracleNetsuite": (
        ("1", "Cash", "cash", "active"),
        ("2", "Check", "check", "active"),
        ("3", "Discover", "creditCard", "active"),
        ("4", "Master Card", "creditCard", "active"),
        ("5", "VISA", "creditCard", "active"),
        ("6", "American Express", "creditCard", "active"),
        ("7", "ACH", "bankTransfer", "active"),
        ("8", "EFT", "bankTransfer", "active"),
        ("9", "Interac Debit", "debitCard", "active"),
        ("10", "Gift Certificate", "giftCard", "active"),
        ("11", "PayPal", "other", "archived"),
    ),
    "sageBusinessCloud": (
        ("BACS", "Bank Transfer", "bankTransfer", "active"),
        ("CASH", "Cash", "cash", "active"),
        ("CHEQUE", "Cheque", "check", "active"),
        ("CREDIT_DEBIT", "Credit/Debit Card", "creditCard", "active"),
        ("DIRECT_DEBIT", "Direct Debit", "bankTransfer", "active"),
        ("PAYPAL", "PayPal", "other", "archived"),
    ),
}


def _payment_methods(c: Mapping[str, Any], profile: _Profile) -> list[dict[str, Any]]:
    rng = random.Random(f"{c['connection_uuid']}/paymentMethods")
    return [
        {
            "id": pm_id,
            "name": name,
            "type": pm_type,
            "status": status,
            "sourceModifiedDate": _timestamp(rng),
        }
        for pm_id, name, pm_type, status in _PAYMENT_METHODS[c["service_name"]]
    ]


# --------------------------------------------------------------------------------------------
# Customers and vendors
#
# A name is three parts (lead word, trade, legal suffix). Walking the combinations with a
# stride coprime to their number gives every index a distinct name that still looks random
# next to its neighbours; past the last combination a branch number keeps names distinct.

# fmt: off
_LEAD = (
    "Northwind", "Bluewater", "Cedar", "Granite", "Harbourview", "Summit Ridge", "Pioneer",
    "Riverbend", "Oakridge", "Silverline", "Evergreen", "Prairie", "Coastal", "Redwood",
    "Lakeside", "Ironwood", "Highland", "Sunrise", "Blue Heron", "Golden Spruce", "Westbrook",
    "Eastgate", "Fairview", "Stonebridge", "Copper Creek", "Aspen", "Birchwood", "Driftwood",
    "Foxglove", "Juniper", "Kestrel", "Larkspur", "Meadowlark", "Nightingale", "Osprey",
    "Pinecrest", "Quarry Hill", "Rosewood", "Sandstone", "Thistle", "Upland", "Valleyview",
    "Willowbrook", "Yellowknife", "Zephyr", "Harrington", "Whitfield", "Okafor", "Nakamura",
    "Delgado", "Kowalski", "Fitzgerald", "MacLeod", "Chen", "Patel", "O'Brien", "Lefebvre",
    "Gagnon", "Tremblay", "Côté", "Beaulieu", "Lindqvist", "Abernathy", "Castellano", "Davenport",
    "Esposito", "Fairbanks", "Galloway", "Hendricks", "Ishikawa", "Jablonski", "Kaur", "Lindgren",
    "Morrison", "Novak", "Olsen", "Petrov", "Quinlan", "Ramirez", "Sorensen", "Takahashi",
    "Underwood", "Vasquez", "Whitaker", "Yamamoto", "Zimmerman", "Atlas", "Beacon", "Cardinal",
    "Dominion", "Empire", "Frontier", "Gateway", "Heritage", "Keystone", "Liberty",
)
_CUSTOMER_TRADES = (
    "Café", "Coffee House", "Grocers", "Market", "Hotel", "Bistro", "Logistics", "Outfitters",
    "Hardware", "Foods", "Provisions", "Kitchen", "Trading", "Imports", "Supply", "Distributors",
    "Retail", "Wholesale", "Manufacturing", "Industries", "Systems", "Solutions", "Design",
    "Builders", "Furniture", "Apparel", "Sports", "Marine", "Electric", "Plumbing", "Dental",
    "Clinic", "Consulting", "Media", "Studios", "Labs", "Brewing", "Bakehouse", "Catering",
    "Events", "Farms", "Orchards", "Creamery", "Deli", "Pharmacy", "Books", "Print", "Packaging",
    "Textiles", "Metals", "Plastics", "Motors", "Auto Parts", "Garden Centre", "Pet Supply",
    "Fitness", "Wellness", "Academy", "Realty", "Properties",
)
_VENDOR_TRADES = (
    "Packaging", "Paper Products", "Freight Lines", "Courier", "Equipment Rentals",
    "Equipment Repair", "Office Supply", "Insurance Brokers", "Electric", "Gas & Power",
    "Water Services", "Waste Management", "Janitorial", "Security", "IT Services", "Software",
    "Telecom", "Printing", "Signs & Graphics", "Uniforms", "Staffing", "Payroll Services",
    "Accounting", "Law Group", "Consulting", "Marketing", "Media", "Fuel", "Tire & Auto",
    "Fleet Services", "Steel", "Lumber", "Plastics", "Chemicals", "Textiles", "Foods", "Dairy",
    "Produce", "Mills", "Farms", "Imports", "Trading", "Wholesale", "Distributors", "Supply",
    "Hardware", "Tools", "Electrical Supply", "Plumbing", "HVAC", "Refrigeration", "Logistics",
    "Warehousing", "Pallets", "Containers", "Labels", "Labs", "Calibration", "Pest Control",
    "Landscaping",
)
_SUFFIXES = (
    "", " Inc.", " LLC", " Ltd.", " Co.", " Corp.", " Corporation", " Group", " Partners",
    " & Co.", " Holdings", " Company", " Enterprises", " International", " Associates",
    " Brothers", " & Sons", " Collective", " Limited", " Incorporated",
)
_FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Charlotte", "James",
    "Ava", "Lucas", "Mia", "Mateo", "Harper", "Ethan", "Chloé", "Benjamin", "Zoë", "Aiden",
    "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Ingrid", "Lars", "Renée", "José",
    "Siobhan", "Declan", "Aaliyah", "Malik", "Yuki", "Kenji", "Elena", "Marco", "Nadia", "Viktor",
    "Grace", "Samuel", "Hannah", "Isaac", "Leah", "Gabriel", "Maya", "Daniel", "Aisha", "Tomás",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martin",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill",
    "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Campbell", "Mitchell", "Roy",
    "Bouchard", "Gauthier", "Morin", "Singh", "Kim", "Park", "Murphy", "O'Connor", "Müller",
    "Schmidt", "Dubois", "Rossi", "Silva",
)
# fmt: on


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


_LEAD_SLUGS = tuple(_ascii_slug(w) for w in _LEAD)
_FIRST_SLUGS = tuple(_ascii_slug(w) for w in _FIRST_NAMES)
_LAST_SLUGS = tuple(_ascii_slug(w) for w in _LAST_NAMES)
_TRADE_SLUGS = {
    "customers": tuple(_ascii_slug(w) for w in _CUSTOMER_TRADES),
    "vendors": tuple(_ascii_slug(w) for w in _VENDOR_TRADES),
}


@dataclass(frozen=True)
class _Place:
    city: str
    region: str
    postal: str  # postal-code prefix; the rest is drawn per record
    phone: str  # phone prefix; four digits are drawn per record


@dataclass(frozen=True)
class _Country:
    iso3: str
    tld: str
    places: tuple[_Place, ...]
    streets: tuple[str, ...]
    number_first: bool  # "12 High Street" rather than "Hauptstraße 12"
    postal_style: str


# fmt: off
_ENGLISH_STREETS = (
    "Main Street", "King Street West", "Queen Street East", "Front Street", "Water Street",
    "Granville Street", "Commercial Drive", "Industrial Parkway", "Harbour Road", "Mill Road",
    "Cedar Avenue", "Maple Drive", "Oak Street", "Pine Street", "Elm Street",
    "Lakeshore Boulevard", "Broadway", "Market Street", "Pacific Avenue", "Airport Road",
)
_UK_STREETS = (
    "High Street", "Station Road", "Church Lane", "Mill Lane", "Victoria Road", "Park Lane",
    "Queen Street", "London Road", "Green Lane", "Manor Road", "Kings Road", "Bridge Street",
)
_COUNTRIES: dict[str, tuple[_Country, ...]] = {
    "CAD": (
        _Country("CAN", "ca", (
            _Place("Vancouver", "BC", "V6B", "604"), _Place("Victoria", "BC", "V8W", "250"),
            _Place("Kelowna", "BC", "V1Y", "250"), _Place("Calgary", "AB", "T2P", "403"),
            _Place("Edmonton", "AB", "T5J", "780"), _Place("Toronto", "ON", "M5V", "416"),
            _Place("Ottawa", "ON", "K1P", "613"), _Place("Montréal", "QC", "H2X", "514"),
            _Place("Québec", "QC", "G1R", "418"), _Place("Winnipeg", "MB", "R3C", "204"),
            _Place("Halifax", "NS", "B3H", "902"), _Place("Saskatoon", "SK", "S7K", "306"),
        ), _ENGLISH_STREETS, True, "ca"),
    ),
    "USD": (
        _Country("USA", "com", (
            _Place("Los Angeles", "CA", "900", "213"), _Place("Long Beach", "CA", "908", "562"),
            _Place("Oakland", "CA", "946", "510"), _Place("San Diego", "CA", "921", "619"),
            _Place("Phoenix", "AZ", "850", "602"), _Place("Las Vegas", "NV", "891", "702"),
            _Place("Seattle", "WA", "981", "206"), _Place("Portland", "OR", "972", "503"),
            _Place("Denver", "CO", "802", "303"), _Place("Salt Lake City", "UT", "841", "801"),
            _Place("Boise", "ID", "837", "208"), _Place("Dallas", "TX", "752", "214"),
            _Place("Chicago", "IL", "606", "312"), _Place("Atlanta", "GA", "303", "404"),
            _Place("New York", "NY", "100", "212"), _Place("Boston", "MA", "021", "617"),
        ), _ENGLISH_STREETS, True, "us"),
    ),
    "GBP": (
        _Country("GBR", "co.uk", (
            _Place("London", "Greater London", "EC1V", "+44 20 7946 "),
            _Place("Bath", "Somerset", "BA1", "+44 117 496 "),
            _Place("Bristol", "Bristol", "BS1", "+44 117 496 "),
            _Place("Manchester", "Greater Manchester", "M1", "+44 161 496 "),
            _Place("Leeds", "West Yorkshire", "LS1", "+44 113 496 "),
            _Place("Edinburgh", "Midlothian", "EH1", "+44 131 496 "),
            _Place("Cardiff", "South Glamorgan", "CF10", "+44 29 2018 "),
        ), _UK_STREETS, True, "uk"),
    ),
    "EUR": (
        _Country("IRL", "ie", (
            _Place("Dublin", "Co. Dublin", "D02", "+353 1 555 "),
            _Place("Cork", "Co. Cork", "T12", "+353 21 555 "),
        ), ("Grafton Street", "Baggot Street Lower", "Patrick Street", "Dame Street"), True, "ie"),
        _Country("DEU", "de", (
            _Place("Berlin", "Berlin", "101", "+49 30 5550 "),
            _Place("München", "Bayern", "803", "+49 89 5550 "),
            _Place("Hamburg", "Hamburg", "203", "+49 40 5550 "),
        ), ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Kastanienallee", "Gartenweg"),
            False, "num"),
        _Country("FRA", "fr", (
            _Place("Paris", "Île-de-France", "750", "+33 1 99 00 "),
            _Place("Lyon", "Auvergne-Rhône-Alpes", "690", "+33 4 99 00 "),
        ), ("rue de la République", "avenue Victor Hugo", "boulevard Haussmann",
            "rue du Faubourg Saint-Honoré"), True, "num"),
        _Country("NLD", "nl", (
            _Place("Amsterdam", "Noord-Holland", "1012", "+31 20 555 "),
            _Place("Rotterdam", "Zuid-Holland", "3011", "+31 10 555 "),
        ), ("Prinsengracht", "Keizersgracht", "Damrak", "Coolsingel"), False, "nl"),
    ),
    "MXN": (
        _Country("MEX", "com.mx", (
            _Place("Ciudad de México", "CDMX", "06", "+52 55 5555 "),
            _Place("Guadalajara", "Jal.", "44", "+52 33 5555 "),
            _Place("Monterrey", "N.L.", "64", "+52 81 5555 "),
            _Place("Tijuana", "B.C.", "22", "+52 664 555 "),
        ), ("Av. Paseo de la Reforma", "Calle Madero", "Av. Insurgentes Sur", "Calle Hidalgo"),
            False, "num"),
    ),
}
# fmt: on
_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"


def _postal_code(country: _Country, place: _Place, n: int) -> str:
    style = country.postal_style
    if style == "ca":
        return f"{place.postal} {n % 10}{_LETTERS[n // 10 % 20]}{n // 200 % 10}"
    if style == "us":
        return f"{place.postal}{n % 100:02d}"
    if style == "uk":
        return f"{place.postal} {n % 9 + 1}{_LETTERS[n // 10 % 20]}{_LETTERS[n // 200 % 20]}"
    if style == "ie":
        return f"{place.postal} {_LETTERS[n % 20]}{n // 20 % 1000:03d}"
    if style == "nl":
        return f"{place.postal} {_LETTERS[n % 20]}{_LETTERS[n // 20 % 20]}"
    width = 5 - len(place.postal)
    return f"{place.postal}{n % 10**width:0{width}d}"


def _phone(country: _Country, place: _Place, n: int) -> str:
    if country.iso3 in ("CAN", "USA"):
        # 555-0100..0199 is the North American range reserved for fiction.
        return f"{place.phone}-555-01{n % 100:02d}"
    return f"{place.phone}0{n % 1000:03d}"


@dataclass(frozen=True)
class _Address:
    line1: str
    line2: str | None
    city: str
    region: str
    country: str
    postal_code: str
    phone: str
    tld: str


@cache
def _address_pool(currency: str) -> tuple[_Address, ...]:
    """A fixed set of addresses in the countries that use `currency`. Parties draw from it:
    building an address from parts for each of 100,000 records would dominate the run."""
    rng = random.Random(f"addresses/{currency}")
    countries = _COUNTRIES[currency]
    pool = []
    for _ in range(2_039):
        country = rng.choice(countries)
        place = rng.choice(country.places)
        street = rng.choice(country.streets)
        number = rng.randrange(10, 4_910)
        pool.append(
            _Address(
                line1=f"{number} {street}" if country.number_first else f"{street} {number}",
                line2=f"Suite {rng.randrange(100, 2_000)}" if rng.random() < 0.25 else None,
                city=place.city,
                region=place.region,
                country=country.iso3,
                postal_code=_postal_code(country, place, rng.randrange(1_000_000)),
                phone=_phone(country, place, rng.randrange(1_000_000)),
                tld=country.tld,
            )
        )
    return tuple(pool)


def _timestamp_pool() -> tuple[str, ...]:
    rng = random.Random("sourceModifiedDate")
    return tuple(_timestamp(rng) for _ in range(4_093))


_TIMESTAMPS = _timestamp_pool()


# Deliberately awkward but valid names, placed at fixed positions inside the default counts so
# every demo business has them: an apostrophe with accents, a name at Xero's 255-character
# contact-name limit, quotes and an ampersand, non-Latin script, and a record with nothing but
# its name.
_LONG_NAME = (
    "The Greater Vancouver Island, Lower Mainland and Fraser Valley, BC Independent Specialty "
    "Coffee, Tea, Bakery and Fine Food Retailers' Co-operative Purchasing Association "
    "(Wholesale Accounts Receivable Division, Attention: Accounts Payable Department) Inc."
)
_TRICKY_NAMES = {
    "customers": {
        3: "Café Crème & Frères D'Aubigné Ltée",
        11: _LONG_NAME,
        19: 'The "Daily Grind" Café & Co.',
        27: "東京珈琲商会 (Tokyo Coffee Trading Co.)",
        31: "Zoë's Corner Shop",
    },
    "vendors": {
        2: "Société d'Importation Café Québec Inc.",
        9: _LONG_NAME,
        17: 'Smith & Jones "Express" Courier',
        23: "Müller Präzisionswerkzeuge GmbH",
        29: "O'Sullivan's Hardware",
    },
}
_BARE_INDEX = {"customers": 31, "vendors": 29}
# fmt: off
_PROJECTS = (
    "Warehouse Expansion", "Q3 Rollout", "Spring Promotion", "New Store Fit-out",
    "Annual Contract", "Holiday Programme", "Pilot", "Relocation",
)
# fmt: on


def _party_ids(c: Mapping[str, Any], profile: _Profile, data_type: str) -> Iterator[str]:
    """Provider-style ids: QuickBooks/NetSuite integers, Xero GUIDs, Sage 32-hex GUIDs.

    GUIDs come from an odd multiplier modulo 2**64 (a bijection), so they look random yet can
    never collide within a list.
    """
    if profile.id_style == "int":
        n = profile.first_party_id[data_type]
        while True:
            yield str(n)
            n += 1
    seed = _guid(c["connection_uuid"], data_type, dashes=False)
    high, low = int(seed[:16], 16), seed[16:]
    mask = (1 << 64) - 1
    n = 0
    dashes = profile.id_style == "guid"
    while True:
        h = f"{(n * 0x9E3779B97F4A7C15 + high) & mask:016x}"
        if dashes:
            yield f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{low[:4]}-{low[4:16]}"
        else:
            yield f"{h}{low}"
        n += 1


def _parties(
    c: Mapping[str, Any], profile: _Profile, data_type: str, count: int
) -> Iterator[dict[str, Any]]:
    """Customers or vendors. This is the hot path of the 100k-customer benchmark, so the loop
    sticks to table lookups, one random stream and pooled addresses."""
    service = c["service_name"]
    rng = random.Random(f"{c['connection_uuid']}/{data_type}")
    rand = rng.random
    ids = _party_ids(c, profile, data_type)
    is_customer = data_type == "customers"
    trades = _CUSTOMER_TRADES if is_customer else _VENDOR_TRADES
    trade_slugs = _TRADE_SLUGS[data_type]
    name_field = "customerName" if is_customer else "vendorName"
    mailbox = "accounts" if is_customer else "billing"
    n_trade, n_suffix = len(trades), len(_SUFFIXES)
    combos = len(_LEAD) * n_trade * n_suffix
    stride = 7_919  # a prime that does not divide the number of combinations
    offset = random.Random(f"{c['connection_uuid']}/{data_type}/names").randrange(combos)
    tricky = _TRICKY_NAMES[data_type]
    bare_index = _BARE_INDEX[data_type]
    mix = profile.currency_mix
    pools = {currency: _address_pool(currency) for currency, _ in mix}
    pool_size = len(next(iter(pools.values())))
    timestamps, n_timestamps = _TIMESTAMPS, len(_TIMESTAMPS)
    subsidiaries = _party_subsidiaries(profile)
    payment_methods = [
        {"id": pm_id, "name": name, "type": pm_type}
        for pm_id, name, pm_type, status in _PAYMENT_METHODS.get(service, ())
        if status == "active"
    ]
    # QuickBooks customers can be jobs under another customer ("Parent:Job").
    has_jobs = service == "quickbooks" and is_customer
    last_parent: tuple[str, str] | None = None
    n_first, n_last = len(_FIRST_NAMES), len(_LAST_NAMES)

    for i in range(count):
        party_id = next(ids)
        k = (i * stride + offset) % combos
        lead, rest = divmod(k, n_trade * n_suffix)
        trade, suffix = divmod(rest, n_suffix)
        if i in tricky:
            name = tricky[i]
            domain_base = _ascii_slug(name)[:24]
        else:
            name = f"{_LEAD[lead]} {trades[trade]}{_SUFFIXES[suffix]}"
            if i >= combos:
                name = f"{name} (Branch {i // combos + 1})"
            domain_base = _LEAD_SLUGS[lead] + trade_slugs[trade]

        r = rand()
        currency = mix[-1][0]
        for code, share in mix:
            if r < share:
                currency = code
                break
        a = pools[currency][int(rand() * pool_size)]
        address = {
            "line1": a.line1,
            "city": a.city,
            "region": a.region,
            "country": a.country,
            "postalCode": a.postal_code,
        }
        if a.line2:
            address["line2"] = a.line2
        first = int(rand() * n_first)
        last = int(rand() * n_last)
        first_name, last_name = _FIRST_NAMES[first], _LAST_NAMES[last]
        contact_name = f"{first_name} {last_name}"
        domain = f"{domain_base}.{a.tld}"
        if rand() < 0.6:
            email = f"{_FIRST_SLUGS[first]}.{_LAST_SLUGS[last]}@{domain}"
        else:
            email = f"{mailbox}@{domain}"
        r = rand()
        status = "archived" if r < 0.06 else "active"
        balance = round(rand() ** 3 * 48_000 + 25, 2) if 0.06 <= r < 0.51 else 0.0
        record: dict[str, Any] = {
            "id": party_id,
            name_field: name,
            "contactName": contact_name,
            "contactFirstName": first_name,
            "contactLastName": last_name,
            "emailAddress": email,
            "phone": a.phone,
            "website": f"www.{domain}",
            "status": status,
            "currency": currency,
            "balance": balance,
            "isPerson": False,
            "billingAddress": address,
            "sourceModifiedDate": timestamps[int(rand() * n_timestamps)],
        }
        r = rand()
        if r < 0.5:
            record["shippingAddress"] = address.copy()
        if r < 0.35 or r > 0.85:
            record["taxNumber"] = str(100_000_000 + int(r * 899_999_999))
        if r > 0.3:
            contact_address = address.copy()
            contact_address["type"] = "billing"
            record["contacts"] = [
                {
                    "name": contact_name,
                    "email": email,
                    "phone": a.phone,
                    "address": contact_address,
                    "status": "active",
                }
            ]
        if payment_methods and r < 0.3:
            record["paymentMethodRef"] = payment_methods[
                int(r * 33.3) % len(payment_methods)
            ].copy()
        if subsidiaries:
            record["subsidiaryRefs"] = [subsidiaries[currency].copy()]

        if has_jobs and last_parent and r > 0.92 and i not in tricky:
            record[name_field] = f"{last_parent[1]}:{_PROJECTS[i % len(_PROJECTS)]}"
            record["parentRef"] = {"id": last_parent[0], "name": last_parent[1]}
        elif status == "active":
            last_parent = (party_id, record[name_field])

        if i == bare_index:
            # A sole trader's card with nothing filled in but the name.
            record = {"id": party_id, name_field: name, "status": "active", "isPerson": True}
        yield record


def _party_subsidiaries(profile: _Profile) -> dict[str, dict[str, str]]:
    """Currency -> the subsidiary a party in that currency belongs to (NetSuite only)."""
    if len(profile.subsidiaries) == 1:
        return {}
    by_currency = {s.currency: {"id": s.id, "name": s.name} for s in profile.subsidiaries}
    # Euro customers and suppliers are handled by the UK subsidiary.
    return {code: by_currency.get(code, by_currency["GBP"]) for _, code, _ in profile.currencies}


# --------------------------------------------------------------------------------------------
# Inventory: each business sells (products x variants); item i is combination i, so the list
# reads like a real catalogue. The accounts and tax rates it points at exist in the same
# business.


@dataclass(frozen=True)
class _Catalog:
    products: tuple[tuple[str, str, float], ...]  # (name, SKU stem, base unit price)
    variants: tuple[tuple[str, str, float], ...]  # (label, SKU suffix, price factor)
    item_type: str
    income_account: str
    expense_account: str
    asset_account: str | None
    sales_tax: str | None
    purchase_tax: str | None
    cost_share: float  # purchase price as a share of the sale price
    locations: tuple[tuple[str, str], ...] = ()


# fmt: off
_XERO_PRODUCTS = (
    ("Ethiopia Yirgacheffe", "ETH-YIR", 21.0), ("Ethiopia Guji Natural", "ETH-GUJ", 22.0),
    ("Kenya Nyeri AA", "KEN-NYE", 23.5), ("Colombia Huila", "COL-HUI", 18.5),
    ("Colombia Decaf (Sugarcane EA)", "COL-DEC", 19.0),
    ("Guatemala Huehuetenango", "GUA-HUE", 19.5), ("Costa Rica Tarrazú", "CRI-TAR", 20.0),
    ("Brazil Cerrado", "BRA-CER", 16.5), ("Peru Cajamarca Organic", "PER-CAJ", 18.0),
    ("Honduras Marcala", "HON-MAR", 17.5), ("Sumatra Mandheling", "IDN-MAN", 19.0),
    ("Rwanda Huye", "RWA-HUY", 21.5), ("Burundi Kayanza", "BDI-KAY", 21.5),
    ("Mexico Chiapas", "MEX-CHI", 17.0), ("Nicaragua Jinotega", "NIC-JIN", 17.5),
    ("El Salvador Santa Ana", "SLV-SAN", 18.5), ("Panama Boquete Geisha", "PAN-GEI", 42.0),
    ("Papua New Guinea Sigri", "PNG-SIG", 19.5), ("Tanzania Peaberry", "TZA-PEA", 20.5),
    ("India Monsooned Malabar", "IND-MAL", 18.0), ("Uganda Bugisu", "UGA-BUG", 18.5),
    ("Bolivia Caranavi", "BOL-CAR", 20.0), ("Ecuador Loja", "ECU-LOJ", 22.5),
    ("House Espresso Blend", "BLD-ESP", 17.0), ("Maple Leaf Breakfast Blend", "BLD-BRK", 16.0),
    ("'Lumberjack' Dark Roast Blend", "BLD-LUM", 16.5), ("Cold Brew Blend", "BLD-CLD", 16.5),
    ("Swiss Water Decaf Blend", "BLD-DEC", 18.0), ("Seasonal Holiday Blend", "BLD-HOL", 19.5),
    ("Single-Origin Sampler", "SMP-SO", 24.0),
)

_XERO_VARIANTS = (
    ("Whole Bean 340 g", "340WB", 1.0), ("Ground 340 g", "340GR", 1.0),
    ("Whole Bean 1 kg", "1KWB", 2.6), ("Whole Bean 2.27 kg (5 lb) Wholesale", "5LB", 4.4),
    ("Espresso Grind 340 g", "340ES", 1.0), ("Subscription 340 g / month", "SUB", 0.95),
)

_QUICKBOOKS_PRODUCTS = (
    ("Long Beach to Phoenix", "LGB-PHX", 1850.0), ("Long Beach to Las Vegas", "LGB-LAS", 1450.0),
    ("Long Beach to Oakland", "LGB-OAK", 1600.0), ("Long Beach to Seattle", "LGB-SEA", 3200.0),
    ("Long Beach to Denver", "LGB-DEN", 3050.0),
    ("Long Beach to Salt Lake City", "LGB-SLC", 2450.0),
    ("Long Beach to Dallas", "LGB-DAL", 3400.0), ("Long Beach to Chicago", "LGB-CHI", 5200.0),
    ("Long Beach to San Diego", "LGB-SAN", 780.0), ("Long Beach to Fresno", "LGB-FAT", 950.0),
    ("Oakland to Reno", "OAK-RNO", 980.0), ("Oakland to Portland", "OAK-PDX", 1900.0),
    ("Oakland to Sacramento", "OAK-SMF", 520.0), ("Oakland to Boise", "OAK-BOI", 2150.0),
    ("Oakland to Los Angeles", "OAK-LAX", 1550.0), ("Seattle to Spokane", "SEA-GEG", 1100.0),
    ("Seattle to Portland", "SEA-PDX", 700.0), ("Seattle to Boise", "SEA-BOI", 1750.0),
    ("Seattle to Vancouver BC", "SEA-YVR", 850.0),
    ("Seattle to Anchorage (via Tacoma)", "SEA-ANC", 6400.0),
    ("Los Angeles to Tucson", "LAX-TUS", 1650.0),
    ("Los Angeles to Albuquerque", "LAX-ABQ", 2500.0),
    ("Los Angeles to Houston", "LAX-HOU", 4300.0), ("Los Angeles to Atlanta", "LAX-ATL", 6200.0),
    ("Los Angeles to Newark", "LAX-EWR", 7800.0), ("Phoenix to El Paso", "PHX-ELP", 1300.0),
    ("Phoenix to Las Vegas", "PHX-LAS", 900.0), ("Denver to Kansas City", "DEN-MKC", 1700.0),
    ("Salt Lake City to Boise", "SLC-BOI", 950.0), ("Las Vegas to Reno", "LAS-RNO", 1250.0),
)

_QUICKBOOKS_VARIANTS = (
    ("FTL Dry Van 53'", "FTL", 1.0), ("FTL Reefer 53'", "REF", 1.28), ("Flatbed 48'", "FLT", 1.18),
    ("LTL per pallet", "LTL", 0.085), ("Expedited Team", "EXP", 1.65),
    ("Partial Truckload (up to 12 pallets)", "PTL", 0.62),
)

_NETSUITE_PRODUCTS = (
    ("Ridgeline 2P Tent", "TNT-RL2", 349.0), ("Ridgeline 3P Tent", "TNT-RL3", 429.0),
    ("Basecamp 6P Tent", "TNT-BC6", 649.0), ("Alpine Bivy", "TNT-BVY", 229.0),
    ("Trailhead 45L Pack", "PCK-T45", 199.0), ("Trailhead 65L Pack", "PCK-T65", 259.0),
    ("Daypack 22L", "PCK-D22", 89.0), ("Summit Down Jacket", "APP-SDJ", 299.0),
    ("Stormshell Rain Jacket", "APP-SRJ", 219.0), ("Trail Runner Shoe", "FTW-TRS", 139.0),
    ("Approach Shoe", "FTW-APR", 159.0), ("Hiking Boot Mid GTX", "FTW-HBM", 209.0),
    ("Merino Base Layer Top", "APP-MBT", 95.0), ("Fleece Quarter-Zip", "APP-FQZ", 79.0),
    ("Insulated Vest", "APP-INV", 149.0), ("Sleeping Bag -7°C", "SLP-M7", 279.0),
    ("Sleeping Bag 0°C", "SLP-00", 219.0), ("Ultralight Sleeping Pad", "SLP-PAD", 169.0),
    ("Trekking Poles (pair)", "ACC-TRP", 119.0), ("Headlamp 400 lm", "ACC-HL4", 49.0),
    ("Titanium Cook Pot 900 ml", "CMP-TCP", 64.0), ("Backpacking Stove", "CMP-STV", 74.0),
    ("Water Filter", "CMP-WTF", 44.0), ("Climbing Harness", "CLB-HRN", 89.0),
    ("Dynamic Rope 9.8 mm x 60 m", "CLB-R60", 229.0), ("Chalk Bag", "CLB-CHK", 24.0),
    ("Carabiner Set (6)", "CLB-CR6", 59.0), ("Touring Kayak Paddle", "PDL-KYP", 189.0),
    ("PFD Touring Vest", "PDL-PFD", 129.0), ("Dry Bag 20L", "PDL-DRY", 34.0),
)

_NETSUITE_VARIANTS = (
    ("Forest Green", "GRN", 1.0), ("Slate Grey", "GRY", 1.0), ("Glacier Blue", "BLU", 1.0),
    ("Ember Orange", "ORG", 1.0), ("Sand", "SND", 1.0), ("Black", "BLK", 1.05),
)

_NETSUITE_LOCATIONS = (
    ("21", "Denver HQ"), ("22", "Salt Lake City DC"), ("23", "Boise Store"),
    ("24", "Calgary Warehouse"), ("25", "Vancouver Store"), ("26", "Manchester DC"),
)

_SAGE_PRODUCTS = (
    ("Sourdough Loaf 800g", "SD800", 4.8), ("Seeded Rye Loaf", "RYE", 4.5),
    ("Wholemeal Tin Loaf", "WMT", 3.6), ("White Bloomer", "BLM", 3.4),
    ("Spelt & Honey Loaf", "SPH", 5.2), ("Baguette", "BAG", 2.2),
    ("Focaccia Rosemary & Sea Salt", "FOC", 4.2), ("Ciabatta", "CIA", 2.6),
    ("Brioche Loaf", "BRI", 4.9), ("Challah", "CHA", 5.5), ("Butter Croissant", "CRO", 2.1),
    ("Pain au Chocolat", "PAC", 2.4), ("Almond Croissant", "ALC", 2.9),
    ("Cinnamon Bun", "CIN", 2.8), ("Cardamom Knot", "CAR", 2.9), ("Chelsea Bun", "CHB", 2.5),
    ("Bath Bun", "BTH", 2.3), ("Eccles Cake", "ECC", 2.2), ("Sausage Roll", "SRL", 3.2),
    ("Cheese & Onion Pasty", "CHP", 3.8), ("Victoria Sponge (whole)", "VIC", 18.0),
    ("Lemon Drizzle Loaf Cake", "LEM", 9.5), ("Carrot Cake (whole)", "CRT", 22.0),
    ("Chocolate Brownie", "BRN", 2.6), ("Flapjack", "FLP", 2.2), ("Scone (plain)", "SCN", 1.9),
    ("Fruit Scone", "SCF", 2.0), ("Hot Cross Bun", "HCB", 1.1), ("Mince Pie", "MNC", 1.3),
    ("Stollen", "STO", 12.5),
)

_SAGE_VARIANTS = (
    ("Single", "1", 1.0), ("Pack of 4", "4", 3.7), ("Pack of 6", "6", 5.4), ("Dozen", "12", 10.2),
    ("Wholesale Tray (24)", "W24", 17.5), ("Wholesale Crate (48)", "W48", 32.0),
)
# fmt: on

_CATALOGS: dict[str, _Catalog] = {
    "xero": _Catalog(
        products=_XERO_PRODUCTS,
        variants=_XERO_VARIANTS,
        item_type="inventory",
        income_account="200",
        expense_account="300",
        asset_account="631",
        sales_tax="ZERORATED",
        purchase_tax="INPUT",
        cost_share=0.42,
    ),
    "quickbooks": _Catalog(
        products=_QUICKBOOKS_PRODUCTS,
        variants=_QUICKBOOKS_VARIANTS,
        item_type="service",
        income_account="ftl",
        expense_account="carriers",
        asset_account=None,
        sales_tax=None,
        purchase_tax=None,
        cost_share=0.78,
    ),
    "oracleNetsuite": _Catalog(
        products=_NETSUITE_PRODUCTS,
        variants=_NETSUITE_VARIANTS,
        item_type="inventory",
        income_account="4010",
        expense_account="5010",
        asset_account="1200",
        sales_tax=None,
        purchase_tax=None,
        cost_share=0.48,
        locations=_NETSUITE_LOCATIONS,
    ),
    "sageBusinessCloud": _Catalog(
        products=_SAGE_PRODUCTS,
        variants=_SAGE_VARIANTS,
        item_type="nonInventory",
        income_account="4000",
        expense_account="5000",
        asset_account=None,
        sales_tax="GB_ZERO",
        purchase_tax="GB_ZERO",
        cost_share=0.35,
    ),
}
_NO_CODE_INDEX = 5  # one item without a SKU, as real catalogues have


def _inventory(c: Mapping[str, Any], profile: _Profile, count: int) -> Iterator[dict[str, Any]]:
    service = c["service_name"]
    catalog = _CATALOGS[service]
    accounts = _account_refs(c["connection_uuid"])
    tax_rates = _tax_rate_refs(c["connection_uuid"])
    rng = random.Random(f"{c['connection_uuid']}/inventory")
    per_product = len(catalog.variants)
    size = len(catalog.products) * per_product
    for i in range(count):
        (name, stem, base), (label, sku, factor) = (
            catalog.products[i % size // per_product],
            catalog.variants[i % per_product],
        )
        batch = i // size
        full_name = f"{name} - {label}" + (f" (Price List {batch + 1})" if batch else "")
        code = f"{stem}-{sku}" + (f"-{batch + 1}" if batch else "")
        price = round(base * factor, 2)
        cost = round(price * catalog.cost_share, 2)
        if profile.id_style == "int":
            item_id = str((1 if service == "quickbooks" else 501) + i)
        else:
            item_id = _guid(c["connection_uuid"], "inventory", str(i), dashes=service == "xero")
        invoice_item: dict[str, Any] = {
            "description": f"{name}, {label}",
            "unitPrice": price,
            "accountRef": dict(accounts[catalog.income_account]),
        }
        bill_item: dict[str, Any] = {
            "description": f"{name}, {label} (purchase)",
            "unitPrice": cost,
            "accountRef": dict(accounts[catalog.expense_account]),
        }
        if catalog.sales_tax:
            invoice_item["taxRateRef"] = dict(tax_rates[catalog.sales_tax])
        if catalog.purchase_tax:
            bill_item["taxRateRef"] = dict(tax_rates[catalog.purchase_tax])
        item: dict[str, Any] = {
            "id": item_id,
            "name": full_name,
            "code": code,
            "type": catalog.item_type,
            "status": "archived" if rng.random() < 0.04 else "active",
            "isInvoiceItem": True,
            "isBillItem": True,
            "invoiceItem": invoice_item,
            "billItem": bill_item,
            "sourceModifiedDate": _timestamp(rng),
        }
        if catalog.asset_account:
            asset = accounts[catalog.asset_account]
            item["quantityOnHand"] = [
                {
                    "locationRef": {"id": loc_id, "name": loc_name},
                    "quantity": float(int(rng.random() * 240)),
                    "accountRef": dict(asset),
                }
                for loc_id, loc_name in (catalog.locations or (("", ""),))
                if loc_id
            ] or [{"quantity": float(int(rng.random() * 400)), "accountRef": dict(asset)}]
        if service == "oracleNetsuite":
            item["subsidiaryRefs"] = [{"id": s.id, "name": s.name} for s in profile.subsidiaries]
        if i == _NO_CODE_INDEX:
            del item["code"]
        yield item


# --------------------------------------------------------------------------------------------
# Open documents: invoices and bills made in the accounting system, for payments to pay, and
# credit notes for payments to apply

DOCUMENT_TYPES = ("invoices", "bills", "invoiceCreditNotes", "billCreditNotes")
# Documents per demo business and type: two for each of the first parties, oldest first.
DOCUMENTS_PER_PARTY = 2
DOCUMENT_PARTIES = 3
# Credit notes: one for each of the first parties.
CREDIT_NOTE_PARTIES = 2

# data type -> (parties, party ref, number key, party name key, number prefix, open key)
_DOCUMENT_SHAPES = {
    "invoices": ("customers", "customerRef", "invoiceNumber", "customerName", "INV", "amountDue"),
    "bills": ("vendors", "vendorRef", "vendorInvoiceNumber", "vendorName", "BILL", "amountDue"),
    "invoiceCreditNotes": (
        "customers",
        "customerRef",
        "invoiceCreditNoteNumber",
        "customerName",
        "CN",
        "remainingCredit",
    ),
    "billCreditNotes": (
        "vendors",
        "vendorRef",
        "billCreditNoteNumber",
        "vendorName",
        "VCN",
        "remainingCredit",
    ),
}


def documents(conn: Mapping[str, Any] | str, data_type: str) -> list[dict[str, Any]]:
    """Open invoices (or bills) the demo business made in its accounting system: a few for
    each of its first customers (or vendors), in the business's currency, nothing paid yet
    except the first, which is partly paid. Credit notes: one for each of the first parties,
    the first partly used."""
    if data_type not in DOCUMENT_TYPES:
        raise ValueError(f"data_type must be one of {', '.join(DOCUMENT_TYPES)}")
    c = _connection(conn)
    parties, party_key, number_key, name_key, prefix, open_key = _DOCUMENT_SHAPES[data_type]
    credit = open_key == "remainingCredit"
    per_party = 1 if credit else DOCUMENTS_PER_PARTY
    first_parties = CREDIT_NOTE_PARTIES if credit else DOCUMENT_PARTIES
    # The first is partly paid (partly used): 50 paid on an invoice, 10 of a credit note.
    used_on_first = 10 if credit else 50
    guid = c["service_name"] in ("xero", "sageBusinessCloud")
    items = []
    for p, party in enumerate(records(c, parties, count=first_parties)):
        for d in range(per_party):
            n = p * per_party + d
            total = round(40.0 + 20 * n, 2) if credit else round(250.0 + 125.5 * n, 2)
            posted = f"2026-{9 + d:02d}-{1 + p:02d}"
            base = 950 if credit else 900
            remote_id = _guid(c["connection_uuid"], data_type, str(n)) if guid else str(base + n)
            item = {
                "id": remote_id,
                number_key: f"{prefix}-{5001 + n}",
                party_key: {"id": party["id"], "name": party.get(name_key, "")},
                "postedDate": f"{posted}T00:00:00.000Z",
                "currency": c["home_currency"],
                "subTotal": total,
                "taxAmount": 0,
                "totalAmount": total,
                open_key: round(total - used_on_first, 2) if n == 0 else total,
                "status": "partiallyPaid" if n == 0 else "open",
                "lines": [
                    {
                        "id": "1",
                        "description": "Made in the accounting system",
                        "quantity": 1,
                        "unitAmount": total,
                        "amount": total,
                    }
                ],
                "sourceModifiedDate": f"{posted}T09:00:00.000Z",
            }
            if not credit:
                item["dueDate"] = f"2026-{10 + d:02d}-{1 + p:02d}T00:00:00.000Z"
            items.append(item)
    return items
