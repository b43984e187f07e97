"""Invoice payments (Railz `PushInvoicePaymentV2`): money received, applied to invoices."""

from __future__ import annotations

from typing import Any

from pushes.types.payment_spec import payment_spec
from railzpush.railz.datatypes import INVOICE_PAYMENT_UPDATE

# UpdateInvoicePayment takes fewer payment methods than the create body.
_UPDATE_METHODS = INVOICE_PAYMENT_UPDATE.fields["paymentMethod"].enum


def update_body(data: dict[str, Any]) -> dict[str, Any]:
    """The update body: a payment method the update does not know goes as `other`."""
    method = data.get("paymentMethod")
    if method and method not in _UPDATE_METHODS:
        return {**data, "paymentMethod": "other"}
    return data


SPEC = payment_spec(
    data_type="invoicePayments",
    model="pushes.InvoicePayment",
    line_model="pushes.InvoicePaymentLine",
    who="customer",
    document_noun="invoice",
    required_message="Customer is required: choose who paid.",
    bodies=(("update", update_body),),
)
