"""What invoice payments and bill payments share: their fields, their rules, and how a
payment waits for a document still on its way to the accounting system.

Rules the Railz schema cannot say, each a problem at its field:
- an amount applied above the document's amount due (less what other payments on their way
  already take: `allocation_within_amount_due`);
- a document of another party or currency (another connection is refused by the generic
  reference check);
- a total that is not the sum of the amounts applied;
- a document that is not in the accounting system and not on its way there.

This module reads the push history through the app registry, not an import: the models
package imports the types, so a type importing it back would be a cycle.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Sum

from pushes.spec import DocumentSpec, Field, Kind, field_list
from pushes.spec.documents import CURRENCY, CURRENCY_RATE, MEMO, party

__all__ = ["payment_spec"]

# A document composed here whose push is queued or under way is in the mirror under this id
# until the accounting system gives it its own (pushes.services.open_documents).
ON_ITS_WAY_PREFIX = "railzpush:"

ACCOUNT = Field(
    "account",
    "accountRef",
    "Bank account",
    Kind.REF,
    ready=True,
    required_message="Bank account is required: choose where the money went in or came out.",
)
DATE = Field("date", "date", "Payment date", Kind.DATE, ready=True)
TOTAL = Field(
    "total_amount", "totalAmount", "Total amount", Kind.DECIMAL, ready=True, positive=True
)
METHOD = Field("payment_method", "paymentMethod", "Payment method", Kind.CHOICE)
AMOUNT = Field("amount", "amount", "amount", Kind.DECIMAL, ready=True, positive=True)
ALLOCATED_ON = Field("allocated_on_date", "allocatedOnDate", "allocated on", Kind.DATE)

_IN_FLIGHT = ("queued", "submitting", "pending", "unknown")


def _document_field(noun: str) -> Field:
    return Field("document", "links", noun, Kind.LINK, ready=True)


def bank_account(checked: Any) -> None:
    account = checked.values.get("account")
    if account is not None and not account.is_bank_account:
        checked.need(
            "accountRef",
            "bankAccount",
            f"{account} is not a bank account; choose the bank account the money moved through.",
        )


def total_equals_allocations(checked: Any) -> None:
    # Record rules run before the lines are checked: the amounts are read as given, and a
    # line whose amount is not a number is left to its own problem.
    total = checked.values.get("total_amount")
    try:
        amounts = [Decimal(str(line.amount).strip()) for line in checked.data.lines]
    except (InvalidOperation, ValueError):
        return
    if total is None or not amounts or not all(a.is_finite() for a in amounts):
        return
    applied = sum(amounts, Decimal(0))
    if applied != total:
        checked.need(
            "totalAmount",
            "allocationsTotal",
            f"Total amount {total:,.2f} is not the sum of the amounts applied ({applied:,.2f}); "
            "make them equal.",
        )


def document_of_the_party(checked: Any, line: dict[str, Any], index: int) -> None:
    document = line.get("document")
    who = checked.values.get(checked.spec.party)
    if document is None or who is None or document.connection_id != checked.connection.pk:
        return
    if document.party_remote_id and document.party_remote_id != who.remote_id:
        checked.refuse(
            f"lines[{index}].links",
            "sameParty",
            f"Line {index + 1}: {document.name or document.remote_id} is not {who}'s; apply "
            f"the payment only to this {checked.spec.party}'s documents.",
        )


def document_in_the_payment_currency(checked: Any, line: dict[str, Any], index: int) -> None:
    document = line.get("document")
    currency = checked.values.get("currency")
    if document is None or not currency or not document.currency:
        return
    if document.currency.upper() != currency:
        checked.need(
            f"lines[{index}].links",
            "sameCurrency",
            f"Line {index + 1}: {document.name or document.remote_id} is in "
            f"{document.currency.upper()}, the payment in {currency}; apply it only to "
            f"{currency} documents.",
        )


def document_in_the_accounting_system(checked: Any, line: dict[str, Any], index: int) -> None:
    document = line.get("document")
    if document is None:
        return
    if document.document_status == "notPushed":
        checked.need(
            f"lines[{index}].links",
            "notInAccountingSystem",
            f"Line {index + 1}: {document.name or 'the document'} is not in the accounting "
            "system and not on its way: its push failed or was cancelled. Push it first.",
        )


def taken_by_others(document: Any, *, record: Any) -> Decimal:
    """What payments still on their way (not yet reflected in the amount due) apply to
    `document`, this payment's own lines excepted."""
    push_model = apps.get_model("pushes", "PushRequest")
    line_models = [
        m for m in apps.get_app_config("pushes").get_models() if _applies_to(m, type(document))
    ]
    taken = Decimal(0)
    for model in line_models:
        payment_model = model._meta.get_field("payment").related_model
        flying = push_model.objects.filter(
            content_type__app_label="pushes",
            content_type__model=payment_model._meta.model_name,
            state__in=_IN_FLIGHT,
            operation="create",
        ).values("object_id")
        lines = model.objects.filter(document=document, payment_id__in=flying)
        if record is not None and record.pk and payment_model is type(record):
            lines = lines.exclude(payment_id=record.pk)
        taken += lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return taken


def _applies_to(model: Any, document_model: Any) -> bool:
    try:
        return model._meta.get_field("document").related_model is document_model
    except FieldDoesNotExist:
        return False


def allocation_within_amount_due(checked: Any, line: dict[str, Any], index: int) -> None:
    document, amount = line.get("document"), line.get("amount")
    if document is None or amount is None or document.amount_due is None:
        return
    available = document.amount_due - taken_by_others(document, record=checked.record)
    if amount > available:
        name = document.name or document.remote_id
        checked.need(
            f"lines[{index}].amount",
            "amountDue",
            f"Line {index + 1}: {amount:,.2f} is more than the {max(available, 0):,.2f} still "
            f"due on {name}; apply at most that.",
        )


def waiting_for(record: Any) -> str:
    """The sentence a payment's push says while a document it pays is still being pushed."""
    names = [
        line.document.name or "a document"
        for line in record.lines.select_related("document")
        if line.document is not None and line.document.remote_id.startswith(ON_ITS_WAY_PREFIX)
    ]
    if not names:
        return ""
    return (
        f"It waits for {', '.join(names)} to reach the accounting system, and is sent once "
        "the accounting system has given it its id."
    )


def payment_spec(
    *,
    data_type: str,
    model: str,
    line_model: str,
    who: str,
    document_noun: str,
    required_message: str,
    bodies: tuple = (),
) -> DocumentSpec:
    return DocumentSpec(
        data_type=data_type,
        model=model,
        line_model=line_model,
        party=who,
        fields=field_list(
            party(who, required_message=required_message),
            ACCOUNT,
            DATE,
            CURRENCY,
            CURRENCY_RATE,
            TOTAL,
            METHOD,
            MEMO,
        ),
        line_fields=field_list(_document_field(document_noun), AMOUNT, ALLOCATED_ON),
        rules=(bank_account, total_equals_allocations),
        line_rules=(
            document_of_the_party,
            document_in_the_payment_currency,
            document_in_the_accounting_system,
            allocation_within_amount_due,
        ),
        totals=False,
        script="pushes/payment_allocations.js",
        waiting_for=waiting_for,
        bodies=bodies,
    )
