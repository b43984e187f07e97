"""The Railz data types railzpush can push, and every write operation Railz has for them.

Written by hand from the Railz OpenAPI v2 spec (each operation's request DTO and its
``**Supported for:**`` list); ``tests/test_datatypes_match_spec.py`` holds it to the spec field
by field. The spec's ``required`` lists are provider-agnostic and minimal: per-provider rules
come only from ``pushOptions`` at run time, so they are not encoded here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from railzpush.railz.schema import (
    DATE,
    DATE_TIME,
    Array,
    Boolean,
    Number,
    Object,
    PassThrough,
    Problem,
    Ref,
    String,
    validate,
)

PROVIDERS: tuple[str, ...] = (
    "quickbooks",
    "xero",
    "freshbooks",
    "sageIntacct",
    "sageBusinessCloud",
    "oracleNetsuite",
    "dynamicsBusinessCentral",
    "wave",
    "zohoBooks",
    "quickbooksDesktop",
)
# How people name each provider in sentences ("not yet checked against Xero's rules").
PROVIDER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "xero": "Xero",
        "quickbooks": "QuickBooks Online",
        "oracleNetsuite": "Oracle NetSuite",
        "sageBusinessCloud": "Sage Business Cloud",
        "sageIntacct": "Sage Intacct",
        "freshbooks": "FreshBooks",
        "dynamicsBusinessCentral": "Dynamics 365 Business Central",
        "wave": "Wave",
        "zohoBooks": "Zoho Books",
        "quickbooksDesktop": "QuickBooks Desktop",
    }
)


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    BATCH_CREATE = "batch_create"
    BATCH_UPDATE = "batch_update"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class UnknownDataType(KeyError):
    """Raised for a dataType name the registry does not know."""

    def __str__(self) -> str:
        # KeyError would repr() the message, quotes included.
        return str(self.args[0])


class OperationNotSupported(LookupError):
    """Raised when Railz has no such write operation for a data type at all."""


def _supported_for(providers_list: str) -> frozenset[str]:
    # Written as the spec's "Supported for:" list reads, so the two are easy to compare.
    providers = providers_list.split()
    unknown = set(providers) - set(PROVIDERS)
    if unknown:
        raise ValueError(f"unknown providers: {', '.join(sorted(unknown))}")
    return frozenset(providers)


# What the envelope around `data` / `batch[]` must carry (all request DTOs share it).
_CONNECTION_UUID = String(required=True)


@dataclass(frozen=True)
class Operation:
    """One Railz write operation: where it goes, who supports it, and its `data` schema.

    ``data`` is the schema of the request's ``data`` object, or of each ``batch[]`` item;
    it is None for deletes, which have no body (``connectionUuid`` goes in the query).
    ``body`` is the whole request envelope, built once here rather than on every push.
    """

    op: Op
    method: str
    path: str
    providers: frozenset[str]
    data: Object | None = None
    body: Object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.data is None) != (self.op is Op.DELETE):
            raise ValueError(f"{self.method} {self.path}: only deletes go without a data schema")
        if self.op is Op.DELETE:
            body = Object({"connectionUuid": _CONNECTION_UUID})
        elif self.op in (Op.BATCH_CREATE, Op.BATCH_UPDATE):
            body = Object(
                {
                    "connectionUuid": _CONNECTION_UUID,
                    "batch": Array(self.data, required=True, min_items=1),
                }
            )
        else:
            body = Object({"connectionUuid": _CONNECTION_UUID, "data": self.data.as_required()})
        object.__setattr__(self, "body", body)


@dataclass(frozen=True)
class DataType:
    """A Railz dataType (``invoices``, ``billPayments``...) and its write operations."""

    name: str
    label: str  # "Invoice"
    label_plural: str  # "invoices", for sentences
    operations: Mapping[Op, Operation]
    read_path: str | None  # GET list path
    # The key a batch-update item names its target by, as a plain id string (`customerRef`);
    # "" for a type Railz does not take in batches.
    batch_target: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "operations", MappingProxyType(dict(self.operations)))
        if bool(self.batch_target) != (Op.BATCH_UPDATE in self.operations):
            raise ValueError(f"{self.name}: a batch update and its target key go together")

    @property
    def batchable(self) -> bool:
        """Whether Railz takes creates of this type in batches (`POST .../batch`); which
        providers it does so for is `supports(Op.BATCH_CREATE, service_name)`."""
        return Op.BATCH_CREATE in self.operations

    def operation(self, op: Op | str) -> Operation:
        """The operation, or OperationNotSupported naming what Railz lacks."""
        operation = self.operations.get(op)  # StrEnum: "create" finds Op.CREATE
        if operation is None:
            try:
                label = Op(op).label
            except ValueError:
                label = f"operation {op!r}"
            raise OperationNotSupported(f"Railz has no {label} for {self.label_plural}")
        return operation

    def supports(self, op: Op | str, service_name: str) -> bool:
        """Whether Railz can do ``op`` on this data type for a connection to ``service_name``."""
        operation = self.operations.get(op)
        return operation is not None and service_name in operation.providers


def _by_op(*operations: Operation) -> dict[Op, Operation]:
    return {o.op: o for o in operations}


# ---------------------------------------------------------------------------------------------
# Pieces the spec shares between data types.

TRACKING_CATEGORY_TYPES = ("class", "department", "location", "unknown")
PAYMENT_METHOD_TYPES = (
    "unknown",
    "cash",
    "check",
    "creditCard",
    "debitCard",
    "bankTransfer",
    "giftCard",
    "other",
)
BILLABLE_STATUSES = ("billable", "notBillable", "hasBeenBilled")

# Numbers in the spec are `number` (format float); dates are YYYY-MM-DD.
AMOUNT = Number()
DATE_STRING = String(format=DATE)
MEMO = String(max_length=4000)
DESCRIPTION = String(max_length=4000)
PASS_THROUGH = PassThrough()

SUBSIDIARY_REFS = Array(Ref())
# PushInvoiceTrackingCategoryRef, BillTrackingCategoryRefDto, CreditNoteTrackingCategoryRefDto:
# the same shape under three names.
TRACKING_CATEGORY_REFS = Array(Ref(extra={"type": String(enum=TRACKING_CATEGORY_TYPES)}))
# PaymentMethodRefDto is the one push ref whose id is optional.
PAYMENT_METHOD_REF = Object(
    {"id": String(), "name": String(), "type": String(enum=PAYMENT_METHOD_TYPES)}
)

# BillingAddressDto and ShippingAddressDto are identical.
ADDRESS = Object(
    {
        "line1": String(max_length=500),
        "line2": String(max_length=500),
        "city": String(max_length=255),
        "region": String(max_length=255),
        "country": String(),  # ISO alpha-3, but the spec does not constrain it
        "postalCode": String(max_length=30),
    }
)
# PushCustomerVendorContactV2: a contact's address has a type and no length limits.
CONTACT = Object(
    {
        "name": String(),
        "email": String(),
        "phone": String(),
        "address": Object(
            {
                "line1": String(),
                "line2": String(),
                "city": String(),
                "region": String(),
                "country": String(),
                "postalCode": String(),
                "type": String(enum=("billing", "shipping", "other")),
            }
        ),
    }
)

# ---------------------------------------------------------------------------------------------
# invoices

INVOICE_LINE = Object(  # InvoiceLineItemV2
    {
        "description": DESCRIPTION,
        "quantity": Number(),
        "id": String(),
        "discountPercentage": Number(),
        "discountAmount": AMOUNT,
        "taxRateRef": Ref(),
        "accountRef": Ref(),
        "inventoryRef": Ref(),
        "trackingCategoryRefs": TRACKING_CATEGORY_REFS,
        "unitAmount": AMOUNT,
    }
)

INVOICE = Object(  # PushInvoiceV2
    {
        "passThrough": PASS_THROUGH,
        "invoiceNumber": String(max_length=21),
        "postedDate": DATE_STRING,
        "dueDate": DATE_STRING,
        "currency": String(),
        "currencyRate": Number(),
        "memo": MEMO,
        "customerRef": Ref(required=True),
        "lines": Array(INVOICE_LINE, required=True),
        "subsidiaryRefs": SUBSIDIARY_REFS,
    }
)
# UpdateInvoiceV2: the spec drops the 21-character limit on update; we follow the spec.
INVOICE_UPDATE = INVOICE.extended({"invoiceNumber": String()})

INVOICES = DataType(
    name="invoices",
    label="Invoice",
    label_plural="invoices",
    read_path="/v2/accounting/invoices",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/invoices",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral wave zohoBooks"
            ),
            data=INVOICE,
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/invoices/{id}",
            providers=_supported_for("quickbooks xero freshbooks oracleNetsuite"),
            data=INVOICE_UPDATE,
        ),
        Operation(
            op=Op.DELETE,
            method="DELETE",
            path="/v2/accounting/invoices/{id}",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud"
                " dynamicsBusinessCentral wave"
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# bills

BILL_LINE = Object(  # PushBillLineItemV2 (UpdateBillLineItemV2 has the same fields)
    {
        "id": String(),
        "accountRef": Ref(),
        "trackingCategoryRefs": TRACKING_CATEGORY_REFS,
        "taxRateRef": Ref(),
        "description": DESCRIPTION,
        # Unlike invoice lines, a bill line must say how many and at what price.
        "unitAmount": Number(required=True),
        "quantity": Number(required=True),
        "customerRef": Ref(),
        "billableStatus": String(enum=BILLABLE_STATUSES),
        "discountPercentage": Number(),
        "inventoryRef": Ref(),
        "taxAmount": AMOUNT,
    }
)

BILL = Object(  # PushBillV2 and UpdateBillsV2
    {
        "vendorInvoiceNumber": String(max_length=21),
        "postedDate": DATE_STRING,
        "dueDate": DATE_STRING,
        "currencyRate": Number(),
        "memo": MEMO,
        "vendorRef": Ref(required=True),
        "currency": String(),
        "subsidiaryRefs": SUBSIDIARY_REFS,
        "lines": Array(BILL_LINE, required=True),
        "purchaseOrderRefs": Array(Ref()),
        "passThrough": PASS_THROUGH,
    }
)

BILLS = DataType(
    name="bills",
    label="Bill",
    label_plural="bills",
    read_path="/v2/accounting/bills",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/bills",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=BILL,
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/bills/{id}",
            providers=_supported_for(
                "quickbooks xero sageIntacct sageBusinessCloud oracleNetsuite"
            ),
            data=BILL,
        ),
        Operation(
            op=Op.DELETE,
            method="DELETE",
            path="/v2/accounting/bills/{id}",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud dynamicsBusinessCentral"
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# invoicePayments: money received against invoices, allocated through lines[].links[].

INVOICE_PAYMENT_LINE = Object(  # PushInvoicePaymentLineV2 (UpdateInvoicePaymentLineV2 alike)
    {
        "amount": AMOUNT,
        "links": Array(  # InvoicePaymentLinkDto
            Object(
                {
                    "type": String(
                        enum=("invoice", "payment", "paymentOnAccount", "creditNote", "refund")
                    ),
                    "id": String(required=True),
                }
            )
        ),
        "allocatedOnDate": DATE_STRING,
    }
)

INVOICE_PAYMENT = Object(  # PushInvoicePaymentV2
    {
        "passThrough": PASS_THROUGH,
        "accountRef": Ref(),
        "customerRef": Ref(),
        "currency": String(),
        "totalAmount": AMOUNT,
        "currencyRate": Number(),
        "paymentMethod": String(enum=PAYMENT_METHOD_TYPES),  # deprecated for paymentMethodRef
        "paymentMethodRef": PAYMENT_METHOD_REF,
        "lines": Array(INVOICE_PAYMENT_LINE),
        "date": DATE_STRING,
        "subsidiaryRefs": SUBSIDIARY_REFS,
        "memo": MEMO,
    }
)
# UpdateInvoicePayment: no paymentMethodRef, and the old paymentMethod with fewer values.
INVOICE_PAYMENT_UPDATE = INVOICE_PAYMENT.without("paymentMethodRef").extended(
    {"paymentMethod": String(enum=("check", "creditCard", "cash", "other"))}
)

INVOICE_PAYMENTS = DataType(
    name="invoicePayments",
    label="Invoice payment",
    label_plural="invoice payments",
    read_path="/v2/accounting/invoices/payments",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/invoices/payments",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=INVOICE_PAYMENT,
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/invoices/payments/{id}",
            providers=_supported_for("quickbooks freshbooks oracleNetsuite"),
            data=INVOICE_PAYMENT_UPDATE,
        ),
        Operation(
            op=Op.DELETE,
            method="DELETE",
            path="/v2/accounting/invoices/payments/{id}",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct dynamicsBusinessCentral"
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# billPayments: money paid against bills, allocated through lines[].links[].

BILL_PAYMENT = Object(  # PushBillPaymentV2 and UpdateBillPaymentV2
    {
        "currencyRate": Number(),
        "memo": MEMO,
        "date": DATE_STRING,
        "totalAmount": AMOUNT,
        "vendorRef": Ref(),
        "accountRef": Ref(),
        "currency": String(),
        "lines": Array(  # BillPaymentLineV2
            Object(
                {
                    "amount": AMOUNT,
                    "links": Array(  # LinkRefDto
                        Ref(
                            extra={
                                "type": String(
                                    enum=(
                                        "bill",
                                        "other",
                                        "creditNote",
                                        "billPayment",
                                        "paymentOnAccount",
                                        "refund",
                                    )
                                )
                            }
                        )
                    ),
                    "allocatedOnDate": DATE_STRING,
                }
            )
        ),
        "subsidiaryRefs": SUBSIDIARY_REFS,
        "paymentMethod": String(enum=PAYMENT_METHOD_TYPES),  # deprecated for paymentMethodRef
        "paymentMethodRef": PAYMENT_METHOD_REF,
        "passThrough": PASS_THROUGH,
    }
)

BILL_PAYMENTS = DataType(
    name="billPayments",
    label="Bill payment",
    label_plural="bill payments",
    read_path="/v2/accounting/bills/payments",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/bills/payments",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=BILL_PAYMENT,
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/bills/payments/{id}",
            providers=_supported_for("quickbooks freshbooks oracleNetsuite"),
            data=BILL_PAYMENT,
        ),
        Operation(
            op=Op.DELETE,
            method="DELETE",
            path="/v2/accounting/bills/payments/{id}",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct dynamicsBusinessCentral"
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# Credit notes: create only, Railz has no update or delete for them.

INVOICE_CREDIT_NOTE = Object(  # PushInvoiceCreditNoteV2
    {
        "passThrough": PASS_THROUGH,
        "currencyRate": Number(),
        "postedDate": DATE_STRING,
        "allocatedOnDate": DATE_STRING,
        "memo": MEMO,
        "customerRef": Ref(required=True),
        "currency": String(),
        "lines": Array(  # InvoiceCreditNoteLineV2
            Object(
                {
                    "description": DESCRIPTION,
                    "discountPercentage": Number(),
                    "taxRateRef": Ref(),
                    "accountRef": Ref(),
                    "inventoryRef": Ref(),
                    "trackingCategoryRefs": TRACKING_CATEGORY_REFS,
                    "quantity": Number(),
                    "unitAmount": AMOUNT,
                    "taxAmount": AMOUNT,
                }
            ),
            required=True,
        ),
        "subsidiaryRefs": SUBSIDIARY_REFS,
        "invoiceCreditNoteNumber": String(),
    }
)

INVOICE_CREDIT_NOTES = DataType(
    name="invoiceCreditNotes",
    label="Invoice credit note",
    label_plural="invoice credit notes",
    read_path="/v2/accounting/invoices/creditNotes",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/invoices/creditNotes",
            providers=_supported_for(
                "quickbooks xero freshbooks sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=INVOICE_CREDIT_NOTE,
        ),
    ),
)

BILL_CREDIT_NOTE = Object(  # PushBillCreditNoteV2
    {
        "currencyRate": Number(),
        "postedDate": DATE_STRING,
        "allocatedOnDate": DATE_STRING,
        "memo": MEMO,
        "vendorRef": Ref(required=True),
        "currency": String(),
        "lines": Array(  # BillCreditNoteLineItemV2
            Object(
                {
                    "description": DESCRIPTION,
                    "unitAmount": Number(required=True),
                    "quantity": Number(required=True),
                    "billableStatus": String(enum=BILLABLE_STATUSES),
                    "id": String(),
                    "discountPercentage": Number(),
                    "taxRateRef": Ref(),
                    "accountRef": Ref(),
                    "trackingCategoryRefs": TRACKING_CATEGORY_REFS,
                    "inventoryRef": Ref(),
                    "taxAmount": AMOUNT,
                }
            ),
            required=True,
            min_items=1,  # the only lines array the spec insists is non-empty
        ),
        "subsidiaryRefs": SUBSIDIARY_REFS,
        "passThrough": PASS_THROUGH,
        "billCreditNoteNumber": String(),
    }
)

BILL_CREDIT_NOTES = DataType(
    name="billCreditNotes",
    label="Bill credit note",
    label_plural="bill credit notes",
    read_path="/v2/accounting/bills/creditNotes",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/bills/creditNotes",
            providers=_supported_for("quickbooks xero sageBusinessCloud oracleNetsuite zohoBooks"),
            data=BILL_CREDIT_NOTE,
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# journalEntries

JOURNAL_ENTRY_LINE = Object(  # JournalEntryLineItemsV2 (PushUpdateJournalEntryLineItemsV2 alike)
    {
        "description": DESCRIPTION,
        "accountRef": Ref(required=True),
        "trackingCategoryRefs": TRACKING_CATEGORY_REFS,
        "entityRef": Ref(extra={"type": String(enum=("customer", "vendor"))}),
        "taxRateRef": Ref(),
        "debit": AMOUNT,
        "credit": AMOUNT,
        "id": String(),
    }
)

JOURNAL_ENTRY = Object(  # PushJournalEntriesV2
    {
        "currencyRate": Number(),
        "postedDate": DATE_STRING,
        "memo": MEMO,
        "currency": String(),
        "subsidiaryRefs": SUBSIDIARY_REFS,
        "journalRef": Ref(),
        "createdDate": String(format=DATE_TIME),
        "journalNumber": String(),
        "lines": Array(JOURNAL_ENTRY_LINE, required=True),
        "passThrough": PASS_THROUGH,
    }
)
# PushUpdateJournalEntriesV2: an update may leave the lines as they are.
JOURNAL_ENTRY_UPDATE = JOURNAL_ENTRY.extended({"lines": Array(JOURNAL_ENTRY_LINE)})

JOURNAL_ENTRIES = DataType(
    name="journalEntries",
    label="Journal entry",
    label_plural="journal entries",
    read_path="/v2/accounting/journalEntries",
    batch_target="journalEntryRef",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/journalEntries",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=JOURNAL_ENTRY,
        ),
        Operation(
            op=Op.BATCH_CREATE,
            method="POST",
            path="/v2/accounting/journalEntries/batch",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=JOURNAL_ENTRY,
        ),
        Operation(
            op=Op.BATCH_UPDATE,
            method="PUT",
            path="/v2/accounting/journalEntries/batch",
            providers=_supported_for("quickbooks xero sageIntacct oracleNetsuite zohoBooks"),
            # BatchPushUpdateJournalEntries: the target id is a plain string, not a {id} ref.
            data=JOURNAL_ENTRY_UPDATE.extended({"journalEntryRef": String(required=True)}),
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/journalEntries/{id}",
            providers=_supported_for("quickbooks xero sageIntacct oracleNetsuite zohoBooks"),
            data=JOURNAL_ENTRY_UPDATE,
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# customers and vendors: the spec requires none of their fields.

# The fields PushCustomerV2 and PushVendorV2 share.
_CONTACT_DETAILS = {
    "contactFirstName": String(max_length=100),
    "contactLastName": String(max_length=100),
    "emailAddress": String(max_length=100),
    "phone": String(max_length=30),
    # The spec says format "uri" but its own example is "www.acme.com"; only the length is held.
    "website": String(max_length=100),
    "isPerson": Boolean(),
    "taxNumber": String(),
    "parentRef": Ref(),
    "billingAddress": ADDRESS,
    "shippingAddress": ADDRESS,
    "currency": String(),
    "subsidiaryRefs": SUBSIDIARY_REFS,
    "contacts": Array(CONTACT),
    "passThrough": PASS_THROUGH,
    "paymentMethodRef": PAYMENT_METHOD_REF,
}

CUSTOMER = Object(  # PushCustomerV2 and PutCustomerV2
    {
        **_CONTACT_DETAILS,
        "customerName": String(max_length=500),
        "contactName": String(),
    }
)

CUSTOMERS = DataType(
    name="customers",
    label="Customer",
    label_plural="customers",
    read_path="/v2/accounting/customers",
    batch_target="customerRef",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/customers",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral wave zohoBooks"
            ),
            data=CUSTOMER,
        ),
        Operation(
            op=Op.BATCH_CREATE,
            method="POST",
            path="/v2/accounting/customers/batch",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral wave"
            ),
            data=CUSTOMER,
        ),
        Operation(
            op=Op.BATCH_UPDATE,
            method="PUT",
            path="/v2/accounting/customers/batch",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral wave"
            ),
            # BatchPutCustomer: the customer to update, as a plain id string.
            data=CUSTOMER.extended({"customerRef": String(required=True)}),
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/customers/{id}",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral wave zohoBooks"
            ),
            data=CUSTOMER,
        ),
    ),
)

VENDOR = Object(  # PushVendorV2
    {
        **_CONTACT_DETAILS,
        "vendorName": String(max_length=500),
        "contactName": String(max_length=500),
    }
)
# PutVendorV2 and BatchPutVendor: the spec drops contactName's limit on update.
VENDOR_UPDATE = VENDOR.extended({"contactName": String()})

VENDORS = DataType(
    name="vendors",
    label="Vendor",
    label_plural="vendors",
    read_path="/v2/accounting/vendors",
    batch_target="vendorRef",
    operations=_by_op(
        Operation(
            op=Op.CREATE,
            method="POST",
            path="/v2/accounting/vendors",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=VENDOR,
        ),
        Operation(
            op=Op.BATCH_CREATE,
            method="POST",
            path="/v2/accounting/vendors/batch",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral"
            ),
            data=VENDOR,
        ),
        Operation(
            op=Op.BATCH_UPDATE,
            method="PUT",
            path="/v2/accounting/vendors/batch",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral"
            ),
            # BatchPutVendor: the vendor to update, as a plain id string.
            data=VENDOR_UPDATE.extended({"vendorRef": String(required=True)}),
        ),
        Operation(
            op=Op.UPDATE,
            method="PUT",
            path="/v2/accounting/vendors/{id}",
            providers=_supported_for(
                "quickbooks xero freshbooks sageIntacct sageBusinessCloud oracleNetsuite"
                " dynamicsBusinessCentral zohoBooks"
            ),
            data=VENDOR_UPDATE,
        ),
    ),
)

DATA_TYPES: Mapping[str, DataType] = MappingProxyType(
    {
        dt.name: dt
        for dt in (
            INVOICES,
            BILLS,
            INVOICE_PAYMENTS,
            BILL_PAYMENTS,
            INVOICE_CREDIT_NOTES,
            BILL_CREDIT_NOTES,
            JOURNAL_ENTRIES,
            CUSTOMERS,
            VENDORS,
        )
    }
)


def data_type(name: str) -> DataType:
    """The registry entry for a Railz dataType name such as ``"invoices"``."""
    return _lookup(name)


def _lookup(name: str) -> DataType:
    # validate_request's `data_type` argument hides the public function of that name.
    try:
        return DATA_TYPES[name]
    except KeyError:
        known = ", ".join(DATA_TYPES)
        raise UnknownDataType(
            f"railzpush cannot push Railz data type {name!r} (known: {known})"
        ) from None


def validate_request(data_type: str, op: Op | str, body: object) -> list[Problem]:
    """Every problem of a whole request body (envelope included) for ``op`` on ``data_type``.

    Paths are rooted at the body, as Railz reports them: ``connectionUuid``,
    ``data.lines[0].quantity``, ``batch[3].customerRef``. For a delete, which has no body,
    pass the query parameters (``{"connectionUuid": ...}``).
    """
    operation = _lookup(data_type).operation(op)
    return validate(operation.body, body)


__all__ = [
    "DATA_TYPES",
    "PROVIDERS",
    "DataType",
    "Op",
    "Operation",
    "OperationNotSupported",
    "UnknownDataType",
    "data_type",
    "validate_request",
]
