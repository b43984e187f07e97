"""Any record list and the push history as CSV or XLSX, as the list shows them now.

The admin's lists get "Export CSV" and "Export XLSX" links that carry the list's filters and
search: the export reads the change list's own queryset, so it holds exactly the rows the list
holds, every page of them. Rows are read in chunks (`iterator`) and written as they come
(`sheets.writing`), so 100,000 rows never sit in memory. A record's row says its push state,
its provider id, who pushed it last, when, and the refusal in words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils import timezone

from pushes.dashboard import push_problem_in_words
from pushes.models import PushRequest
from pushes.selectors import record_push_state, records_with_push_state
from pushes.spec import DocumentSpec, Kind
from sheets.writing import FORMATS, rows_response

__all__ = ["CHUNK", "ExportMixin", "push_export_rows", "record_export_rows"]

CHUNK = 2000
_LATEST = (
    "requested_by__username",
    "created_at",
    "completed_on",
    "state",
    "validation_errors",
    "last_error",
    "reconcile_note",
    "sent_at",
)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "all"):
        return "; ".join(str(row) for row in value.all())
    if hasattr(value, "_meta"):
        return str(value)
    return value


def _refusal(values: dict[str, Any]) -> str:
    if values.get("state") not in (
        PushRequest.State.FAILED,
        PushRequest.State.REJECTED,
        PushRequest.State.UNKNOWN,
    ):
        return ""
    push = PushRequest(
        state=values["state"],
        validation_errors=values.get("validation_errors") or [],
        last_error=values.get("last_error") or "",
        reconcile_note=values.get("reconcile_note") or "",
        sent_at=values.get("sent_at"),
    )
    return push_problem_in_words(push)


def record_export_rows(queryset, spec: DocumentSpec) -> tuple[list[str], Iterator[list[Any]]]:
    """The headers and rows of a record list: its fields by label, then its push facts."""
    fields = list(spec.fields)
    headers = [
        "Id",
        "Business",
        *(f.label for f in fields),
        "Status",
        "Push state",
        "Provider id",
        "Last pushed by",
        "Last push at",
        "Refusal",
    ]
    latest = PushRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(queryset.model), object_id=OuterRef("pk")
    ).order_by("-created_at", "-pk")
    queryset = records_with_push_state(queryset).annotate(
        **{f"latest_{name}": Subquery(latest.values(name)[:1]) for name in _LATEST}
    )
    single = [f.name for f in fields if f.kind is Kind.REF]
    many = [f.name for f in fields if f.kind in (Kind.REFS, Kind.TRACKING)]
    queryset = queryset.select_related("connection", *single).prefetch_related(*many)

    def rows() -> Iterator[list[Any]]:
        for record in queryset.iterator(chunk_size=CHUNK):
            latest_values = {name: getattr(record, f"latest_{name}") for name in _LATEST}
            yield [
                record.pk,
                str(record.connection),
                *(_cell(getattr(record, f.name)) for f in fields),
                record.status,
                record_push_state(record).label,
                record.provider_record_id,
                latest_values["requested_by__username"] or "",
                _local(latest_values["created_at"]),
                _refusal(latest_values),
            ]

    return headers, rows()


def _local(value):
    return timezone.localtime(value).replace(microsecond=0) if value else ""


def push_export_rows(queryset) -> tuple[list[str], Iterator[list[Any]]]:
    """The headers and rows of the push history."""
    headers = [
        "Push id",
        "Created",
        "Business",
        "Record type",
        "Record id",
        "Operation",
        "State",
        "Provider id",
        "Push communication id",
        "Pushed by",
        "Completed",
        "Attempts",
        "Refusal",
    ]
    queryset = queryset.select_related("connection", "requested_by")

    def rows() -> Iterator[list[Any]]:
        for push in queryset.iterator(chunk_size=CHUNK):
            yield [
                push.pk,
                _local(push.created_at),
                str(push.connection),
                push.data_type,
                push.object_id,
                push.operation,
                push.state,
                push.provider_record_id,
                push.push_communication_id,
                push.requested_by.get_username() if push.requested_by else "",
                _local(push.completed_on),
                push.attempts,
                push_problem_in_words(push) if push.state not in PushRequest.IN_FLIGHT[:3] else "",
            ]

    return headers, rows()


class ExportMixin:
    """Adds "Export CSV / XLSX" to an admin list, with the list's current filters and search."""

    change_list_template = "admin/sheets/change_list_export.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/<str:file_format>/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        info = self.opts.app_label, self.opts.model_name
        query = request.GET.urlencode()
        links = [
            (
                file_format.upper(),
                reverse("admin:{}_{}_export".format(*info), args=[file_format])
                + (f"?{query}" if query else ""),
            )
            for file_format in FORMATS
        ]
        extra_context = {**(extra_context or {}), "export_links": links}
        return super().changelist_view(request, extra_context=extra_context)

    def export_rows(self, queryset):
        spec = getattr(self, "spec", None)
        if spec is not None:
            return record_export_rows(queryset, spec)
        return push_export_rows(queryset)

    def export_view(self, request, file_format: str):
        if file_format not in FORMATS:
            raise Http404("Exports are CSV or XLSX.")
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                "The list's filters are not valid any more; open the list again and export from "
                "there.",
                content_type="text/plain; charset=utf-8",
            )
        queryset = changelist.get_queryset(request)
        headers, rows = self.export_rows(queryset)
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        return rows_response(
            headers,
            rows,
            file_format=file_format,
            file_name=f"{self.opts.verbose_name_plural.replace(' ', '-')}-{stamp}",
            title=str(self.opts.verbose_name_plural)[:31],
        )
