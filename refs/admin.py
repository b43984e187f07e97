"""Read-only admin of the reference-data mirror: the data belongs to the accounting system.

Autocomplete for a composer's dropdown: Django's autocomplete view
`/admin/autocomplete/?app_label=…&model_name=…&field_name=…&term=…` also reads
`connection=<Connection id or connection_uuid>`; with it, only that connection's active rows
(not archived here, not archived in Railz) are offered. Without it, active rows of every
connection are offered.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from refs.models import (
    Account,
    Connection,
    Currency,
    Customer,
    Item,
    Location,
    OpenBill,
    OpenBillCreditNote,
    OpenInvoice,
    OpenInvoiceCreditNote,
    PaymentMethod,
    Subsidiary,
    SyncRun,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    Vendor,
)
from refs.selectors import (
    connection_ref_counts,
    connection_sync_progress,
    open_documents,
    sync_runs_latest,
)
from refs.services import connections_sync_enqueue

# Beyond this many rows a changelist says "10,000+" instead of counting the whole table.
COUNT_CAP = 10_000
AUTOCOMPLETE_CONNECTION_PARAM = "connection"
# The mirror is stale when its last good sync is older than this many sync intervals.
STALE_AFTER_INTERVALS = 2


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows: `SELECT COUNT(*) FROM (… LIMIT n)` stays cheap on a
    100,000-row table, and nobody pages past page 100 instead of searching."""

    @cached_property
    def count(self):
        # Only the keys: a list's per-row annotations (a record's latest push) are not
        # computed for the rows it merely counts.
        return self.object_list.order_by().values("pk")[: COUNT_CAP + 1].count()


class PeekPaginator(Paginator):
    """For autocomplete: counts only one row past the requested page, which is all "more
    results?" needs, so a rare search term does not scan the connection twice."""

    def __init__(self, *args, page: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.page_wanted = page

    @cached_property
    def count(self):
        return self.object_list.order_by()[: self.page_wanted * self.per_page + 1].count()


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return (("no", "Live"), ("yes", "No longer returned by Railz"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class BusinessFilter(admin.SimpleListFilter):
    """One business's reference data at a time: customers of different businesses mixed
    together help nobody. `all` shows every business's."""

    title = "business"
    parameter_name = "business"
    ALL = "all"

    def lookups(self, request, model_admin):
        choices = [
            (str(pk), name or uuid)
            for pk, name, uuid in Connection.objects.exclude(
                status=Connection.Status.REMOVED
            ).values_list("pk", "business_name", "connection_uuid")
        ]
        return [*choices, (self.ALL, "All businesses")]

    def choices(self, changelist):
        # No "All" link of Django's own: without a choice the list opens on the remembered one.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value and value != self.ALL and value.isdigit():
            return queryset.filter(connection_id=int(value))
        return queryset


BUSINESS_SESSION_KEY = "refs_business"


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "remote_id", "status", "connection", "archived_at", "synced_at")
    list_filter = (BusinessFilter, "status", ArchivedFilter)
    list_select_related = ("connection",)
    search_fields = ("name", "=remote_id")
    ordering = ("name",)
    readonly_fields = ("raw_pretty",)
    exclude = ("raw",)

    def changelist_view(self, request, extra_context=None):
        """Opens on the business chosen last (remembered for the session), or the first."""
        chosen = request.GET.get(BusinessFilter.parameter_name)
        if chosen:
            request.session[BUSINESS_SESSION_KEY] = chosen
            return super().changelist_view(request, extra_context)
        remembered = request.session.get(BUSINESS_SESSION_KEY)
        live = Connection.objects.exclude(status=Connection.Status.REMOVED)
        if remembered != BusinessFilter.ALL and not (
            remembered and remembered.isdigit() and live.filter(pk=int(remembered)).exists()
        ):
            first = live.order_by("business_name", "pk").values_list("pk", flat=True).first()
            remembered = str(first) if first is not None else None
        if remembered is None:
            return super().changelist_view(request, extra_context)
        query = request.GET.copy()
        query[BusinessFilter.parameter_name] = remembered
        return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")

    @admin.display(description="Railz record")
    def raw_pretty(self, obj):
        import json

        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, sort_keys=True))

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if _is_autocomplete(request):
            return PeekPaginator(
                queryset,
                per_page,
                orphans,
                allow_empty_first_page,
                page=_autocomplete_page(request.GET.get("page", "1")),
            )
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def get_search_results(self, request, queryset, search_term):
        if _is_autocomplete(request):
            queryset = queryset.active()
            connection = request.GET.get(AUTOCOMPLETE_CONNECTION_PARAM, "").strip()
            if connection:
                queryset = queryset.filter(**_connection_lookup(connection))
        return super().get_search_results(request, queryset, search_term)


def _autocomplete_page(value: str) -> int:
    """The page to peek past. A number nobody pages to (past COUNT_CAP) peeks at the first,
    and Django's view then answers 404 for the page asked: `?page=2**70` never reaches the
    database as an offset no integer column holds."""
    if value.isdigit() and len(value) <= 9 and 0 < int(value) <= COUNT_CAP:
        return int(value)
    return 1


def _is_autocomplete(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name == "autocomplete"


def _connection_lookup(value: str) -> dict:
    if value.upper().startswith("CON-"):
        return {"connection__connection_uuid": value}
    # A bigint holds no more; a bigger number would overflow in the database driver.
    if not value.isdigit() or len(value) > 19 or int(value) > 2**63 - 1:
        raise BadRequest(
            f"{AUTOCOMPLETE_CONNECTION_PARAM} must be a connection id (a whole number) or a "
            f"connection_uuid (CON-…); got {value[:60]!r}"
        )
    return {"connection_id": int(value)}


@admin.register(Customer, Vendor)
class PartyAdmin(RefAdmin):
    list_display = (
        "name",
        "email",
        "currency",
        "remote_id",
        "status",
        "connection",
        "archived_at",
        "compose_change",
    )
    search_fields = ("name", "=remote_id", "email")
    autocomplete_fields = ()

    @admin.display(description="change it")
    def compose_change(self, obj):
        # The pushes composer of this kind of party (by URL name: refs imports no app above it)
        # opens the record that changes this row in the accounting system.
        try:
            url = reverse(f"admin:pushes_{obj._meta.model_name}record_add")
        except NoReverseMatch:
            return ""
        query = urlencode({"connection": obj.connection_id, "edits": obj.pk})
        return format_html('<a href="{}?{}">Compose a change</a>', url, query)


@admin.register(OpenInvoice, OpenBill, OpenInvoiceCreditNote, OpenBillCreditNote)
class OpenDocumentAdmin(RefAdmin):
    list_display = (
        "name",
        "party_remote_id",
        "posted_date",
        "due_date",
        "currency",
        "total_amount",
        "amount_due",
        "amount_due_is_local",
        "document_status",
        "connection",
        "archived_at",
    )
    list_filter = ("connection", "document_status", ArchivedFilter)
    search_fields = ("name", "=remote_id", "=party_remote_id")
    ordering = ("posted_date", "remote_id")

    def get_search_results(self, request, queryset, search_term):
        # A payment's autocomplete offers what can still be paid, oldest first.
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if _is_autocomplete(request):
            queryset = queryset.filter(open_documents()).order_by("posted_date", "remote_id")
            # Once the payment's customer (or vendor) is chosen, only theirs (its row id).
            party = request.GET.get("party", "")
            if party.isdigit() and len(party) <= 18:
                party_model = queryset.model._meta.get_field(
                    queryset.model.party_field
                ).related_model
                remote_ids = party_model.objects.filter(pk=int(party)).values("remote_id")
                queryset = queryset.filter(party_remote_id__in=remote_ids)
        return queryset, duplicates


# Accounts a document's line cannot post to: the bank, and the control accounts of payables
# and receivables the accounting system books itself.
_NOT_POSTABLE_TYPES = ("payable", "receivable")


@admin.register(Account)
class AccountAdmin(RefAdmin):
    list_display = ("code", "name", "account_type", "classification", "status", "connection")
    list_filter = (BusinessFilter, "status", ArchivedFilter, "classification", "account_type")
    search_fields = ("name", "^code", "=remote_id")
    ordering = ("code", "name")

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if _is_autocomplete(request) and request.GET.get("postable") == "1":
            # A record's line: offer only what it can post to.
            queryset = queryset.exclude(is_bank_account=True)
            for word in _NOT_POSTABLE_TYPES:
                queryset = queryset.exclude(account_type__icontains=word)
        return queryset, distinct


@admin.register(TaxRate)
class TaxRateAdmin(RefAdmin):
    list_display = ("__str__", "code", "effective_rate", "total_rate", "status", "connection")
    search_fields = ("name", "^code", "=remote_id")


@admin.register(Item)
class ItemAdmin(RefAdmin):
    list_display = ("code", "name", "item_type", "unit_price", "status", "connection")
    list_filter = (BusinessFilter, "status", ArchivedFilter, "item_type")
    search_fields = ("name", "^code", "=remote_id")


@admin.register(TrackingCategory)
class TrackingCategoryAdmin(RefAdmin):
    list_display = ("name", "category_type", "remote_id", "status", "connection")
    list_filter = (BusinessFilter, "status", ArchivedFilter, "category_type")


@admin.register(TrackingOption)
class TrackingOptionAdmin(RefAdmin):
    list_display = ("__str__", "remote_id", "status", "connection", "archived_at")
    list_filter = (BusinessFilter, "status", ArchivedFilter, "category__category_type")
    list_select_related = ("connection", "category")
    search_fields = ("name", "=remote_id", "category__name")

    def get_queryset(self, request):
        # The dropdown label names the category too.
        return super().get_queryset(request).select_related("category")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(RefAdmin):
    list_display = ("name", "method_type", "remote_id", "status", "connection")
    list_filter = (BusinessFilter, "status", ArchivedFilter, "method_type")


@admin.register(Subsidiary, Location)
class BusinessInfoRefAdmin(RefAdmin):
    pass


@admin.register(Currency)
class CurrencyAdmin(RefAdmin):
    list_display = ("code", "name", "is_base_currency", "status", "connection")
    search_fields = ("name", "^code", "=remote_id")
    ordering = ("code",)


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = (
        "business_name",
        "service_name",
        "status",
        "pushable",
        "freshness",
        "last_sync",
        "last_run",
    )
    list_filter = ("status", "service_name")
    search_fields = ("business_name", "=connection_uuid", "business_uuid")
    actions = ("sync_now",)
    fields = (
        "business_name",
        "connection_uuid",
        "business_uuid",
        "service_name",
        "status",
        "disconnect_reason",
        "base_currency",
        "last_synced_at",
        "batch_pushes",
        "sync_progress",
        "reference_data",
    )
    # Everything comes from Railz except whether pushes to it go out in batches.
    readonly_fields = tuple(f for f in fields if f != "batch_pushes")

    class Media:
        js = ("refs/connection_sync.js",)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/sync-now/",
                self.admin_site.admin_view(self.sync_now_view),
                name=f"{info[0]}_{info[1]}_sync_now",
            ),
            path(
                "<int:pk>/sync-status/",
                self.admin_site.admin_view(self.sync_status_view),
                name=f"{info[0]}_{info[1]}_sync_status",
            ),
            *super().get_urls(),
        ]

    def _viewable_connection(self, request, pk: int):
        connection = get_object_or_404(self.get_queryset(request), pk=pk)
        return connection if self.has_view_permission(request, connection) else None

    def sync_now_view(self, request, pk: int):
        """Queue a sync of one connection; answers when it was asked, for the status polls."""
        if request.method != "POST":
            return JsonResponse(
                {"field": "method", "rule": "post", "message": "Send a POST to start a sync."},
                status=405,
            )
        connection = self._viewable_connection(request, pk)
        if connection is None:
            return JsonResponse({"error": "not allowed"}, status=403)
        since = timezone.now()
        connections_sync_enqueue(connections=[connection])
        status_url = reverse("admin:refs_connection_sync_status", args=[connection.pk])
        return JsonResponse(
            {
                "since": since.isoformat(),
                "status_url": f"{status_url}?{urlencode({'since': since.isoformat()})}",
                "types": connection_sync_progress(connection=connection, since=since),
            }
        )

    def sync_status_view(self, request, pk: int):
        """Each reference type's state: of the sync asked for at `since`, else the last one."""
        connection = self._viewable_connection(request, pk)
        if connection is None:
            return JsonResponse({"error": "not allowed"}, status=403)
        since = None
        if request.GET.get("since"):
            try:
                since = parse_datetime(request.GET["since"])
            except ValueError:
                since = None
            if since is None:
                return JsonResponse(
                    {
                        "field": "since",
                        "rule": "datetime",
                        "message": "since must be a date and time, e.g. 2026-11-30T21:00:00Z.",
                    },
                    status=400,
                )
        types = connection_sync_progress(connection=connection, since=since)
        finished = all(row["state"] not in ("waiting", "syncing") for row in types)
        return JsonResponse({"finished": finished, "types": types})

    @admin.display(description="sync now")
    def sync_progress(self, obj):
        if obj is None or obj.pk is None:
            return ""
        return format_html(
            '<div class="refs-sync" data-sync-url="{}" data-status-url="{}">'
            '<button type="button" class="button refs-sync__start">Sync now</button> '
            '<span class="refs-sync__said" role="status" aria-live="polite"></span>'
            '<table class="refs-sync__types" hidden><thead><tr><th scope="col">reference type'
            '</th><th scope="col">state</th><th scope="col">result</th></tr></thead>'
            "<tbody></tbody></table></div>",
            reverse("admin:refs_connection_sync_now", args=[obj.pk]),
            reverse("admin:refs_connection_sync_status", args=[obj.pk]),
        )

    def has_change_permission(self, request, obj=None):
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_queryset(self, request):
        latest = SyncRun.objects.filter(connection=OuterRef("pk")).order_by("-started_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_run_type=Subquery(latest.values("data_type")[:1]),
                last_run_status=Subquery(latest.values("status")[:1]),
            )
        )

    @admin.display(boolean=True, description="can push")
    def pushable(self, obj):
        return obj.can_push

    @admin.display(description="freshness", ordering="last_synced_at")
    def freshness(self, obj):
        """Whether the mirror can be trusted to compose with: synced within two intervals."""
        if obj.last_synced_at is None:
            words, tone = "Never synced", "red"
        elif getattr(obj, "last_run_status", None) == SyncRun.Status.FAILED:
            words, tone = "Last sync failed", "red"
        elif timezone.now() - obj.last_synced_at > timedelta(
            minutes=settings.REFS_SYNC_INTERVAL_MINUTES * STALE_AFTER_INTERVALS
        ):
            words, tone = "Stale", "orange"
        else:
            words, tone = "Fresh", "green"
        return format_html('<span class="push-state push-state--{}">{}</span>', tone, words)

    @admin.display(description="last sync", ordering="last_synced_at")
    def last_sync(self, obj):
        if obj.last_synced_at is None:
            return "never"
        return format_html(
            '{} ago<span class="record-list__when">{}</span>',
            timesince(obj.last_synced_at).split(",")[0],
            f"{timezone.localtime(obj.last_synced_at):%-d %b %H:%M}",
        )

    @admin.display(description="last sync run")
    def last_run(self, obj):
        if not getattr(obj, "last_run_type", None):
            return "never synced"
        status = SyncRun.Status(obj.last_run_status).label
        return f"{obj.last_run_type}: {status}"

    @admin.display(description="reference data")
    def reference_data(self, obj):
        runs = {run.data_type: run for run in sync_runs_latest(connection=obj)}
        run_rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} new, {} changed, {} unchanged, "
            "{} archived, {} skipped</td><td>{}</td></tr>",
            (
                (
                    run.data_type,
                    run.get_status_display(),
                    f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                    run.created,
                    run.updated,
                    run.unchanged,
                    run.archived,
                    run.skipped,
                    run.error,
                )
                for run in runs.values()
            ),
        )
        count_rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            connection_ref_counts(connection=obj),
        )
        return format_html(
            '<table class="refs-runs"><thead><tr><th>type</th><th>last run</th><th>started</th>'
            "<th>rows</th><th>error</th></tr></thead><tbody>{}</tbody></table>"
            '<table class="refs-counts"><thead><tr><th>rows</th><th>live</th><th>archived</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            run_rows or mark_safe("<tr><td colspan=5>never synced</td></tr>"),
            count_rows,
        )

    @admin.action(description="Sync now (in the background)")
    def sync_now(self, request, queryset):
        queued = connections_sync_enqueue(connections=queryset)
        self.message_user(
            request,
            f"Queued a sync of the reference data of {queued} connection(s).",
            messages.SUCCESS,
        )


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "connection",
        "data_type",
        "status",
        "pages",
        "created",
        "updated",
        "unchanged",
        "archived",
        "skipped",
        "finished_at",
    )
    list_filter = ("status", "data_type", "connection")
    list_select_related = ("connection",)
    search_fields = ("=connection__connection_uuid", "error")
