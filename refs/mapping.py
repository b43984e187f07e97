"""How each Railz reference record becomes the fields of a local row.

Each reader takes one item exactly as Railz returns it and gives back the rows it stands for,
as `(model, remote_id, fields, raw)`, raw being the part of the record the row keeps. A record
that cannot be stored raises MalformedRecord with a sentence naming the field and the rule;
the sync skips and reports it, and goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from refs.models import (
    Account,
    Currency,
    Customer,
    Item,
    Location,
    OpenBill,
    OpenBillCreditNote,
    OpenDocument,
    OpenInvoice,
    OpenInvoiceCreditNote,
    PaymentMethod,
    RefRecord,
    Subsidiary,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    Vendor,
)

# Part of every content hash: bump it when a reader changes, so the next sync rewrites rows
# whose Railz record did not change but whose stored fields would.
MAPPING_VERSION = "2"

Row = tuple[type[RefRecord], str, dict[str, Any], Any]


class MalformedRecord(ValueError):
    """A Railz record that cannot be stored; the message names the field and the rule."""


def record_json(raw: Any) -> str:
    """The record as stored in `raw`; also what its content hash is taken of.

    Keys keep Railz's order (no sort: it costs more than the hashing); a provider that
    reorders keys only causes one extra rewrite of unchanged rows.
    """
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False)


def content_hash(text: str) -> str:
    return hashlib.blake2b(
        (MAPPING_VERSION + text).encode(), digest_size=16, usedforsecurity=False
    ).hexdigest()


def record_id(record: Any) -> str | None:
    """The record's id for a skip report, whatever shape the record has."""
    if isinstance(record, Mapping):
        value = record.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value).strip() or None
    return None


# --- field readers --------------------------------------------------------------------------


@cache
def _max_length(model: type[RefRecord], field: str) -> int:
    return model._meta.get_field(field).max_length


def _required_id(record: Any, key: str = "id") -> str:
    if not isinstance(record, Mapping):
        raise MalformedRecord(f"the record must be a JSON object, not {type(record).__name__}")
    value = record.get(key)
    if value is None:
        raise MalformedRecord(f"{key} should not be empty")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedRecord(f"{key} must be a string")
    text = str(value).strip()
    if not text:
        raise MalformedRecord(f"{key} should not be empty")
    if len(text) > 255:
        raise MalformedRecord(f"{key} must be shorter than or equal to 255 characters")
    return text


def _text(record: Mapping, key: str, limit: int, *, label: str | None = None) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedRecord(f"{label or key} must be a string")
    text = str(value).strip()
    if len(text) > limit:
        raise MalformedRecord(f"{label or key} must be shorter than or equal to {limit} characters")
    return text


def _decimal(record: Mapping, key: str, *, label: str | None = None) -> Decimal | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedRecord(f"{label or key} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MalformedRecord(f"{label or key} must be a number") from None
    if not number.is_finite():
        raise MalformedRecord(f"{label or key} must be a number")
    return number


def _bool(record: Mapping, key: str, default: bool | None) -> bool | None:
    value = record.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        # Railz's own examples sometimes quote booleans ("isEditable": "true").
        return value.lower() == "true"
    raise MalformedRecord(f"{key} must be a boolean")


def _ref_id(record: Mapping, key: str) -> str:
    ref = record.get(key)
    if ref is None:
        return ""
    if not isinstance(ref, Mapping):
        raise MalformedRecord(f"{key} must be an object with an id")
    value = ref.get("id")
    if value in (None, ""):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedRecord(f"{key}.id must be a string")
    return str(value).strip()


_STATUSES = frozenset(RefRecord.Status.values)


def _status(record: Mapping) -> str:
    value = record.get("status")
    if value in (None, ""):
        return RefRecord.Status.UNKNOWN
    if not isinstance(value, str):
        raise MalformedRecord("status must be a string")
    value = value.strip().lower()
    return value if value in _STATUSES else RefRecord.Status.UNKNOWN


def _name(model: type[RefRecord], record: Mapping, *keys: str) -> str:
    limit = _max_length(model, "name")
    for key in keys:
        text = _text(record, key, limit)
        if text:
            return text
    return ""


# --- readers per Railz data type ------------------------------------------------------------


def _party(model: type[Customer | Vendor], name_key: str, record: Any) -> Iterator[Row]:
    remote_id = _required_id(record)
    yield (
        model,
        remote_id,
        {
            "name": _name(model, record, name_key, "contactName"),
            "status": _status(record),
            "contact_name": _text(record, "contactName", _max_length(model, "contact_name")),
            "email": _text(record, "emailAddress", _max_length(model, "email")),
            "phone": _text(record, "phone", _max_length(model, "phone")),
            "currency": _text(record, "currency", _max_length(model, "currency")),
            "parent_remote_id": _ref_id(record, "parentRef"),
        },
        record,
    )


def read_customer(record: Any) -> Iterator[Row]:
    return _party(Customer, "customerName", record)


def read_vendor(record: Any) -> Iterator[Row]:
    return _party(Vendor, "vendorName", record)


def read_account(record: Any) -> Iterator[Row]:
    remote_id = _required_id(record)
    is_active = _bool(record, "isActive", None)
    if is_active is None:
        status = _status(record)
    else:
        status = RefRecord.Status.ACTIVE if is_active else RefRecord.Status.ARCHIVED
    yield (
        Account,
        remote_id,
        {
            "name": _name(Account, record, "name", "fullyQualifiedName"),
            "status": status,
            "code": _text(record, "nominalCode", 100),
            "account_type": _text(record, "type", 100),
            "classification": _text(record, "classification", 100),
            "section": _text(record, "section", 100),
            "fully_qualified_name": _text(record, "fullyQualifiedName", 1000),
            "currency": _text(record, "currency", 10),
            "is_bank_account": bool(_bool(record, "isBankAccount", False)),
            "is_posting": bool(_bool(record, "isPosting", True)),
            "parent_remote_id": _ref_id(record, "parentRef"),
            "tax_rate_remote_id": _ref_id(record, "taxRateRef"),
        },
        record,
    )


def read_tax_rate(record: Any) -> Iterator[Row]:
    remote_id = _required_id(record)
    components = record.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, Mapping) for c in components):
        raise MalformedRecord("components must be a list of objects")
    flags = {}
    for key, field in (("isSalesTax", "is_sales_tax"), ("isPurchasesTax", "is_purchases_tax")):
        values = [_bool(c, key, None) for c in components]
        known = [v for v in values if v is not None]
        flags[field] = any(known) if known else None
    yield (
        TaxRate,
        remote_id,
        {
            "name": _name(TaxRate, record, "name", "code"),
            # Tax rates carry no status in Railz: present means usable.
            "status": _status(record) if record.get("status") else RefRecord.Status.ACTIVE,
            "code": _text(record, "code", 100),
            "effective_rate": _decimal(record, "effectiveTaxRate"),
            "total_rate": _decimal(record, "totalTaxRate"),
            **flags,
        },
        record,
    )


def read_item(record: Any) -> Iterator[Row]:
    remote_id = _required_id(record)
    invoice_item = record.get("invoiceItem") or {}
    if not isinstance(invoice_item, Mapping):
        raise MalformedRecord("invoiceItem must be an object")
    yield (
        Item,
        remote_id,
        {
            "name": _name(Item, record, "name", "code"),
            "status": _status(record),
            "code": _text(record, "code", 100),
            "item_type": _text(record, "type", 40),
            "is_invoice_item": bool(_bool(record, "isInvoiceItem", True)),
            "is_bill_item": bool(_bool(record, "isBillItem", True)),
            "description": _text(
                invoice_item, "description", 4000, label="invoiceItem.description"
            ),
            "unit_price": _decimal(invoice_item, "unitPrice", label="invoiceItem.unitPrice"),
            "account_remote_id": _ref_id(invoice_item, "accountRef"),
            "tax_rate_remote_id": _ref_id(invoice_item, "taxRateRef"),
        },
        record,
    )


def _tracking_type(record: Mapping, default: str = TrackingCategory.Type.UNKNOWN) -> str:
    category_type = _text(record, "type", 20).lower() or default
    return category_type if category_type in TrackingCategory.Type.values else default


def read_tracking_category(record: Any) -> Iterator[Row]:
    """Every tracking row is a TrackingOption a line can book; a top-level one also groups.

    Railz lists a category's options as its children (parentRef), and a provider books a line
    to whichever row it names: a child, or a parent with or without children (a QuickBooks
    class, a NetSuite department). So no row is left out of the choosable ones.
    """
    remote_id = _required_id(record)
    parent_id = _ref_id(record, "parentRef")
    category_type = _tracking_type(record)
    yield (
        TrackingOption,
        remote_id,
        {
            "name": _name(TrackingOption, record, "name"),
            "status": _status(record),
            "category_type": category_type,
            "category_remote_id": parent_id,
        },
        record,
    )
    if parent_id:
        return
    yield (
        TrackingCategory,
        remote_id,
        {
            "name": _name(TrackingCategory, record, "name"),
            "status": _status(record),
            "category_type": category_type,
        },
        record,
    )
    # Some providers nest the options in the category instead (Xero's own shape).
    options = record.get("options")
    if options is None:
        return
    if not isinstance(options, list):
        raise MalformedRecord("options must be a list of objects")
    for position, option in enumerate(options):
        try:
            option_id = _required_id(option)
        except MalformedRecord as exc:
            raise MalformedRecord(f"options[{position}].{exc}") from None
        yield (
            TrackingOption,
            option_id,
            {
                "name": _name(TrackingOption, option, "name"),
                "status": _status(option),
                "category_type": _tracking_type(option, category_type),
                "category_remote_id": remote_id,
            },
            {**option, "categoryRef": {"id": remote_id}},
        )


def _date(record: Mapping, key: str) -> date | None:
    value = record.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedRecord(f"{key} must be a date")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise MalformedRecord(f"{key} must be a date formatted as yyyy-mm-dd") from None


_DOCUMENT_STATUSES = {s.lower(): s for s in OpenDocument.DocumentStatus.values}


def _open_document(
    model: type[OpenDocument],
    *,
    party_key: str,
    number_key: str,
    record: Any,
    due_key: str = "amountDue",
) -> Iterator[Row]:
    """One document's row; `due_key` names what is still open on it (a credit note's
    `remainingCredit`)."""
    remote_id = _required_id(record)
    status = _text(record, "status", 40)
    document_status = _DOCUMENT_STATUSES.get(status.lower(), OpenDocument.DocumentStatus.UNKNOWN)
    yield (
        model,
        remote_id,
        {
            "name": _text(record, number_key, _max_length(model, "name")),
            # Documents have no active/archived status: a listed one is live.
            "status": RefRecord.Status.ACTIVE,
            "party_remote_id": _ref_id(record, party_key),
            "posted_date": _date(record, "postedDate"),
            "due_date": _date(record, "dueDate"),
            "currency": _text(record, "currency", _max_length(model, "currency")),
            "total_amount": _decimal(record, "totalAmount"),
            "amount_due": _decimal(record, due_key),
            "document_status": document_status,
        },
        record,
    )


def read_open_invoice(record: Any) -> Iterator[Row]:
    return _open_document(
        OpenInvoice, party_key="customerRef", number_key="invoiceNumber", record=record
    )


def read_open_bill(record: Any) -> Iterator[Row]:
    return _open_document(
        OpenBill, party_key="vendorRef", number_key="vendorInvoiceNumber", record=record
    )


def read_open_invoice_credit_note(record: Any) -> Iterator[Row]:
    return _open_document(
        OpenInvoiceCreditNote,
        party_key="customerRef",
        number_key="invoiceCreditNoteNumber",
        record=record,
        due_key="remainingCredit",
    )


def read_open_bill_credit_note(record: Any) -> Iterator[Row]:
    return _open_document(
        OpenBillCreditNote,
        party_key="vendorRef",
        number_key="billCreditNoteNumber",
        record=record,
        due_key="remainingCredit",
    )


def read_payment_method(record: Any) -> Iterator[Row]:
    remote_id = _required_id(record)
    yield (
        PaymentMethod,
        remote_id,
        {
            "name": _name(PaymentMethod, record, "name"),
            "status": _status(record),
            "method_type": _text(record, "type", 40),
        },
        record,
    )


def read_business_info(info: Any) -> Iterator[Row]:
    """Subsidiaries, their locations and the currencies of GET /v2/businesses/info `data`."""
    if not isinstance(info, Mapping):
        raise MalformedRecord("the business info must be a JSON object")
    for key in ("subsidiaryRefs", "currencyRefs"):
        if not isinstance(info.get(key) or [], list):
            raise MalformedRecord(f"{key} must be a list of objects")
    for subsidiary in info.get("subsidiaryRefs") or []:
        subsidiary_id = _required_id(subsidiary)
        yield (
            Subsidiary,
            subsidiary_id,
            {
                "name": _name(Subsidiary, subsidiary, "name"),
                "status": _status(subsidiary),
                "parent_remote_id": _ref_id(subsidiary, "parentRef"),
            },
            subsidiary,
        )
        locations = subsidiary.get("locations") or []
        if not isinstance(locations, list):
            raise MalformedRecord("subsidiaryRefs[].locations must be a list of objects")
        for location in locations:
            yield (
                Location,
                _required_id(location),
                {
                    "name": _name(Location, location, "name"),
                    "status": _status(location),
                    "subsidiary_remote_id": subsidiary_id,
                },
                {**location, "subsidiaryRef": {"id": subsidiary_id}},
            )
    for currency in info.get("currencyRefs") or []:
        currency_id = _required_id(currency)
        is_active = _bool(currency, "isActive", True)
        yield (
            Currency,
            currency_id,
            {
                "name": _name(Currency, currency, "name"),
                "status": RefRecord.Status.ACTIVE if is_active else RefRecord.Status.ARCHIVED,
                "code": _text(currency, "symbol", 10) or currency_id[:10],
                "is_base_currency": bool(_bool(currency, "isBaseCurrency", False)),
            },
            currency,
        )


@dataclass(frozen=True)
class Link:
    """A foreign key filled from a remote id once both rows exist (they may come on any page)."""

    model: type[RefRecord]
    field: str
    remote_field: str
    target: type[RefRecord]


@dataclass(frozen=True)
class RefType:
    data_type: str  # Railz dataType, the name used by SyncRun and `sync_refs --type`
    label: str
    path: str | None  # GET list path; None for businessInfo (one object, not a list)
    models: tuple[type[RefRecord], ...]
    read: Callable[[Any], Iterator[Row]]
    links: tuple[Link, ...] = ()


BUSINESS_INFO = "businessInfo"

# In the order a full sync runs them: targets of links before the rows that point at them.
REF_TYPES: dict[str, RefType] = {
    ref_type.data_type: ref_type
    for ref_type in (
        RefType(
            BUSINESS_INFO,
            "subsidiaries, locations and currencies",
            None,
            (Subsidiary, Location, Currency),
            read_business_info,
            (
                Link(Subsidiary, "parent", "parent_remote_id", Subsidiary),
                Link(Location, "subsidiary", "subsidiary_remote_id", Subsidiary),
            ),
        ),
        RefType("taxRates", "tax rates", "/v2/accounting/taxRates", (TaxRate,), read_tax_rate),
        RefType(
            "accounts",
            "accounts",
            "/v2/accounting/accounts",
            (Account,),
            read_account,
            (
                Link(Account, "parent", "parent_remote_id", Account),
                Link(Account, "tax_rate", "tax_rate_remote_id", TaxRate),
            ),
        ),
        RefType(
            "inventory",
            "items",
            "/v2/accounting/inventory",
            (Item,),
            read_item,
            (
                Link(Item, "account", "account_remote_id", Account),
                Link(Item, "tax_rate", "tax_rate_remote_id", TaxRate),
            ),
        ),
        RefType(
            "trackingCategories",
            "tracking categories",
            "/v2/accounting/trackingCategories",
            (TrackingCategory, TrackingOption),
            read_tracking_category,
            (Link(TrackingOption, "category", "category_remote_id", TrackingCategory),),
        ),
        RefType(
            "paymentMethods",
            "payment methods",
            "/v2/accounting/paymentMethods",
            (PaymentMethod,),
            read_payment_method,
        ),
        RefType(
            "customers",
            "customers",
            "/v2/accounting/customers",
            (Customer,),
            read_customer,
            (Link(Customer, "parent", "parent_remote_id", Customer),),
        ),
        RefType(
            "vendors",
            "vendors",
            "/v2/accounting/vendors",
            (Vendor,),
            read_vendor,
            (Link(Vendor, "parent", "parent_remote_id", Vendor),),
        ),
        # After the parties: each document points at its customer or vendor.
        RefType(
            "invoices",
            "open invoices",
            "/v2/accounting/invoices",
            (OpenInvoice,),
            read_open_invoice,
            (Link(OpenInvoice, "customer", "party_remote_id", Customer),),
        ),
        RefType(
            "bills",
            "open bills",
            "/v2/accounting/bills",
            (OpenBill,),
            read_open_bill,
            (Link(OpenBill, "vendor", "party_remote_id", Vendor),),
        ),
        # Where the provider lists them; one that does not is "not offered".
        RefType(
            "invoiceCreditNotes",
            "open invoice credit notes",
            "/v2/accounting/invoices/creditNotes",
            (OpenInvoiceCreditNote,),
            read_open_invoice_credit_note,
            (Link(OpenInvoiceCreditNote, "customer", "party_remote_id", Customer),),
        ),
        RefType(
            "billCreditNotes",
            "open bill credit notes",
            "/v2/accounting/bills/creditNotes",
            (OpenBillCreditNote,),
            read_open_bill_credit_note,
            (Link(OpenBillCreditNote, "vendor", "party_remote_id", Vendor),),
        ),
    )
}


def ref_type_get(data_type: str) -> RefType:
    try:
        return REF_TYPES[data_type]
    except KeyError:
        raise ValueError(f"type must be one of {', '.join(REF_TYPES)}; got {data_type!r}") from None
