"""The fields Railz's documents (invoices, bills, credit notes) share, declared once.

A type's declaration lists these beside its own fields; what differs between types (who the
document is with, its number, a line's billable status) stays in the type's folder.
"""

from __future__ import annotations

from pushes.spec import Field, Kind, field_list

__all__ = [
    "BILLABLE_STATUS",
    "CURRENCY",
    "CURRENCY_RATE",
    "DUE_DATE",
    "LINE_FIELDS",
    "MEMO",
    "POSTED_DATE",
    "SUBSIDIARIES",
    "header",
    "party",
]

POSTED_DATE = Field("posted_date", "postedDate", "Posted date", Kind.DATE)
DUE_DATE = Field("due_date", "dueDate", "Due date", Kind.DATE)
CURRENCY = Field("currency", "currency", "Currency", Kind.CURRENCY)
CURRENCY_RATE = Field("currency_rate", "currencyRate", "Currency rate", Kind.DECIMAL, positive=True)
MEMO = Field("memo", "memo", "Memo")
# Subsidiaries are an entity of the multi-entity systems; Xero or QuickBooks Online have one
# company per connection and nothing to choose.
SUBSIDIARIES = Field(
    "subsidiaries",
    "subsidiaryRefs",
    "Subsidiary",
    Kind.REFS,
    providers=("oracleNetsuite", "sageIntacct", "dynamicsBusinessCentral"),
)

# A line's amounts and bookings: quantity and unit amount make it worth pushing.
DESCRIPTION = Field("description", "description", "description")
QUANTITY = Field("quantity", "quantity", "quantity", Kind.DECIMAL, ready=True, positive=True)
UNIT_AMOUNT = Field("unit_amount", "unitAmount", "unit amount", Kind.DECIMAL, ready=True)
DISCOUNT = Field("discount_percentage", "discountPercentage", "discount", Kind.DECIMAL)
ACCOUNT = Field("account", "accountRef", "account", Kind.REF)
ITEM = Field("item", "inventoryRef", "item", Kind.REF)
TAX_RATE = Field("tax_rate", "taxRateRef", "tax rate", Kind.REF)
TRACKING = Field("tracking_options", "trackingCategoryRefs", "tracking option", Kind.TRACKING)

LINE_FIELDS = (DESCRIPTION, QUANTITY, UNIT_AMOUNT, DISCOUNT, ACCOUNT, ITEM, TAX_RATE, TRACKING)
BILLABLE_STATUS = Field("billable_status", "billableStatus", "billable status", Kind.CHOICE)


def party(name: str, *, required_message: str) -> Field:
    """Who the document is with ("customer", "vendor"): required for a ready document."""
    return Field(
        name,
        f"{name}Ref",
        name.capitalize(),
        Kind.REF,
        ready=True,
        required_message=required_message,
    )


def header(who: Field, number: Field, *, due_date: bool) -> tuple[Field, ...]:
    """A document's own fields: who, its number, its dates, currency, memo, subsidiaries."""
    dates = (POSTED_DATE, DUE_DATE) if due_date else (POSTED_DATE,)
    return field_list(who, number, *dates, CURRENCY, CURRENCY_RATE, MEMO, SUBSIDIARIES)
