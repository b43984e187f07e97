"""The composer every declared record type's admin is: connection first, then a form whose
dropdowns offer only that connection's live reference rows.

Flow: "Add bill" (`/admin/pushes/bill/add/`) lists the connections; choosing one opens
`/admin/pushes/bill/add/?connection=<id>`. Every reference field is an autocomplete whose URL
carries `connection=<id>`, so the refs admin filters server-side and no choices are rendered
into the page (a connection may have 100,000 customers).

The admin holds no rule: the line formset builds `RecordData` from the form and its lines by
the type's declaration, asks `record_save_problems` what saving would refuse, and shows each
problem at its field (`lines[2].accountRef` -> line 3, account); saving goes through
`record_create` / `record_update`. `record_admin` makes the admin of one declared type.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.utils import ErrorDict
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from pushes import registry
from pushes.admin.approvals import submit_for_approval_action
from pushes.admin.push_requests import (
    has_push_permission,
    push_delete_action,
    push_records_action,
    push_update_action,
)
from pushes.models import PushableStatus, PushRequest
from pushes.payloads import record_request_body
from pushes.push_options_selectors import (
    provider_label,
    push_operation_for,
    push_options_kept,
    push_rules_unchecked,
)
from pushes.push_selectors import connections_paused
from pushes.refusals import Refusal, reference_names, refusals_in_words
from pushes.selectors import (
    LIST_TOTALS_MAX_RECORDS,
    PushState,
    connections_for_invoice,
    invoice_totals,
    record_list_total,
    record_push_state,
    records_in_push_state,
    records_total_by_currency,
    records_with_push_state,
    records_with_totals,
)
from pushes.services.push_options import push_options_refresh
from pushes.services.records import (
    RecordInvalid,
    record_create,
    record_notes,
    record_save_problems,
    record_update,
    record_validate,
)
from pushes.spec import DocumentSpec, Kind, LineData, RecordData
from railzpush.railz.datatypes import Op
from railzpush.railz.errors import RailzError
from refs.admin import AUTOCOMPLETE_CONNECTION_PARAM, CappedCountPaginator
from refs.models import Account, Connection, Currency, Item, TaxRate
from refs.selectors import item_line_defaults, open_documents_of_party
from sheets.exports import ExportMixin

_PATH = re.compile(r"^(?P<head>[A-Za-z]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>[A-Za-z]+))?")
_MANY = (Kind.REFS, Kind.TRACKING)
# What the change page shows of the record's life in the accounting system.
ACCOUNTING_FIELDS = (
    "push_state",
    "provider_record_id",
    "last_pushed_at",
    "ready_to_push",
    "provider_rules",
    "payload_preview",
)
_REFS = (Kind.REF, Kind.LINK, *_MANY)
_REFUSED = (PushRequest.State.FAILED, PushRequest.State.REJECTED)


def item_fill_fields(spec: DocumentSpec) -> dict[str, str] | None:
    """The line fields choosing an item fills, by what they are (description, unit price,
    account, tax rate) -> the line field's name; None when the type's lines have no item."""
    if not spec.has_lines:
        return None
    by_model = {}
    for spec_field in spec.line_fields:
        if spec_field.kind is Kind.REF:
            by_model[spec.column(spec_field, line=True).related_model] = spec_field.name
    if Item not in by_model:
        return None
    names = {"item": by_model[Item]}
    for what, path_or_model in (
        ("description", "description"),
        ("unit_price", "unitAmount"),
        ("account", Account),
        ("tax_rate", TaxRate),
    ):
        if isinstance(path_or_model, str):
            spec_field = spec.field_at(path_or_model, line=True)
            name = spec_field.name if spec_field is not None else None
        else:
            name = by_model.get(path_or_model)
        if name:
            names[what] = name
    return names


def _totalled(spec) -> bool:
    """Whether a list totals the type's records: documents with lines and amounts."""
    return spec.totals and spec.has_lines


_ID_LINE = re.compile(r'"id": "(?P<id>[^"]+)"')


def _open_document_models(spec: DocumentSpec) -> list[tuple[str, Any]]:
    """(line field, mirror) of each mirror a type's lines apply to: documents a payment pays
    (refs.OpenInvoice, OpenBill), then credit notes it applies; [] for other types."""
    if not spec.has_lines:
        return []
    found = []
    for field in spec.line_fields:
        if field.kind is not Kind.LINK:
            continue
        related = spec.line_model_class._meta.get_field(field.name).related_model
        if hasattr(related, "party_field"):
            found.append((field.name, related))
    return found


def _open_document_model(spec: DocumentSpec):
    """The mirror of the documents a type's lines pay (refs.OpenInvoice, OpenBill), or None."""
    return next((model for _name, model in _open_document_models(spec)), None)


def _decimal(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _open_document_row(row, field: str = "document") -> dict:
    """One row of the composer's table; `field` is the line field naming it, `kind` its link
    type (a credit note's amount is credit it applies, not money it pays)."""
    return {
        "field": field,
        "kind": row.link_type,
        "id": row.pk,
        "label": str(row),
        "number": row.name,
        "date": row.posted_date.isoformat() if row.posted_date else None,
        "due_date": row.due_date.isoformat() if row.due_date else None,
        "currency": row.currency,
        "total": _decimal(row.total_amount),
        "amount_due": _decimal(row.amount_due),
    }


def _connection_from_query(request: HttpRequest) -> Connection | None:
    value = request.GET.get(AUTOCOMPLETE_CONNECTION_PARAM, "")
    if not value.isdigit():
        return None
    return Connection.objects.filter(pk=int(value)).first()


class _ConnectionScoped:
    """An autocomplete whose URL names the connection, so the refs admin filters by it."""

    def __init__(self, *args, connection_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection_id = connection_id

    # A document line's account: only accounts it can post to (refs.admin reads `postable`).
    postable_only = False

    def get_url(self):
        query = {AUTOCOMPLETE_CONNECTION_PARAM: self.connection_id}
        if self.postable_only:
            query["postable"] = "1"
        return f"{super().get_url()}?{urlencode(query)}"


class ConnectionAutocompleteSelect(_ConnectionScoped, AutocompleteSelect):
    pass


class ConnectionAutocompleteSelectMultiple(_ConnectionScoped, AutocompleteSelectMultiple):
    pass


class ConnectionScopedFields:
    """Gives every autocomplete field of a form the connection-scoped widget."""

    def formfield_for_dbfield(self, db_field, request, connection=None, **kwargs):
        if connection is not None and db_field.name in self.get_autocomplete_fields(request):
            widget = (
                ConnectionAutocompleteSelectMultiple
                if db_field.many_to_many
                else ConnectionAutocompleteSelect
            )
            kwargs["widget"] = widget(
                db_field, self.admin_site, using=kwargs.get("using"), connection_id=connection.pk
            )
            if db_field.name == "account" and getattr(self, "postable_accounts", False):
                kwargs["widget"].postable_only = True
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def last_refusals(record) -> list[Refusal]:
    """What the accounting system refused at the record's latest push, while it is the latest;
    read once per page and kept on the record."""
    if record is None or record.pk is None:
        return []
    if not hasattr(record, "_last_refusals"):
        latest = (
            PushRequest.objects.for_record(record)
            .select_related("connection")
            .order_by("-created_at", "-pk")
            .first()
        )
        failed = latest is not None and latest.state in _REFUSED
        record._last_refusals = refusals_in_words(latest) if failed else []
    return record._last_refusals


def show_refusals(form: forms.BaseForm, refusals: list[Refusal]) -> None:
    """Each refusal at its field of an unbound form, as an error the page shows there."""
    if not refusals:
        return
    if form._errors is None:
        form._errors, form.cleaned_data = ErrorDict(), {}
    for refusal in refusals:
        name = refusal.field_name if refusal.field_name in form.fields else None
        form.add_error(name, f"Refused at the last push: {refusal.words}")


def _given(cleaned: dict, spec_field) -> object:
    value = cleaned.get(spec_field.name)
    if spec_field.kind in _MANY:
        return list(value or [])
    if spec_field.kind in _REFS or spec_field.kind in (Kind.DATE, Kind.DECIMAL):
        return value
    return value or ""


def _checked_record_data(spec: DocumentSpec, main, line_forms: list) -> RecordData | None:
    """The record and its lines as the services take them, checked as saving would check
    them; None when a problem was put at its field, ValidationError for those no field holds."""
    record = main.instance
    values = main.cleaned_data
    data = RecordData(
        connection=record.connection,
        status=values.get("status") or PushableStatus.DRAFT,
        lines=[
            LineData(
                id=form.instance.pk,
                **{f.name: _given(form.cleaned_data, f) for f in spec.line_fields},
            )
            for form in line_forms
        ],
        **{f.name: _given(values, f) for f in spec.fields},
    )
    problems = record_save_problems(
        data_type=spec.data_type, data=data, record=record if record.pk else None
    )
    if not problems:
        return data
    general = []
    for problem in problems:
        if not _show_at_field(spec, problem, main=main, line_forms=line_forms):
            general.append(problem.message)
    if general:
        raise ValidationError(general)
    return None


def _show_at_field(spec: DocumentSpec, problem, *, main, line_forms) -> bool:
    """Put the problem's message on the form field its path names; False if none."""
    whole = spec.field_at(problem.field)
    if whole is not None and whole.name in main.fields:
        # A field inside an object of the body (`billingAddress.city`).
        main.add_error(whole.name, problem.message)
        return True
    match = _PATH.match(problem.field)
    if match is None:
        return False
    head, index, rest = match["head"], match["index"], match["rest"]
    if head == "lines" and index is not None:
        position = int(index)
        if position >= len(line_forms):
            return False
        form = line_forms[position]
        spec_field = spec.field_at(rest or "", line=True)
        if spec_field is not None and spec_field.name in form.fields:
            form.add_error(spec_field.name, problem.message)
        else:
            form.add_error(None, problem.message)
        return True
    spec_field = spec.field_at(head)
    name = "status" if head == "status" else spec_field.name if spec_field else None
    if name and name in main.fields:
        main.add_error(name, problem.message)
        return True
    return False


class RecordForm(forms.ModelForm):
    """The record's own fields; the declaration names them (`record_admin` sets Meta).

    A type with lines is checked whole by its line formset; one without is checked here.
    """

    spec: DocumentSpec
    record_data: RecordData | None = None

    status = forms.ChoiceField(
        choices=PushableStatus.choices,
        widget=forms.RadioSelect,
        help_text="A draft may be incomplete; a ready record is checked in full and can be pushed.",
    )

    # The connection chosen before the form opened (RecordAdmin.get_form sets it on add).
    connection: Connection | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.connection_id is None and self.connection is not None:
            self.instance.connection = self.connection
        # The line formset checks the whole record, and needs this form to do it.
        self.instance._record_form = self
        connection = self.instance.connection if self.instance.connection_id else None
        self._offer_the_business_currencies(connection)
        party = registry.for_model(self._meta.model).spec.party
        if party in self.fields:
            # record_totals.js takes the currency from the party chosen here. Set on the
            # autocomplete inside the admin's wrapper: the wrapper's attrs are not rendered.
            widget = self.fields[party].widget
            getattr(widget, "widget", widget).attrs["data-party"] = "1"
            if connection is not None and _open_document_model(self.spec) is not None:
                self._list_open_documents(party, connection)
        if not self.is_bound and self.instance.pk is None:
            self._default_values(connection)
        if not self.is_bound:
            refused = [r for r in last_refusals(self.instance) if r.line is None]
            show_refusals(self, refused)

    def _list_open_documents(self, party: str, connection: Connection) -> None:
        """payment_allocations.js lists the chosen party's open documents from this address.
        Set on the autocomplete inside the admin's wrapper: the wrapper's own attrs are not
        the copy this form renders."""
        widget = self.fields[party].widget
        widget = getattr(widget, "widget", widget)
        opts = self._meta.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_open_documents")
        widget.attrs.update(
            {
                "data-open-documents": (
                    f"{url}?{urlencode({AUTOCOMPLETE_CONNECTION_PARAM: connection.pk})}"
                ),
                "data-party-noun": self.spec.party_noun or self.spec.party,
                "data-document-noun": self.spec.field_at_name("document", line=True).label,
            }
        )

    def _default_values(self, connection) -> None:
        """What a new document usually says: a draft, dated today, in the business's currency
        (the party's, once chosen, in the page)."""
        self.initial.setdefault("status", PushableStatus.DRAFT)
        date_field = self.spec.date_field
        if date_field and date_field in self.fields:
            self.initial.setdefault(date_field, timezone.localdate())
        if "currency" in self.fields and connection is not None and connection.base_currency:
            self.initial.setdefault("currency", connection.base_currency)

    def _offer_the_business_currencies(self, connection) -> None:
        """The currency is one of the business's currencies, when the mirror knows them."""
        if "currency" not in self.fields or connection is None:
            return
        codes = [
            code
            for code in Currency.objects.filter(connection=connection, archived_at__isnull=True)
            .exclude(code="")
            .values_list("code", flat=True)
        ]
        if not codes:
            return
        current = self.instance.currency
        if current and current not in codes:
            codes.append(current)  # a stored value stays choosable
        self.fields["currency"].widget = forms.Select(
            choices=[("", "—"), *((code, code) for code in sorted(set(codes)))]
        )

    def clean(self):
        cleaned = super().clean()
        if not self.spec.has_lines and not self.errors:
            self.record_data = _checked_record_data(self.spec, self, [])
        return cleaned


class RecordLineFormSet(forms.BaseInlineFormSet):
    """Lines plus the whole-record check: the services' rules, shown at their fields."""

    spec: DocumentSpec
    record_data: RecordData | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            for refusal in last_refusals(self.instance):
                if refusal.line is not None and refusal.line < len(self.forms):
                    show_refusals(self.forms[refusal.line], [refusal])

    def _line_forms(self) -> list[forms.Form]:
        kept = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            kept.append(form)
        return kept

    def clean(self):
        super().clean()
        main = getattr(self.instance, "_record_form", None)
        if main is None or main.errors or any(form.errors for form in self.forms):
            return
        self.record_data = _checked_record_data(self.spec, main, self._line_forms())
        if self.record_data is None:
            # The main form was judged valid before the lines: this keeps the save from going.
            raise ValidationError(
                f"The {self.spec.label.lower()} was not saved: correct the fields marked below."
            )


class RecordLineInline(ConnectionScopedFields, admin.TabularInline):
    formset = RecordLineFormSet
    # Two lines of text in the line's first row (record.css lays a line out in two rows).
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    extra = 1
    min_num = 0
    spec: DocumentSpec

    def get_queryset(self, request):
        spec = self.spec
        return (
            super()
            .get_queryset(request)
            .select_related(*(f.name for f in spec.line_fields if f.kind.one_row))
            .prefetch_related(
                *(
                    f"{f.name}__category" if f.kind is Kind.TRACKING else f.name
                    for f in spec.line_fields
                    if f.kind in _MANY
                )
            )
        )

    def formfield_for_dbfield(self, db_field, request, connection=None, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, connection, **kwargs)
        fills = item_fill_fields(self.spec)
        if formfield is not None and fills and db_field.name == fills["item"]:
            # line_item_fill.js asks here what the chosen item puts on the line.
            opts = self.parent_model._meta
            widget = getattr(formfield.widget, "widget", formfield.widget)
            widget.attrs["data-fill-url"] = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_item_fill"
            )
        return formfield

    def get_formset(self, request, obj=None, **kwargs):
        connection = obj.connection if obj is not None else _connection_from_query(request)
        kwargs["formfield_callback"] = partial(
            self.formfield_for_dbfield, request=request, connection=connection
        )
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"spec": self.spec})


class PushStateFilter(admin.SimpleListFilter):
    title = "push state"
    parameter_name = "push_state"

    def lookups(self, request, model_admin):
        return [(state.key, state.label) for state in PushState]

    def queryset(self, request, queryset):
        if self.value():
            return records_in_push_state(queryset, state=self.value())
        return queryset


class RecordAdmin(ExportMixin, ConnectionScopedFields, admin.ModelAdmin):
    """The composer of one declared type; `record_admin` fills in the declaration's parts."""

    spec: DocumentSpec
    form = RecordForm
    list_filter = ("connection", PushStateFilter, "posted_date")
    date_hierarchy = None
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = (
        "refresh_push_options",
        push_records_action,
        submit_for_approval_action,
        push_update_action,
        push_delete_action,
    )
    has_push_permission = has_push_permission
    change_form_template = "admin/pushes/record/change_form.html"
    change_list_template = "admin/pushes/record/change_list.html"
    readonly_fields = (
        "connection_name",
        "totals",
        *ACCOUNTING_FIELDS,
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    history_fieldsets = (
        ("History", {"fields": ("created_at", "created_by", "updated_at", "updated_by")}),
    )

    @property
    def media(self):
        # After django.jQuery exists: the live figures follow the autocompletes through its
        # events. Each type names its own script (invoice totals, a journal's balance).
        script = (self.spec.script,) if self.spec.script else ()
        return super().media + forms.Media(
            css={"all": ("pushes/record.css",)},
            js=(
                "admin/js/vendor/jquery/jquery.min.js",
                "admin/js/jquery.init.js",
                *script,
                "pushes/record_composer.js",
                *(("pushes/line_item_fill.js",) if item_fill_fields(self.spec) else ()),
            ),
        )

    # --- pages ----------------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        documents = (
            [
                path(
                    "open-documents/",
                    self.admin_site.admin_view(self.open_documents_view),
                    name=f"{info[0]}_{info[1]}_open_documents",
                )
            ]
            if self._open_document_model() is not None
            else []
        )
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{info[0]}_{info[1]}_preview",
            ),
            *documents,
            path(
                "item-fill/",
                self.admin_site.admin_view(self.item_fill_view),
                name=f"{info[0]}_{info[1]}_item_fill",
            ),
            *super().get_urls(),
        ]

    def _open_document_model(self):
        """The mirror a payment's lines apply to (refs.OpenInvoice, OpenBill), if any."""
        return _open_document_model(self.spec)

    def open_documents_view(self, request, *_args):
        """`?connection=<id>&party=<row id>`: that customer's (or vendor's) open documents in
        that connection, oldest first, for the payment composer's allocation table."""
        if not self.has_view_or_change_permission(request) and not self.has_add_permission(request):
            return JsonResponse({"detail": "You may not see payments."}, status=403)
        connection = _connection_from_query(request)
        party = request.GET.get("party", "")
        if connection is None or not party.isdigit() or len(party) > 18:
            return JsonResponse(
                {
                    "field": "connection" if connection is None else "party",
                    "rule": "required",
                    "message": "Name the connection and the party by their row ids.",
                },
                status=400,
            )
        # The documents it can pay, oldest first, then the credit notes it can apply.
        documents = [
            _open_document_row(row, name)
            for name, model in _open_document_models(self.spec)
            for row in open_documents_of_party(
                model=model, connection=connection, party_id=int(party)
            )
        ]
        return JsonResponse({"documents": documents})

    def changelist_view(self, request, extra_context=None):
        # Every paused connection is said on the list, with where to resume it.
        for paused in connections_paused():
            messages.warning(
                request,
                format_html(
                    '{}: {}. {} push(es) wait. <a href="{}">Resume</a>',
                    paused.pause.connection,
                    paused.sentence,
                    paused.waiting,
                    paused.resume_url,
                ),
            )
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None and _totalled(self.spec):
            # What the filtered list comes to, per currency (not only the page shown).
            response.context_data["list_totals_max"] = LIST_TOTALS_MAX_RECORDS
            # The paginator has counted up to just past the cap: a longer list is not summed
            # (nor counted per currency, a read of the whole table on each visit).
            if changelist.result_count <= LIST_TOTALS_MAX_RECORDS:
                response.context_data["list_totals"] = records_total_by_currency(
                    changelist.queryset, spec=self.spec, max_records=LIST_TOTALS_MAX_RECORDS
                )
            else:
                response.context_data["list_totals_over"] = True
        return response

    def add_view(self, request, form_url="", extra_context=None):
        connection = _connection_from_query(request)
        if connection is None or not connection.can_queue:
            return self.choose_connection_view(request, chosen=connection)
        edits = request.GET.get("edits", "")
        if self.spec.from_mirror and edits.isdigit() and self.has_add_permission(request):
            return self._edit_mirrored(request, connection, int(edits))
        extra_context = {**(extra_context or {}), "record_connection": connection}
        return super().add_view(request, form_url, extra_context)

    def _edit_mirrored(self, request, connection: Connection, row_id: int):
        """Open the record that changes a party the accounting system has (made from its
        mirrored row on first use)."""
        from django.utils.module_loading import import_string

        try:
            record = import_string(self.spec.from_mirror)(
                data_type=self.spec.data_type,
                row_id=row_id,
                connection=connection,
                user=request.user,
            )
        except (LookupError, RecordInvalid) as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            )
        return redirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[record.pk])
        )

    def choose_connection_view(self, request, *, chosen: Connection | None):
        spec = self.spec
        error = ""
        if AUTOCOMPLETE_CONNECTION_PARAM in request.GET and chosen is None:
            error = "That connection does not exist; choose one below."
        elif chosen is not None:
            error = f"{chosen} cannot take {spec.label_plural} now: it is {chosen.status}."
        add_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_add")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Add {spec.label.lower()}: choose the connection",
            "opts": self.opts,
            "error": error,
            "a_label": spec.a_label,
            "party_plural": f"{spec.party}s" if spec.party else "",
            "choices": [
                (
                    choice,
                    f"{add_url}?{urlencode({AUTOCOMPLETE_CONNECTION_PARAM: choice.connection.pk})}",
                )
                for choice in connections_for_invoice()
            ],
        }
        return TemplateResponse(request, "admin/pushes/record/choose_connection.html", context)

    def item_fill_view(self, request):
        """What choosing an item puts on one of this type's lines, from the mirror: the line
        field names and their values (references as id and label, for the autocompletes)."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            return JsonResponse({"error": "not allowed"}, status=403)
        fills = item_fill_fields(self.spec)
        if fills is None:
            return JsonResponse(
                {"field": "item", "rule": "absent", "message": "These lines have no item."},
                status=404,
            )
        raw = request.GET.get("item", "")
        item = (
            Item.objects.select_related("account", "tax_rate").filter(pk=int(raw)).first()
            if raw.isdigit()
            else None
        )
        if item is None:
            return JsonResponse(
                {"field": "item", "rule": "exists", "message": "Choose an item that exists."},
                status=400,
            )
        defaults = item_line_defaults(item=item, side=self.spec.item_side)
        fields = {}
        for what, name in fills.items():
            value = defaults.get(what)
            if what == "item" or value in (None, ""):
                continue
            if isinstance(value, models.Model):
                value = {"id": value.pk, "text": str(value)}
            elif isinstance(value, Decimal):
                # 12.500000 -> "12.50": as a person would type the price.
                short = value.normalize()
                value = format(
                    short if short.as_tuple().exponent < -2 else value.quantize(Decimal("0.01")),
                    "f",
                )
            fields[name] = value
        return JsonResponse({"item": item.pk, "side": self.spec.item_side, "fields": fields})

    def preview_view(self, request, pk: int):
        record = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_or_change_permission(request, record):
            return JsonResponse({"error": "not allowed"}, status=403)
        return JsonResponse(record_request_body(record), json_dumps_params={"indent": 2})

    # --- form -----------------------------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related(*self.spec.related)
        queryset = records_with_push_state(queryset)
        return records_with_totals(queryset, spec=self.spec) if _totalled(self.spec) else queryset

    def has_delete_permission(self, request, obj=None):
        # The push history would go with it, and the accounting system would keep its copy.
        if obj is not None and (obj.last_pushed_at or obj.push_requests.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        record = super().get_object(request, object_id, from_field)
        if record is not None:
            spec = self.spec
            record = records_with_push_state(
                spec.model_class.objects.select_related(
                    *spec.related, "created_by", "updated_by"
                ).prefetch_related(
                    *(f.name for f in spec.fields if f.kind in _MANY),
                    *((spec.lines_prefetch(),) if spec.has_lines else ()),
                )
            ).get(pk=record.pk)
        return record

    def get_fieldsets(self, request, obj=None):
        connection = obj.connection if obj is not None else _connection_from_query(request)
        absent = self._fields_not_offered(connection)
        fieldsets = tuple(
            (title, {**options, "fields": tuple(f for f in options["fields"] if f not in absent)})
            for title, options in self.fieldsets
        )
        return fieldsets + (self.change_fieldsets if obj is not None else ())

    def _fields_not_offered(self, connection) -> set[str]:
        """Fields the business's accounting system does not have: declared for other systems
        only (subsidiaries on Xero), or optional lists of references of which the mirror
        holds none."""
        if connection is None:
            return set()
        spec = self.spec
        absent = set()
        for spec_field in spec.fields:
            if spec_field.providers and connection.service_name not in spec_field.providers:
                absent.add(spec_field.name)
                continue
            if spec_field.kind not in _MANY:
                continue
            model = spec.column(spec_field).related_model
            if not model.objects.filter(connection=connection).exists():
                absent.add(spec_field.name)
        return absent

    def get_form(self, request, obj=None, change=False, **kwargs):
        connection = obj.connection if obj is not None else _connection_from_query(request)
        if "fields" not in kwargs:
            absent = self._fields_not_offered(connection)
            kwargs["exclude"] = [*(kwargs.get("exclude") or ()), *absent]
        return self._record_form(request, obj, change, connection=connection, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The fieldsets above the lines; the rest (totals, accounting system) come after them.
        context["lead_fieldsets"] = len(self.fieldsets)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _record_form(self, request, obj, change, *, connection, **kwargs):
        kwargs["formfield_callback"] = partial(
            self.formfield_for_dbfield, request=request, connection=connection
        )
        form = super().get_form(request, obj, change, **kwargs)
        # The connection was chosen on the previous page and stays in the URL; it is not a
        # form field a person could change halfway.
        return type(form.__name__, (form,), {"connection": connection})

    def save_model(self, request, obj, form, change):
        # Written with its lines in save_related, through the services, in one transaction.
        pass

    def save_related(self, request, form, formsets, change):
        lines = next((f for f in formsets if isinstance(f, RecordLineFormSet)), form)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        data = lines.record_data
        try:
            if change:
                saved = record_update(record=form.instance, data=data, user=request.user)
            else:
                saved = record_create(data_type=self.spec.data_type, data=data, user=request.user)
        except RecordInvalid as error:
            # Only a write racing this one gets here (the form checked the same rules).
            messages.error(request, f"The {self.spec.label.lower()} was not saved: {error}")
            raise
        obj = form.instance
        for model_field in self.spec.model_class._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        obj._state.adding = False

    @admin.action(description="Fetch the accounting system's push rules again (pushOptions)")
    def refresh_push_options(self, request, queryset):
        connections = Connection.objects.filter(pk__in=queryset.values("connection_id").distinct())
        for connection in connections:
            try:
                kept = push_options_refresh(connection=connection)
            except RailzError as error:
                self.message_user(
                    request, f"{connection}: push rules not refreshed. {error}", messages.ERROR
                )
                continue
            entries = sum(len(r.options) for r in kept if r.data_type == self.spec.data_type)
            self.message_user(
                request,
                f"{connection}: push rules fetched for {len(kept)} data type and operation "
                f"pair(s) ({entries} entries for {self.spec.label_plural}).",
                messages.SUCCESS,
            )

    # --- list columns ---------------------------------------------------------------------

    def document(self, obj):
        return str(obj)

    def party_name(self, obj):
        party = getattr(obj, self.spec.party)
        name = (party.name or party.remote_id) if party is not None else "—"
        # Which business's books: under the party, so the list needs no column for it.
        return format_html(
            '{}<span class="record-list__business">{}</span>', name, obj.connection.business_name
        )

    def document_date(self, obj):
        """The record's own date (a payment's `date`), named per type in `record_admin`."""
        date = getattr(obj, self.spec.date_field)
        return f"{date:%-d %b %Y}" if date else "—"

    @admin.display(description="total", ordering="list_total")
    def list_total(self, obj):
        if obj.list_total is None:
            return "—"
        return format_html(
            '<span class="record-list__money">{} {}</span>',
            obj.currency or "",
            f"{record_list_total(obj):,}",
        )

    @admin.display(description="last push", ordering="latest_push_at")
    def last_push(self, obj):
        if obj.latest_push_at is None:
            return "never pushed"
        who = obj.latest_push_by or "automatic"
        return format_html(
            '{}<span class="record-list__when">{}</span>',
            who,
            f"{timezone.localtime(obj.latest_push_at):%-d %b %H:%M}",
        )

    # --- read-only fields -----------------------------------------------------------------

    @admin.display(description="connection")
    def connection_name(self, obj):
        return str(obj.connection) if obj is not None and obj.connection_id else "—"

    @admin.display(description="push state", ordering="last_pushed_at")
    def push_state(self, obj):
        state = record_push_state(obj)
        status_url = reverse(f"pushes-{self.opts.model_name}-push-status", args=[obj.pk])
        # record_list_live.js follows a record that is pushing until its outcome arrives.
        return format_html(
            '<span class="push-state push-state--{}" data-state="{}" data-status-url="{}" '
            'data-record="{}">{}</span><span class="record-list__why" data-why></span>',
            state.colour,
            state.key,
            status_url,
            obj,
            state.label,
        )

    @admin.display(description="totals")
    def totals(self, obj):
        lines = obj.lines.all()
        totals = invoice_totals(lines=lines, currency=obj.currency)
        tax_note = "" if totals.tax_complete else " (lines whose tax rate has no known % excluded)"
        rows = (
            ("Subtotal", totals.subtotal, "subtotal", ""),
            ("Discount", -totals.discount, "discount", ""),
            ("Tax", totals.tax, "tax", tax_note),
            ("Total", totals.total, "total", ""),
        )
        return format_html(
            '<table class="record-totals" data-currency="{}">{}</table>',
            totals.currency,
            format_html_join(
                "",
                '<tr><th>{}</th><td data-total="{}">{} {}</td><td>{}</td></tr>',
                ((label, key, totals.currency, amount, note) for label, amount, key, note in rows),
            ),
        )

    @admin.display(description="ready to push")
    def ready_to_push(self, obj):
        refused = last_refusals(obj)
        if refused:
            # Whatever railzpush checks, the accounting system has the last word.
            unchanged = obj.latest_push_state in _REFUSED and not self._changed_since_refusal(obj)
            return format_html(
                '<p class="record-refused">{}</p><ul class="record-problems">{}</ul>',
                "No: the accounting system refused the last push"
                + (" and the record has not changed since." if unchanged else ".")
                + " Correct what it says at the fields marked, then push again.",
                format_html_join("", "<li>{}</li>", ((r.words,) for r in refused)),
            )
        notes = format_html_join(
            "",
            '<p class="record-unchecked">{}</p>',
            ((note.message,) for note in record_notes(record=obj)),
        )
        return format_html("{}{}", notes, self._readiness(obj))

    def _readiness(self, obj):
        problems = record_validate(record=obj)
        # Without the provider's rules, passing every check railzpush has is not "ready".
        unchecked = push_rules_unchecked(
            connection=obj.connection,
            data_type=self.spec.data_type,
            operation=push_operation_for(obj),
        )
        if not problems:
            if unchecked:
                return format_html('<p class="record-unchecked">{}</p>', unchecked)
            provider = provider_label(obj.connection.service_name)
            return f"Yes: every check passes, {provider}'s push rules included."
        listed = format_html(
            '<ul class="record-problems">{}</ul>',
            format_html_join(
                "", "<li><code>{}</code> {}</li>", ((p.field, p.message) for p in problems)
            ),
        )
        if unchecked:
            return format_html('{}<p class="record-unchecked">{}</p>', listed, unchecked)
        return listed

    @staticmethod
    def _changed_since_refusal(obj) -> bool:
        latest = obj.push_requests.order_by("-created_at", "-pk").values("payload_hash").first()
        return bool(latest) and latest["payload_hash"] != obj.payload_hash

    @admin.display(description="provider rules")
    def provider_rules(self, obj):
        operation = push_operation_for(obj)
        kept = push_options_kept(
            connection=obj.connection_id, data_type=self.spec.data_type, operation=operation
        )
        if kept is None:
            return push_rules_unchecked(
                connection=obj.connection, data_type=self.spec.data_type, operation=operation
            )
        return f"pushOptions fetched {kept.fetched_at:%Y-%m-%d %H:%M} UTC (for the {operation})."

    def payload_preview(self, obj):
        body = record_request_body(obj)
        names = reference_names(
            data_type=self.spec.data_type, connection_id=obj.connection_id, body=body
        )
        lines = []
        for line in json.dumps(body, indent=2, ensure_ascii=False).splitlines():
            match = _ID_LINE.search(line)
            name = names.get(match["id"]) if match else None
            # The name beside the id: what a person recognises, where the provider needs ids.
            lines.append(f"{line}    ← {name}" if name else line)
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_preview", args=[obj.pk])
        return format_html(
            '<details class="record-payload-fold"><summary>Show what will be sent</summary>'
            '<pre class="record-payload">{}</pre><a href="{}">Open as JSON</a></details>',
            "\n".join(lines),
            url,
        )


def _fieldsets(spec: DocumentSpec) -> tuple:
    """Who and which number first, then dates and currency, then the rest; a type that says
    how its fields group (`fieldsets`: title, field names) is laid out that way."""
    if spec.fieldsets:
        head, *groups = spec.fieldsets
        return (
            (head[0], {"fields": ("connection_name", "status", *head[1])}),
            *((title, {"fields": tuple(names)}) for title, names in groups),
        )
    dates = {Kind.DATE, Kind.CURRENCY}
    first = [f.name for f in spec.fields if f.name in (spec.party, spec.number)]
    when = [f.name for f in spec.fields if f.kind in dates or f.name == "currency_rate"]
    rest = [f.name for f in spec.fields if f.name not in (*first, *when)]
    return (
        (None, {"fields": ("connection_name", "status", *first)}),
        ("Dates and currency", {"fields": tuple(when)}),
        (None, {"fields": tuple(rest)}),
    )


def record_admin(data_type: str) -> type[RecordAdmin]:
    """Register the composer of a declared type, read from its declaration."""
    spec = registry.for_data_type(data_type).spec
    name = spec.label.title().replace(" ", "")
    inlines = ()
    if spec.has_lines:
        inlines = (
            type(
                f"{name}LineInline",
                (RecordLineInline,),
                {
                    "model": spec.line_model_class,
                    "spec": spec,
                    # An invoice's or a bill's line books sales or costs; a journal's may be
                    # the bank.
                    "postable_accounts": bool(spec.party),
                    "fields": tuple(f.name for f in spec.line_fields),
                    "autocomplete_fields": tuple(
                        f.name for f in spec.line_fields if f.kind in _REFS
                    ),
                },
            ),
        )
    form = type(
        f"{name}Form",
        (RecordForm,),
        {
            "spec": spec,
            "Meta": type(
                "Meta",
                (),
                {"model": spec.model_class, "fields": ("status", *(f.name for f in spec.fields))},
            ),
        },
    )
    operation = spec.railz.operation(Op.CREATE)
    attrs = {
        "spec": spec,
        "form": form,
        "inlines": inlines,
        "list_display": (
            "document",
            *(("party_name",) if spec.party else ("connection",)),
            *(("document_date",) if spec.date_field else ()),
            *(("list_total",) if _totalled(spec) else ()),
            "push_state",
            "last_push",
        ),
        "list_display_links": ("document",),
        # Named by the declaration: "invoice number", "customer".
        "document": admin.display(
            description=spec.field_at_name(spec.number).label.lower() if spec.number else "record",
            ordering=spec.number or "pk",
        )(lambda self, obj: RecordAdmin.document(self, obj)),
        "document_date": admin.display(description="date", ordering=spec.date_field or None)(
            lambda self, obj: RecordAdmin.document_date(self, obj)
        ),
        "party_name": admin.display(
            description=spec.party_noun or spec.party or "party",
            ordering=f"{spec.party}__name" if spec.party else None,
        )(lambda self, obj: RecordAdmin.party_name(self, obj)),
        "list_select_related": spec.related,
        "list_filter": (
            "connection",
            PushStateFilter,
            *((spec.date_field,) if spec.date_field else ()),
            *(("due_date",) if spec.field_at("dueDate") else ()),
        ),
        "search_fields": (
            *(f.name for f in spec.fields if f.kind is Kind.TEXT and f.strip),
            *((f"{spec.party}__name",) if spec.party else ()),
            *(("memo",) if spec.field_at("memo") else ()),
        ),
        "autocomplete_fields": tuple(f.name for f in spec.fields if f.kind in _REFS),
        "fieldsets": _fieldsets(spec),
        "change_fieldsets": (
            *((("Totals", {"fields": ("totals",)}),) if spec.totals else ()),
            ("Accounting system", {"fields": ACCOUNTING_FIELDS}),
            *RecordAdmin.history_fieldsets,
        ),
        # A function of its own per type: the label names the type's own Railz operation.
        "payload_preview": admin.display(
            description=f"request body ({operation.method} {operation.path})"
        )(lambda self, obj: RecordAdmin.payload_preview(self, obj)),
    }
    model_admin = type(f"{name}Admin", (RecordAdmin,), attrs)
    admin.site.register(spec.model_class, model_admin)
    return model_admin
