"""Writing and checking invoices: the admin, the REST API and the tests all come through here.

Every rule lives in `invoice_validate`, which answers with `FieldProblem`s whose `field` is the
path in the Railz body (`invoiceNumber`, `lines[2].accountRef`). A draft may be incomplete, so
saving a draft refuses only what must never be stored (a reference from another connection, a
value longer or more precise than Railz or the database can hold); saving a ready invoice
refuses every problem, so only a ready invoice can be pushed.

The provider's own rules come from the connection's kept `pushOptions`
(`pushes.services.push_options` fetches them); validation reads that copy and never calls Railz.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from pushes.models import (
    CURRENCY_MINOR_UNITS,
    Invoice,
    InvoiceLine,
    PushableStatus,
)
from pushes.payloads import invoice_build_payload, invoice_request_body, payload_hash
from pushes.push_options_selectors import push_operation_for, push_options_required
from pushes.registry import FieldProblem
from railzpush.railz.datatypes import PROVIDER_LABELS
from refs.models import (
    Account,
    Connection,
    Customer,
    Item,
    Subsidiary,
    TaxRate,
    TrackingOption,
)

__all__ = [
    "InvoiceData",
    "InvoiceInvalid",
    "InvoiceLineData",
    "invoice_create",
    "invoice_payload",
    "invoice_save_problems",
    "invoice_update",
    "invoice_validate",
]

INVOICE_NUMBER_MAX = 21  # PushInvoiceV2.invoiceNumber maxLength
TEXT_MAX = 4000  # memo, lines[].description maxLength
SERVICE_LABELS = PROVIDER_LABELS


class InvoiceInvalid(Exception):
    """The invoice was not written: every problem, each at its field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems)
        self.problems = list(problems)

    def __str__(self) -> str:
        return " ".join(problem.message for problem in self.problems)


@dataclass
class InvoiceLineData:
    """One line as a caller gives it; numbers may be Decimal, int or str ("12.50")."""

    description: str = ""
    quantity: Decimal | int | str | None = None
    unit_amount: Decimal | int | str | None = None
    discount_percentage: Decimal | int | str | None = None
    account: Account | None = None
    item: Item | None = None
    tax_rate: TaxRate | None = None
    tracking_options: Sequence[TrackingOption] = ()
    # The id of an existing line to change in place; None adds a line.
    id: int | None = None


@dataclass
class InvoiceData:
    """A whole invoice as a caller gives it; dates may be `date` or "YYYY-MM-DD"."""

    connection: Connection
    status: str = PushableStatus.DRAFT
    customer: Customer | None = None
    invoice_number: str = ""
    posted_date: dt.date | str | None = None
    due_date: dt.date | str | None = None
    currency: str = ""
    currency_rate: Decimal | int | str | None = None
    memo: str = ""
    subsidiaries: Sequence[Subsidiary] = ()
    lines: Sequence[InvoiceLineData] = field(default_factory=list)

    @classmethod
    def from_invoice(cls, invoice: Invoice) -> InvoiceData:
        """The invoice as stored, lines in order, ready to check or to change and save."""
        return cls(
            connection=invoice.connection,
            status=invoice.status,
            customer=invoice.customer,
            invoice_number=invoice.invoice_number,
            posted_date=invoice.posted_date,
            due_date=invoice.due_date,
            currency=invoice.currency,
            currency_rate=invoice.currency_rate,
            memo=invoice.memo,
            subsidiaries=list(invoice.subsidiaries.all()),
            lines=[
                InvoiceLineData(
                    id=line.pk,
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit_amount,
                    discount_percentage=line.discount_percentage,
                    account=line.account,
                    item=line.item,
                    tax_rate=line.tax_rate,
                    tracking_options=list(line.tracking_options.all()),
                )
                for line in invoice.lines.select_related("account", "item", "tax_rate")
                .prefetch_related("tracking_options__category")
                .order_by("position", "id")
            ],
        )


# --- checking -----------------------------------------------------------------------------------


@dataclass
class _Checked:
    """The data turned into stored types, and every problem found on the way."""

    values: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    # Problems no invoice may be stored with, draft or not.
    hard: list[FieldProblem] = field(default_factory=list)
    # Problems that only keep an invoice from being ready to push.
    readiness: list[FieldProblem] = field(default_factory=list)

    def all(self) -> list[FieldProblem]:
        seen: set[str] = set()
        problems = []
        for problem in self.hard + self.readiness:
            # One message per field: the first is the one to fix first.
            if problem.field not in seen:
                seen.add(problem.field)
                problems.append(problem)
        return problems


def _decimal(
    value: Any, *, path: str, label: str, max_digits: int, places: int, checked: _Checked
) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float | bool):
        # A float has already lost the cents it was meant to carry.
        checked.hard.append(
            FieldProblem(path, f"{label} must be given as a decimal, not {value!r}.")
        )
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        checked.hard.append(
            FieldProblem(path, f"{label} must be a number; got {str(value)[:40]!r}.")
        )
        return None
    if not number.is_finite():
        checked.hard.append(FieldProblem(path, f"{label} must be a finite number."))
        return None
    if abs(number) >= Decimal(10) ** (max_digits - places):
        checked.hard.append(
            FieldProblem(
                path,
                f"{label} is too large: at most {max_digits - places} digits before the "
                "decimal point.",
            )
        )
        return None
    # 12.5000000 is 12.5: only significant places count.
    if max(0, -int(number.normalize().as_tuple().exponent)) > places:
        checked.hard.append(
            FieldProblem(path, f"{label} can have at most {places} decimal places.")
        )
        return None
    number = number.quantize(Decimal(1).scaleb(-places))
    return number


def _date(value: Any, *, path: str, label: str, checked: _Checked) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        checked.hard.append(
            FieldProblem(
                path, f"{label} must be a date formatted as YYYY-MM-DD; got {text[:40]!r}."
            )
        )
        return None


def _text(value: Any, *, path: str, label: str, max_length: int, checked: _Checked) -> str:
    text = "" if value is None else str(value)
    if len(text) > max_length:
        checked.hard.append(
            FieldProblem(
                path, f"{label} must be at most {max_length} characters; it has {len(text)}."
            )
        )
    return text


def _ref_problems(
    record: Any, *, path: str, label: str, connection: Connection, checked: _Checked
) -> None:
    if record is None:
        return
    if record.connection_id != connection.pk:
        checked.hard.append(
            FieldProblem(
                path,
                f"{label} {record} belongs to another connection ({record.connection}); choose "
                f"one of {connection}.",
            )
        )
    elif record.is_archived:
        checked.readiness.append(
            FieldProblem(
                path,
                f"{label} {record} is archived in the accounting system; choose another.",
            )
        )


def _check(data: InvoiceData, *, invoice: Invoice | None) -> _Checked:
    checked = _Checked()
    connection = data.connection
    need = checked.readiness.append

    if invoice is not None and invoice.connection_id != connection.pk:
        checked.hard.append(
            FieldProblem(
                "connectionUuid",
                "An invoice stays with the connection it was composed for; create a new invoice "
                "for another connection.",
            )
        )
    if not connection.can_push:
        need(
            FieldProblem(
                "connectionUuid",
                f"The connection {connection} is {connection.status}: invoices can only be "
                "pushed through an active connection.",
            )
        )
    if data.status not in PushableStatus.values:
        checked.hard.append(
            FieldProblem("status", f"Status must be draft or ready; got {data.status!r}.")
        )

    values = checked.values
    values["status"] = data.status
    values["customer"] = data.customer
    if data.customer is None:
        need(FieldProblem("customerRef", "Customer is required: choose who the invoice is for."))
    _ref_problems(
        data.customer, path="customerRef", label="Customer", connection=connection, checked=checked
    )

    number = _text(
        data.invoice_number,
        path="invoiceNumber",
        label="Invoice number",
        max_length=INVOICE_NUMBER_MAX,
        checked=checked,
    ).strip()
    values["invoice_number"] = number
    if number and len(number) <= INVOICE_NUMBER_MAX:
        duplicates = Invoice.objects.filter(connection=connection, invoice_number=number)
        if invoice is not None and invoice.pk:
            duplicates = duplicates.exclude(pk=invoice.pk)
        other = duplicates.only("pk").first()
        if other is not None:
            need(
                FieldProblem(
                    "invoiceNumber",
                    f"Invoice number {number} is already used by invoice #{other.pk} of this "
                    "connection; the accounting system would hold two invoices with one number.",
                )
            )

    posted = _date(data.posted_date, path="postedDate", label="Posted date", checked=checked)
    due = _date(data.due_date, path="dueDate", label="Due date", checked=checked)
    values["posted_date"], values["due_date"] = posted, due
    if posted and due and due < posted:
        need(
            FieldProblem(
                "dueDate",
                f"Due date {due.isoformat()} is before the posted date {posted.isoformat()}.",
            )
        )

    currency = (data.currency or "").strip().upper()
    if not currency and data.customer is not None and data.customer.connection_id == connection.pk:
        # Invoices are usually in the customer's currency; a blank field means "the usual".
        currency = (data.customer.currency or "").strip().upper()
    values["currency"] = currency
    if currency:
        if len(currency) != 3 or not currency.isalpha():
            checked.hard.append(
                FieldProblem(
                    "currency",
                    f"Currency must be a three-letter ISO 4217 code such as CAD; got "
                    f"{currency[:20]!r}.",
                )
            )
        elif currency not in CURRENCY_MINOR_UNITS:
            need(FieldProblem("currency", f"{currency} is not an ISO 4217 currency code."))
    rate = _decimal(
        data.currency_rate,
        path="currencyRate",
        label="Currency rate",
        max_digits=20,
        places=10,
        checked=checked,
    )
    values["currency_rate"] = rate
    if rate is not None and rate <= 0:
        need(FieldProblem("currencyRate", "Currency rate must be greater than 0."))
    values["memo"] = _text(
        data.memo, path="memo", label="Memo", max_length=TEXT_MAX, checked=checked
    )

    values["subsidiaries"] = list(data.subsidiaries)
    for index, subsidiary in enumerate(values["subsidiaries"]):
        _ref_problems(
            subsidiary,
            path=f"subsidiaryRefs[{index}]",
            label="Subsidiary",
            connection=connection,
            checked=checked,
        )

    if not data.lines:
        need(FieldProblem("lines", "Add at least one line."))
    for index, line in enumerate(data.lines):
        checked.lines.append(_check_line(line, index=index, data=data, checked=checked))

    _provider_rules(data, checked=checked, invoice=invoice)
    return checked


def _check_line(
    line: InvoiceLineData, *, index: int, data: InvoiceData, checked: _Checked
) -> dict[str, Any]:
    at = f"lines[{index}]"
    need = checked.readiness.append
    connection = data.connection
    label = f"Line {index + 1}:"
    values: dict[str, Any] = {"id": line.id, "position": index}
    values["description"] = _text(
        line.description,
        path=f"{at}.description",
        label=f"{label} description",
        max_length=TEXT_MAX,
        checked=checked,
    )
    quantity = _decimal(
        line.quantity,
        path=f"{at}.quantity",
        label=f"{label} quantity",
        max_digits=18,
        places=4,
        checked=checked,
    )
    unit_amount = _decimal(
        line.unit_amount,
        path=f"{at}.unitAmount",
        label=f"{label} unit amount",
        max_digits=18,
        places=4,
        checked=checked,
    )
    discount = _decimal(
        line.discount_percentage,
        path=f"{at}.discountPercentage",
        label=f"{label} discount",
        max_digits=7,
        places=4,
        checked=checked,
    )
    values.update(quantity=quantity, unit_amount=unit_amount, discount_percentage=discount)
    if line.quantity in (None, ""):
        need(FieldProblem(f"{at}.quantity", f"{label} quantity is required."))
    elif quantity is not None and quantity <= 0:
        need(FieldProblem(f"{at}.quantity", f"{label} quantity must be greater than 0."))
    if line.unit_amount in (None, ""):
        need(FieldProblem(f"{at}.unitAmount", f"{label} unit amount is required."))
    if discount is not None and not (0 <= discount <= 100):
        need(
            FieldProblem(
                f"{at}.discountPercentage", f"{label} discount must be between 0 and 100 %."
            )
        )
    for name, path, ref_label in (
        ("account", "accountRef", "account"),
        ("item", "inventoryRef", "item"),
        ("tax_rate", "taxRateRef", "tax rate"),
    ):
        record = getattr(line, name)
        values[name] = record
        _ref_problems(
            record,
            path=f"{at}.{path}",
            label=f"{label} {ref_label}",
            connection=connection,
            checked=checked,
        )
    values["tracking_options"] = list(line.tracking_options)
    for position, option in enumerate(values["tracking_options"]):
        _ref_problems(
            option,
            path=f"{at}.trackingCategoryRefs[{position}]",
            label=f"{label} tracking option",
            connection=connection,
            checked=checked,
        )
    return values


def _provider_rules(data: InvoiceData, *, checked: _Checked, invoice: Invoice | None) -> None:
    """The accounting system's own rules: documented ones, then its cached pushOptions."""
    service = data.connection.service_name
    provider = SERVICE_LABELS.get(service, service)
    if service == "xero":
        # Railz Reference Types: "When pushing invoices to Xero, accountRef is required if no
        # inventoryRef is used."
        for index, line in enumerate(data.lines):
            if line.account is None and line.item is None:
                checked.readiness.append(
                    FieldProblem(
                        f"lines[{index}].accountRef",
                        f"Line {index + 1}: Xero needs an account or an item on every line; "
                        "choose one.",
                    )
                )

    required = push_options_required(
        connection=data.connection,
        data_type="invoices",
        operation=push_operation_for(invoice),
    )
    if not required:
        return
    line_fields = {
        "description": "description",
        "quantity": "quantity",
        "unitAmount": "unit_amount",
        "discountPercentage": "discount_percentage",
        "accountRef": "account",
        "inventoryRef": "item",
        "taxRateRef": "tax_rate",
        "trackingCategoryRefs": "tracking_options",
    }
    invoice_fields = {
        "customerRef": data.customer,
        "invoiceNumber": data.invoice_number,
        "postedDate": data.posted_date,
        "dueDate": data.due_date,
        "currency": data.currency,
        "currencyRate": data.currency_rate,
        "memo": data.memo,
        "subsidiaryRefs": list(data.subsidiaries),
        "lines": list(data.lines),
    }
    for path, description in required.items():
        reason = f" ({description})" if description else ""
        head, _, rest = path.partition(".")
        if head == "lines" and rest in line_fields:
            for index, line in enumerate(data.lines):
                if getattr(line, line_fields[rest]) in (None, "", [], ()):
                    checked.readiness.append(
                        FieldProblem(
                            f"lines[{index}].{rest}",
                            f"Line {index + 1}: {rest} is required by {provider}{reason}.",
                        )
                    )
        elif not rest and head in invoice_fields and invoice_fields[head] in (None, "", [], ()):
            checked.readiness.append(
                FieldProblem(head, f"{head} is required by {provider}{reason}.")
            )


def invoice_validate(
    *, invoice: Invoice | None = None, data: InvoiceData | None = None
) -> list[FieldProblem]:
    """Every reason the invoice cannot be pushed; [] means it is ready.

    Give `invoice` to check a stored invoice, `data` to check an invoice before it is saved,
    or both to check changes to `invoice` (it is then not its own duplicate). Reads the
    cached pushOptions; never calls Railz.
    """
    if data is None:
        if invoice is None:
            raise TypeError("invoice_validate needs an invoice or its data")
        data = InvoiceData.from_invoice(invoice)
    return _check(data, invoice=invoice).all()


# --- writing ------------------------------------------------------------------------------------


def _refused(checked: _Checked) -> list[FieldProblem]:
    if checked.values["status"] == PushableStatus.READY:
        return checked.all()
    return [problem for problem in checked.all() if problem in checked.hard]


def invoice_save_problems(
    *, data: InvoiceData, invoice: Invoice | None = None
) -> list[FieldProblem]:
    """What saving `data` (as a new invoice, or over `invoice`) would be refused for.

    A draft: only what must never be stored; a ready invoice: everything `invoice_validate`
    finds. Forms call it to show the problems before anything is written.
    """
    return _refused(_check(data, invoice=invoice))


def _write(invoice: Invoice, checked: _Checked, *, user: Any) -> Invoice:
    values = dict(checked.values)
    subsidiaries = values.pop("subsidiaries")
    for name, value in values.items():
        setattr(invoice, name, value)
    invoice.updated_by = user
    invoice.save()
    invoice.subsidiaries.set(subsidiaries)

    existing = {line.pk: line for line in invoice.lines.all()}
    kept: set[int] = set()
    for line_values in checked.lines:
        line_values = dict(line_values)
        line_id = line_values.pop("id")
        tracking = line_values.pop("tracking_options")
        line = existing.get(line_id) if line_id is not None else None
        if line_id is not None and line is None:
            raise InvoiceInvalid(
                [
                    FieldProblem(
                        f"lines[{line_values['position']}]",
                        f"Line {line_values['position'] + 1} is not a line of this invoice.",
                    )
                ]
            )
        line = line or InvoiceLine(invoice=invoice)
        for name, value in line_values.items():
            setattr(line, name, value)
        line.save()
        line.tracking_options.set(tracking)
        kept.add(line.pk)
    invoice.lines.exclude(pk__in=kept).delete()

    fresh = Invoice.objects.select_related("connection", "customer").get(pk=invoice.pk)
    fresh.payload_hash = payload_hash(invoice_build_payload(fresh))
    Invoice.objects.filter(pk=fresh.pk).update(payload_hash=fresh.payload_hash)
    # Callers read the lines afresh, not the copy the payload was built from.
    fresh._prefetched_objects_cache = {}
    return fresh


def invoice_create(*, data: InvoiceData, user: Any = None) -> Invoice:
    """Store a new invoice and its lines together, or nothing.

    A draft is refused only for what must never be stored; a ready invoice for every problem
    `invoice_validate` finds. Raises InvoiceInvalid with the problems.
    """
    checked = _check(data, invoice=None)
    problems = _refused(checked)
    if problems:
        raise InvoiceInvalid(problems)
    with transaction.atomic():
        invoice = Invoice(connection=data.connection, created_by=user)
        return _write(invoice, checked, user=user)


def invoice_update(*, invoice: Invoice, data: InvoiceData, user: Any = None) -> Invoice:
    """Replace an invoice's fields and lines with `data`, together or not at all.

    Lines carrying the `id` of one of the invoice's lines are changed in place, the others
    added; the invoice's lines missing from `data` are removed. Same rules as
    `invoice_create`; raises InvoiceInvalid.
    """
    with transaction.atomic():
        # Two people saving the same invoice at once: the second waits and checks afresh.
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        checked = _check(data, invoice=locked)
        problems = _refused(checked)
        if problems:
            raise InvoiceInvalid(problems)
        return _write(locked, checked, user=user)


def invoice_payload(*, invoice: Invoice) -> dict[str, Any]:
    """The exact body `POST /v2/accounting/invoices` would receive for this invoice now."""
    return invoice_request_body(invoice)
