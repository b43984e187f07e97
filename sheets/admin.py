"""Spreadsheet imports in the admin: upload, preview, confirm, push all ready, download the result.

The pages are thin: the services check and write; the preview is what `sheets.services` stored.
"Push all ready" hands the created ready records to the type's own list action, which shows
its usual preview of what will be pushed before anything is sent.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from pushes import registry
from refs.models import Connection
from sheets.blanks import blank_response
from sheets.checking import Outcome
from sheets.models import SheetImport
from sheets.reading import FileRefused
from sheets.services import (
    RESULT_HEADERS,
    NotConfirmable,
    import_confirm,
    import_created_ids,
    import_result_rows,
    import_start,
)
from sheets.writing import FORMATS, rows_response


def _type_choices() -> list[tuple[str, str]]:
    return [(p.data_type, p.spec.label_plural) for p in registry.pushables()]


class UploadForm(forms.Form):
    connection = forms.ModelChoiceField(
        queryset=Connection.objects.all(), label="Business", empty_label="Choose the business"
    )
    data_type = forms.ChoiceField(label="Records in the file", choices=())
    file = forms.FileField(
        label="Spreadsheet",
        help_text="A CSV (UTF-8, comma-separated) or an Excel workbook (.xlsx).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data_type"].choices = _type_choices()


@admin.register(SheetImport)
class SheetImportAdmin(admin.ModelAdmin):
    list_display = ("id", "file_name", "type_label", "connection", "state", "counts", "created_at")
    list_display_links = ("file_name",)
    list_filter = ("state", "data_type")
    list_select_related = ("connection",)
    show_full_result_count = False
    exclude = ("content",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def has_change_permission(self, request, obj=None):
        return False  # an import is looked at, confirmed or left, never edited

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/confirm/", view(self.confirm_view), name="sheets_sheetimport_confirm"),
            path(
                "<int:pk>/result/<str:file_format>/",
                view(self.result_view),
                name="sheets_sheetimport_result",
            ),
            path(
                "template/<str:data_type>/<str:file_format>/",
                view(self.template_view),
                name="sheets_sheetimport_template",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="type")
    def type_label(self, obj):
        return registry.for_data_type(obj.data_type).spec.label_plural

    @admin.display(description="ready · drafts · problems · existing")
    def counts(self, obj):
        counts = (obj.preview or {}).get("counts") or {}
        if not counts:
            return obj.refusal[:80] if obj.refusal else "—"
        return " · ".join(
            str(counts.get(k, 0))
            for k in (Outcome.READY, Outcome.DRAFT, Outcome.PROBLEM, Outcome.EXISTS)
        )

    # --- pages ----------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {k: request.GET.get(k) for k in ("connection", "data_type") if request.GET.get(k)}
        form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                sheet_import = import_start(
                    connection=form.cleaned_data["connection"],
                    data_type=form.cleaned_data["data_type"],
                    file_name=upload.name,
                    content=_read_upload(upload),
                    user=request.user,
                )
            except FileRefused as exc:
                form.add_error("file", exc.message)
            else:
                return HttpResponseRedirect(
                    reverse("admin:sheets_sheetimport_change", args=[sheet_import.pk])
                )
        templates = [
            (
                label,
                [
                    (fmt.upper(), reverse("admin:sheets_sheetimport_template", args=[dt, fmt]))
                    for fmt in FORMATS
                ],
            )
            for dt, label in _type_choices()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import records from a spreadsheet",
            "form": form,
            "templates": templates,
        }
        return TemplateResponse(request, "admin/sheets/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        sheet_import = get_object_or_404(
            SheetImport.objects.defer("content").select_related("connection"), pk=object_id
        )
        spec = registry.for_data_type(sheet_import.data_type).spec
        preview = sheet_import.preview or {}
        ready_ids = import_created_ids(sheet_import, outcome=Outcome.READY)
        model_opts = spec.model_class._meta
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import of {sheet_import.file_name or 'a spreadsheet'}",
            "sheet_import": sheet_import,
            "spec": spec,
            "preview": preview,
            "counts": preview.get("counts") or {},
            "working": sheet_import.state
            in (SheetImport.State.CHECKING, SheetImport.State.IMPORTING),
            "results": [
                (
                    fmt.upper(),
                    reverse("admin:sheets_sheetimport_result", args=[sheet_import.pk, fmt]),
                )
                for fmt in FORMATS
            ],
            "reupload_url": reverse("admin:sheets_sheetimport_add")
            + f"?connection={sheet_import.connection_id}&data_type={sheet_import.data_type}",
            "ready_ids": ready_ids,
            "push_url": reverse(f"admin:{model_opts.app_label}_{model_opts.model_name}_changelist"),
            "list_url": reverse(f"admin:{model_opts.app_label}_{model_opts.model_name}_changelist")
            + f"?connection__id__exact={sheet_import.connection_id}",
            "can_confirm": sheet_import.state == SheetImport.State.CHECKED
            and _can_create(request, spec)
            and any(preview.get("counts", {}).get(k) for k in (Outcome.READY, Outcome.DRAFT)),
        }
        return TemplateResponse(request, "admin/sheets/preview.html", context)

    def confirm_view(self, request, pk: int):
        sheet_import = get_object_or_404(SheetImport.objects.defer("content"), pk=pk)
        spec = registry.for_data_type(sheet_import.data_type).spec
        if request.method != "POST" or not _can_create(request, spec):
            raise PermissionDenied
        try:
            sheet_import = import_confirm(sheet_import=sheet_import, user=request.user)
        except NotConfirmable as exc:
            messages.error(request, exc.message)
        else:
            if sheet_import.state == SheetImport.State.DONE:
                created = sheet_import.preview.get("created", 0)
                messages.success(
                    request, f"{created} {spec.label_plural.lower()} created from the file."
                )
        return HttpResponseRedirect(reverse("admin:sheets_sheetimport_change", args=[pk]))

    def result_view(self, request, pk: int, file_format: str):
        if file_format not in FORMATS or not self.has_view_permission(request):
            raise Http404
        sheet_import = get_object_or_404(SheetImport.objects.defer("content"), pk=pk)
        stem = (sheet_import.file_name.rsplit(".", 1)[0] or "import")[:80]
        return rows_response(
            RESULT_HEADERS,
            import_result_rows(sheet_import),
            file_format=file_format,
            file_name=f"{stem}-result",
            title="Result",
        )

    def template_view(self, request, data_type: str, file_format: str):
        if file_format not in FORMATS or data_type not in dict(_type_choices()):
            raise Http404
        return blank_response(data_type, file_format=file_format)


def _can_create(request, spec) -> bool:
    opts = spec.model_class._meta
    return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")


def _read_upload(upload) -> bytes:
    from django.conf import settings

    limit = settings.IMPORT_MAX_FILE_BYTES
    if upload.size > limit:
        # Read no further than the limit: the size alone is the answer.
        return upload.read(limit + 1)
    return upload.read()
