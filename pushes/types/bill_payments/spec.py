"""Bill payments (Railz `PushBillPaymentV2`): money paid to a vendor, applied to bills."""

from __future__ import annotations

from pushes.types.payment_spec import payment_spec

SPEC = payment_spec(
    data_type="billPayments",
    model="pushes.BillPayment",
    line_model="pushes.BillPaymentLine",
    who="vendor",
    document_noun="bill",
    required_message="Vendor is required: choose who was paid.",
)
