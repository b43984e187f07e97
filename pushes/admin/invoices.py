"""Composing invoices in the admin: connection first, then a form whose dropdowns offer only
that connection's live reference rows.

Flow: "Add invoice" (`/admin/pushes/invoice/add/`) lists the connections; choosing one opens
`/admin/pushes/invoice/add/?connection=<id>`. Every reference field is an autocomplete whose
URL carries `connection=<id>`, so the refs admin filters server-side and no choices are
rendered into the page (a connection may have 100,000 customers).

The admin holds no rule: the line formset builds `InvoiceData` from the form and its lines,
asks `invoice_save_problems` what saving would refuse, and shows each problem at its field
(`lines[2].accountRef` -> line 3, account); saving goes through `invoice_create` /
`invoice_update`.
"""

from __future__ import annotations

import json
import re
from functools import partial
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from pushes.admin.push_requests import (
    has_push_permission,
    push_delete_action,
    push_records_action,
    push_update_action,
)
from pushes.models import Invoice, InvoiceLine, PushableStatus
from pushes.payloads import invoice_lines_prefetch
from pushes.push_options_selectors import (
    provider_label,
    push_operation_for,
    push_options_kept,
    push_rules_unchecked,
)
from pushes.selectors import (
    PushState,
    connections_for_invoice,
    invoice_push_state,
    invoice_totals,
    invoices_in_push_state,
    invoices_with_push_state,
)
from pushes.services.invoices import (
    InvoiceData,
    InvoiceInvalid,
    InvoiceLineData,
    invoice_create,
    invoice_payload,
    invoice_save_problems,
    invoice_update,
    invoice_validate,
)
from pushes.services.push_options import push_options_refresh
from railzpush.railz.errors import RailzError
from refs.admin import AUTOCOMPLETE_CONNECTION_PARAM
from refs.models import Connection

# Railz body path -> form field, for the invoice and for each line.
INVOICE_FIELDS = {
    "connectionUuid": None,
    "status": "status",
    "customerRef": "customer",
    "invoiceNumber": "invoice_number",
    "postedDate": "posted_date",
    "dueDate": "due_date",
    "currency": "currency",
    "currencyRate": "currency_rate",
    "memo": "memo",
    "subsidiaryRefs": "subsidiaries",
}
LINE_FIELDS = {
    "description": "description",
    "quantity": "quantity",
    "unitAmount": "unit_amount",
    "discountPercentage": "discount_percentage",
    "accountRef": "account",
    "inventoryRef": "item",
    "taxRateRef": "tax_rate",
    "trackingCategoryRefs": "tracking_options",
}
_PATH = re.compile(r"^(?P<head>[A-Za-z]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>[A-Za-z]+))?")


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

    def get_url(self):
        query = urlencode({AUTOCOMPLETE_CONNECTION_PARAM: self.connection_id})
        return f"{super().get_url()}?{query}"


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
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class InvoiceForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=PushableStatus.choices,
        widget=forms.RadioSelect,
        help_text="A draft may be incomplete; a ready invoice is checked in full and can be "
        "pushed.",
    )

    class Meta:
        model = Invoice
        fields = (
            "status",
            "customer",
            "invoice_number",
            "posted_date",
            "due_date",
            "currency",
            "currency_rate",
            "memo",
            "subsidiaries",
        )

    # The connection chosen before the form opened (InvoiceAdmin.get_form sets it on add).
    connection: Connection | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.connection_id is None and self.connection is not None:
            self.instance.connection = self.connection
        # The line formset checks the whole invoice, and needs this form to do it.
        self.instance._invoice_form = self


def _blank(value) -> bool:
    return value in (None, "", [], ())


class InvoiceLineFormSet(forms.BaseInlineFormSet):
    """Lines plus the whole-invoice check: the services' rules, shown at their fields."""

    invoice_data: InvoiceData | None = None

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
        invoice = self.instance
        main = getattr(invoice, "_invoice_form", None)
        if main is None or main.errors or any(form.errors for form in self.forms):
            return
        line_forms = self._line_forms()
        values = main.cleaned_data
        data = InvoiceData(
            connection=invoice.connection,
            status=values.get("status") or PushableStatus.DRAFT,
            customer=values.get("customer"),
            invoice_number=values.get("invoice_number") or "",
            posted_date=values.get("posted_date"),
            due_date=values.get("due_date"),
            currency=values.get("currency") or "",
            currency_rate=values.get("currency_rate"),
            memo=values.get("memo") or "",
            subsidiaries=list(values.get("subsidiaries") or []),
            lines=[
                InvoiceLineData(
                    id=form.instance.pk,
                    description=form.cleaned_data.get("description") or "",
                    quantity=form.cleaned_data.get("quantity"),
                    unit_amount=form.cleaned_data.get("unit_amount"),
                    discount_percentage=form.cleaned_data.get("discount_percentage"),
                    account=form.cleaned_data.get("account"),
                    item=form.cleaned_data.get("item"),
                    tax_rate=form.cleaned_data.get("tax_rate"),
                    tracking_options=list(form.cleaned_data.get("tracking_options") or []),
                )
                for form in line_forms
            ],
        )
        problems = invoice_save_problems(data=data, invoice=invoice if invoice.pk else None)
        if not problems:
            self.invoice_data = data
            return
        general = []
        for problem in problems:
            if not _show_at_field(problem, main=main, line_forms=line_forms):
                general.append(problem.message)
        raise ValidationError(
            general or ["The invoice was not saved: correct the fields marked below."]
        )


def _show_at_field(problem, *, main, line_forms) -> bool:
    """Put the problem's message on the form field its path names; False if there is none."""
    match = _PATH.match(problem.field)
    if match is None:
        return False
    head, index, rest = match["head"], match["index"], match["rest"]
    if head == "lines" and index is not None:
        position = int(index)
        if position >= len(line_forms):
            return False
        form = line_forms[position]
        name = LINE_FIELDS.get(rest or "")
        if name and name in form.fields:
            form.add_error(name, problem.message)
        else:
            form.add_error(None, problem.message)
        return True
    name = INVOICE_FIELDS.get(head)
    if name and name in main.fields:
        main.add_error(name, problem.message)
        return True
    return False


class InvoiceLineInline(ConnectionScopedFields, admin.TabularInline):
    model = InvoiceLine
    formset = InvoiceLineFormSet
    fields = (
        "description",
        "quantity",
        "unit_amount",
        "discount_percentage",
        "account",
        "item",
        "tax_rate",
        "tracking_options",
    )
    autocomplete_fields = ("account", "item", "tax_rate", "tracking_options")
    # Two lines of text in the line's first row (invoice.css lays a line out in two rows).
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    extra = 1
    min_num = 0

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("account", "item", "tax_rate")
            .prefetch_related("tracking_options__category")
        )

    def get_formset(self, request, obj=None, **kwargs):
        connection = obj.connection if obj is not None else _connection_from_query(request)
        kwargs["formfield_callback"] = partial(
            self.formfield_for_dbfield, request=request, connection=connection
        )
        return super().get_formset(request, obj, **kwargs)


class PushStateFilter(admin.SimpleListFilter):
    title = "push state"
    parameter_name = "push_state"

    def lookups(self, request, model_admin):
        return [(state.key, state.label) for state in PushState]

    def queryset(self, request, queryset):
        if self.value():
            return invoices_in_push_state(queryset, state=self.value())
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ConnectionScopedFields, admin.ModelAdmin):
    form = InvoiceForm
    inlines = (InvoiceLineInline,)
    list_display = (
        "__str__",
        "customer",
        "connection",
        "posted_date",
        "due_date",
        "push_state",
        "updated_at",
    )
    list_select_related = ("connection", "customer")
    list_filter = ("connection", PushStateFilter, "posted_date", "due_date")
    search_fields = ("invoice_number", "customer__name", "memo")
    date_hierarchy = None
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ("customer", "subsidiaries")
    actions = (
        "refresh_push_options",
        push_records_action,
        push_update_action,
        push_delete_action,
    )
    has_push_permission = has_push_permission
    change_form_template = "admin/pushes/invoice/change_form.html"
    readonly_fields = (
        "connection_name",
        "totals",
        "push_state",
        "provider_record_id",
        "last_pushed_at",
        "ready_to_push",
        "provider_rules",
        "payload_preview",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    fieldsets = (
        (None, {"fields": ("connection_name", "status", "customer", "invoice_number")}),
        (
            "Dates and currency",
            {"fields": ("posted_date", "due_date", "currency", "currency_rate")},
        ),
        (None, {"fields": ("memo", "subsidiaries")}),
    )
    change_fieldsets = (
        ("Totals", {"fields": ("totals",)}),
        (
            "Accounting system",
            {
                "fields": (
                    "push_state",
                    "provider_record_id",
                    "last_pushed_at",
                    "ready_to_push",
                    "provider_rules",
                    "payload_preview",
                )
            },
        ),
        ("History", {"fields": ("created_at", "created_by", "updated_at", "updated_by")}),
    )

    class Media:
        css = {"all": ("pushes/invoice.css",)}
        # After django.jQuery exists: the totals follow the autocompletes through its events.
        js = (
            "admin/js/vendor/jquery/jquery.min.js",
            "admin/js/jquery.init.js",
            "pushes/invoice_totals.js",
        )

    # --- pages ----------------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{info[0]}_{info[1]}_preview",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        connection = _connection_from_query(request)
        if connection is None or not connection.can_push:
            return self.choose_connection_view(request, chosen=connection)
        extra_context = {**(extra_context or {}), "invoice_connection": connection}
        return super().add_view(request, form_url, extra_context)

    def choose_connection_view(self, request, *, chosen: Connection | None):
        error = ""
        if AUTOCOMPLETE_CONNECTION_PARAM in request.GET and chosen is None:
            error = "That connection does not exist; choose one below."
        elif chosen is not None:
            error = f"{chosen} cannot take invoices now: it is {chosen.status}."
        add_url = reverse("admin:pushes_invoice_add")
        context = {
            **self.admin_site.each_context(request),
            "title": "Add invoice: choose the connection",
            "opts": self.opts,
            "error": error,
            "choices": [
                (
                    choice,
                    f"{add_url}?{urlencode({AUTOCOMPLETE_CONNECTION_PARAM: choice.connection.pk})}",
                )
                for choice in connections_for_invoice()
            ],
        }
        return TemplateResponse(request, "admin/pushes/invoice/choose_connection.html", context)

    def preview_view(self, request, pk: int):
        invoice = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_or_change_permission(request, invoice):
            return JsonResponse({"error": "not allowed"}, status=403)
        return JsonResponse(invoice_payload(invoice=invoice), json_dumps_params={"indent": 2})

    # --- form -----------------------------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("connection", "customer")
        return invoices_with_push_state(queryset)

    def has_delete_permission(self, request, obj=None):
        # The push history would go with it, and the accounting system would keep its copy.
        if obj is not None and (obj.last_pushed_at or obj.push_requests.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        invoice = super().get_object(request, object_id, from_field)
        if invoice is not None:
            invoice = invoices_with_push_state(
                Invoice.objects.select_related(
                    "connection", "customer", "created_by", "updated_by"
                ).prefetch_related("subsidiaries", invoice_lines_prefetch())
            ).get(pk=invoice.pk)
        return invoice

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets + (self.change_fieldsets if obj is not None else ())

    def get_form(self, request, obj=None, change=False, **kwargs):
        connection = obj.connection if obj is not None else _connection_from_query(request)
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
        lines = next(f for f in formsets if isinstance(f, InvoiceLineFormSet))
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        data = lines.invoice_data
        try:
            if change:
                saved = invoice_update(invoice=form.instance, data=data, user=request.user)
            else:
                saved = invoice_create(data=data, user=request.user)
        except InvoiceInvalid as error:
            # Only a write racing this one gets here (the form checked the same rules).
            messages.error(request, f"The invoice was not saved: {error}")
            raise
        obj = form.instance
        for field in Invoice._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
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
            invoices = sum(len(row.options) for row in kept if row.data_type == "invoices")
            self.message_user(
                request,
                f"{connection}: push rules fetched for {len(kept)} data type and operation "
                f"pair(s) ({invoices} entries for invoices).",
                messages.SUCCESS,
            )

    # --- read-only fields -----------------------------------------------------------------

    @admin.display(description="connection")
    def connection_name(self, obj):
        return str(obj.connection) if obj is not None and obj.connection_id else "—"

    @admin.display(description="push state", ordering="last_pushed_at")
    def push_state(self, obj):
        state = invoice_push_state(obj)
        return format_html(
            '<span class="push-state push-state--{}">{}</span>', state.colour, state.label
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
            '<table class="invoice-totals" data-currency="{}">{}</table>',
            totals.currency,
            format_html_join(
                "",
                '<tr><th>{}</th><td data-total="{}">{} {}</td><td>{}</td></tr>',
                ((label, key, totals.currency, amount, note) for label, amount, key, note in rows),
            ),
        )

    @admin.display(description="ready to push")
    def ready_to_push(self, obj):
        problems = invoice_validate(invoice=obj)
        # Without the provider's rules, passing every check railzpush has is not "ready".
        unchecked = push_rules_unchecked(
            connection=obj.connection, data_type="invoices", operation=push_operation_for(obj)
        )
        if not problems:
            if unchecked:
                return format_html('<p class="invoice-unchecked">{}</p>', unchecked)
            provider = provider_label(obj.connection.service_name)
            return f"Yes: every check passes, {provider}'s push rules included."
        listed = format_html(
            '<ul class="invoice-problems">{}</ul>',
            format_html_join(
                "", "<li><code>{}</code> {}</li>", ((p.field, p.message) for p in problems)
            ),
        )
        if unchecked:
            return format_html('{}<p class="invoice-unchecked">{}</p>', listed, unchecked)
        return listed

    @admin.display(description="provider rules")
    def provider_rules(self, obj):
        operation = push_operation_for(obj)
        kept = push_options_kept(
            connection=obj.connection_id, data_type="invoices", operation=operation
        )
        if kept is None:
            return push_rules_unchecked(
                connection=obj.connection, data_type="invoices", operation=operation
            )
        return f"pushOptions fetched {kept.fetched_at:%Y-%m-%d %H:%M} UTC (for the {operation})."

    @admin.display(description="request body (POST /v2/accounting/invoices)")
    def payload_preview(self, obj):
        body = json.dumps(invoice_payload(invoice=obj), indent=2, ensure_ascii=False)
        url = reverse("admin:pushes_invoice_preview", args=[obj.pk])
        return format_html(
            '<pre class="invoice-payload">{}</pre><a href="{}">Open as JSON</a>', body, url
        )
