"""What invoice payments and bill payments share: their fields, their rules, and how a
payment waits for a document still on its way to the accounting system.

A line applies its amount to one row of the mirror, named by one of the line's link fields
(`Kind.LINK`, all sent as Railz `lines[].links[]`): a document it pays (`document`, an invoice
or a bill), or a credit note whose credit it applies (`credit_note`, link type `creditNote`).
Credit notes work as the providers apply them (QuickBooks applies credit memos in a
ReceivePayment or BillPayment, Xero allocates a credit note against an invoice): the credit
applied pays the documents alongside the money, so the payment's total is the amounts paid on
documents less the credit applied, and the credit note's remaining credit drops by the amount
applied. Paying an invoice of 100 with a credit note of 30: a line of 100 on the invoice, a
line of 30 on the credit note, a total of 70.

Rules the Railz schema cannot say, each a problem at its field:
- an amount applied above the document's amount due, or the credit note's remaining credit
  (less what other payments on their way already take: `allocation_within_amount_due`);
- a document or credit note of another party or currency (another connection is refused by
  the generic reference check);
- a line that names neither a document nor a credit note, or both;
- a total that is not the amounts paid less the credit applied;
- a document that is not in the accounting system and not on its way there.

This module reads the push history through the app registry, not an import: the models
package imports the types, so a type importing it back would be a cycle.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
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


# The line's link fields, in the order a line is read: what it pays, then credit it applies.
# Both go to `links`; a line fills exactly one (`applies_to_one`).
DOCUMENT, CREDIT_NOTE = "document", "credit_note"
LINKS = (DOCUMENT, CREDIT_NOTE)


def _link_fields(noun: str) -> tuple[Field, Field]:
    return (
        Field(DOCUMENT, "links", noun, Kind.LINK),
        Field(CREDIT_NOTE, "links", "credit note", Kind.LINK),
    )


def linked(line: Any) -> list[tuple[str, Any]]:
    """(link field, row) of each mirrored row a line names: its values or a stored line."""
    get = line.get if isinstance(line, dict) else (lambda name: getattr(line, name, None))
    return [(name, get(name)) for name in LINKS if get(name) is not None]


def _name(row: Any) -> str:
    return row.name or row.remote_id


def _noun(checked: Any, name: str) -> str:
    return checked.spec.field_at_name(name, line=True).label


def bank_account(checked: Any) -> None:
    account = checked.values.get("account")
    if account is not None and not account.is_bank_account:
        checked.need(
            "accountRef",
            "bankAccount",
            f"{account} is not a bank account; choose the bank account the money moved through.",
        )


def applies_to_one(checked: Any, line: dict[str, Any], index: int) -> None:
    names = [name for name, _row in linked(line)]
    document = _noun(checked, DOCUMENT)
    if not names:
        checked.need(
            f"lines[{index}].links",
            "required",
            f"Line {index + 1}: choose the {document} it pays or the credit note it applies.",
        )
    elif len(names) > 1:
        checked.refuse(
            f"lines[{index}].links",
            "oneLink",
            f"Line {index + 1}: it names both {a_or_an(document)} and a credit note; put each "
            "on a line of its own.",
        )


def a_or_an(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def total_equals_allocations(checked: Any) -> None:
    """The total is what the lines pay on documents less the credit they apply. A line whose
    amount is not a number is left to its own problem."""
    total = checked.values.get("total_amount")
    lines = checked.lines
    if total is None or not lines or any(line.get("amount") is None for line in lines):
        return
    paid = sum((ln["amount"] for ln in lines if ln.get(CREDIT_NOTE) is None), Decimal(0))
    credit = sum((ln["amount"] for ln in lines if ln.get(CREDIT_NOTE) is not None), Decimal(0))
    applied = paid - credit
    if applied != total:
        less = f" less {credit:,.2f} of credit" if credit else ""
        checked.need(
            "totalAmount",
            "allocationsTotal",
            f"Total amount {total:,.2f} is not the sum of the amounts applied ({paid:,.2f}"
            f"{less} = {applied:,.2f}); make them equal.",
        )


def document_of_the_party(checked: Any, line: dict[str, Any], index: int) -> None:
    who = checked.values.get(checked.spec.party)
    for _field, row in linked(line):
        if who is None or row.connection_id != checked.connection.pk:
            continue
        if row.party_remote_id and row.party_remote_id != who.remote_id:
            checked.refuse(
                f"lines[{index}].links",
                "sameParty",
                f"Line {index + 1}: {_name(row)} is not {who}'s; apply the payment only to "
                f"this {checked.spec.party}'s documents and credit notes.",
            )


def document_in_the_payment_currency(checked: Any, line: dict[str, Any], index: int) -> None:
    currency = checked.values.get("currency")
    for _field, row in linked(line):
        if not currency or not row.currency or row.currency.upper() == currency:
            continue
        checked.need(
            f"lines[{index}].links",
            "sameCurrency",
            f"Line {index + 1}: {_name(row)} is in {row.currency.upper()}, the payment in "
            f"{currency}; apply it only to {currency} documents and credit notes.",
        )


def document_in_the_accounting_system(checked: Any, line: dict[str, Any], index: int) -> None:
    for _field, row in linked(line):
        if row.document_status == "notPushed":
            checked.need(
                f"lines[{index}].links",
                "notInAccountingSystem",
                f"Line {index + 1}: {row.name or 'the document'} is not in the accounting "
                "system and not on its way: its push failed or was cancelled. Push it first.",
            )


@cache
def links_to(document_model: Any) -> tuple[tuple[Any, str], ...]:
    """(line model, link field) of every payment line field that names a `document_model` row."""
    return tuple(
        (model, name)
        for model in apps.get_app_config("pushes").get_models()
        for name in LINKS
        if _related(model, name) is document_model
    )


def _related(model: Any, name: str) -> Any:
    try:
        return model._meta.get_field(name).related_model
    except FieldDoesNotExist:
        return None


def taken_by_others(document: Any, *, record: Any) -> Decimal:
    """What payments still on their way (not yet reflected in the amount due or remaining
    credit) apply to `document`, this payment's own lines excepted."""
    push_model = apps.get_model("pushes", "PushRequest")
    taken = Decimal(0)
    for model, name in links_to(type(document)):
        payment_model = model._meta.get_field("payment").related_model
        flying = push_model.objects.filter(
            content_type__app_label="pushes",
            content_type__model=payment_model._meta.model_name,
            state__in=_IN_FLIGHT,
            operation="create",
        ).values("object_id")
        lines = model.objects.filter(**{name: document}, payment_id__in=flying)
        if record is not None and record.pk and payment_model is type(record):
            lines = lines.exclude(payment_id=record.pk)
        taken += lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return taken


def applied_in(body: dict[str, Any]) -> dict[tuple[str, str], Decimal]:
    """What a push body's lines apply, by (link type, id in the accounting system)."""
    applied: dict[tuple[str, str], Decimal] = {}
    for line in (body.get("data") or {}).get("lines") or []:
        try:
            amount = Decimal(str(line.get("amount") or 0))
        except (InvalidOperation, AttributeError):
            continue
        for link in line.get("links") or []:
            key = (str(link.get("type", "")), str(link.get("id", "")))
            applied[key] = applied.get(key, Decimal(0)) + amount
    return applied


def applied_before(record: Any, *, before: int | None = None) -> dict[tuple[str, str], Decimal]:
    """What the accounting system holds of this payment: what its last successful create or
    update (before push `before`) applied; {} if it is not there."""
    if record is None or not record.pk:
        return {}
    pushes = apps.get_model("pushes", "PushRequest").objects.for_record(record)
    pushes = pushes.filter(state="success", operation__in=("create", "update"))
    if before is not None:
        pushes = pushes.filter(pk__lt=before)
    last = pushes.order_by("-pk").only("body").first()
    return applied_in(last.body) if last is not None else {}


def over_what_is_open(row: Any, amount: Decimal, available: Decimal) -> str:
    """`amount` set against what is still open on `row`: due on a document, credit remaining
    on a credit note."""
    what = "credit remaining on" if row.link_type == "creditNote" else "still due on"
    return f"{amount:,.2f} is more than the {max(available, 0):,.2f} {what} {_name(row)}"


def allocation_within_amount_due(checked: Any, line: dict[str, Any], index: int) -> None:
    """An update of a payment in the accounting system may apply again what it applies there
    (already taken off the mirrored amount due)."""
    amount = line.get("amount")
    for _field, row in linked(line):
        if amount is None or row.amount_due is None:
            continue
        own = applied_before(checked.record).get((row.link_type, row.remote_id), Decimal(0))
        available = row.amount_due + own - taken_by_others(row, record=checked.record)
        if amount > available:
            checked.need(
                f"lines[{index}].amount",
                "amountDue",
                f"Line {index + 1}: {over_what_is_open(row, amount, available)}; apply at most "
                "that.",
            )


def waiting_for(record: Any) -> str:
    """The sentence a payment's push says while a document it pays is still being pushed."""
    names = [
        row.name or "a document"
        for line in record.lines.select_related(*LINKS)
        for _field, row in linked(line)
        if row.remote_id.startswith(ON_ITS_WAY_PREFIX)
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
        line_fields=field_list(*_link_fields(document_noun), AMOUNT, ALLOCATED_ON),
        rules=(bank_account,),
        line_rules=(
            applies_to_one,
            document_of_the_party,
            document_in_the_payment_currency,
            document_in_the_accounting_system,
            allocation_within_amount_due,
        ),
        lines_rules=(total_equals_allocations,),
        totals=False,
        script="pushes/payment_allocations.js",
        waiting_for=waiting_for,
        bodies=bodies,
    )
